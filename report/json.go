package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the whole report as one indented JSON document, under
// the model's field names. Ratios are not rounded; instants are RFC 3339,
// those of the month in its time zone, those of the cases in UTC.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // ticket URLs keep their & readable
	return enc.Encode(r)
}
