package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/support-sla/support_sla_exporter/sla"
)

// fieldNames are the fields of a record, in the order of the spec's example,
// which is also the order in which a record's errors are looked for.
var fieldNames = []string{
	"id", "key", "url", "customer", "tier", "severity", "status",
	"created", "first_response", "resolved", "timezone", "labels", "type",
	"status_history", "severity_history",
}

// labelSeparator splits the labels of a CSV cell. Not ';', which is the
// field delimiter of CSV in many European locales.
const labelSeparator = "|"

// textFields set a field from its text, as a CSV cell or a JSON string
// holds it. The empty string is absent (null).
var textFields = map[string]func(c *sla.Case, s string) error{
	"id":       func(c *sla.Case, s string) error { c.ID = s; return nil },
	"key":      func(c *sla.Case, s string) error { c.Key = s; return nil },
	"url":      func(c *sla.Case, s string) error { c.URL = s; return nil },
	"customer": func(c *sla.Case, s string) error { c.Customer = s; return nil },
	"tier":     func(c *sla.Case, s string) error { c.Tier = s; return nil },
	"timezone": func(c *sla.Case, s string) error { c.Timezone = s; return nil },
	"type":     func(c *sla.Case, s string) error { c.Type = s; return nil },
	"severity": func(c *sla.Case, s string) error {
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("must be a whole number from 1 to 4, not %s", quote(s))
		}
		c.Severity, err = severity(n)
		return err
	},
	"status": func(c *sla.Case, s string) error {
		var err error
		c.Status, err = status(s)
		return err
	},
	"created":        timeField(func(c *sla.Case) *time.Time { return &c.Created }),
	"first_response": timeField(func(c *sla.Case) *time.Time { return &c.FirstResponse }),
	"resolved":       timeField(func(c *sla.Case) *time.Time { return &c.Resolved }),
	"labels": func(c *sla.Case, s string) error {
		c.Labels = nil
		for l := range strings.SplitSeq(s, labelSeparator) {
			if l = strings.TrimSpace(l); l != "" {
				c.Labels = append(c.Labels, l)
			}
		}
		return nil
	},
}

func timeField(field func(c *sla.Case) *time.Time) func(c *sla.Case, s string) error {
	return func(c *sla.Case, s string) error {
		if s == "" {
			return nil
		}
		t, err := parseTime(s)
		*field(c) = t
		return err
	}
}

// parseTime parses an RFC 3339 instant, in UTC so that a case does not
// depend on the machine's local zone.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		// A local time is the usual mistake of exports: say so rather
		// than only that the format is wrong.
		if _, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
			return time.Time{}, fmt.Errorf("%s has no time zone offset (add Z for UTC, or one such as +01:00)", quote(s))
		}
		return time.Time{}, fmt.Errorf("%s is not an RFC 3339 time such as 2026-03-02T07:30:00Z", quote(s))
	}
	t = t.UTC()
	// The zero time is how a case says null, and placeholder dates such
	// as 1900-01-01 are not real instants either.
	if t.Year() < 1970 {
		return time.Time{}, fmt.Errorf("%s is before 1970", quote(s))
	}
	return t, nil
}

func severity(n int) (int, error) {
	if n < 1 || n > 4 {
		return 0, fmt.Errorf("%d is not between 1 and 4", n)
	}
	return n, nil
}

// status parses a required status.
func status(s string) (sla.Status, error) {
	if s == "" {
		return 0, errors.New("missing")
	}
	return sla.ParseStatus(s)
}

// caseFromJSON decodes one record. Whatever the error, the returned case
// holds the id when it could be read, so that the message can name it.
func caseFromJSON(raw []byte) (sla.Case, error) {
	var c sla.Case
	obj, err := jsonObject(raw)
	if err != nil {
		return c, err
	}
	// The id first, so that every later error names the case.
	if v, ok := obj["id"]; ok {
		s, err := jsonID(v)
		if err != nil {
			return c, fmt.Errorf("id: %w", err)
		}
		c.ID = s
	}
	if err := unknownKeys(obj, fieldNames, ""); err != nil {
		return c, err
	}
	// An absent member decodes as null, which a required field rejects.
	for _, name := range fieldNames[1:] {
		if err := setJSON(&c, name, obj[name]); err != nil {
			return c, err
		}
	}
	return c, nil
}

func setJSON(c *sla.Case, name string, v json.RawMessage) error {
	var err error
	switch name {
	case "severity":
		c.Severity, err = jsonSeverity(v)
	case "labels":
		c.Labels, err = jsonLabels(v)
	case "status_history":
		c.StatusHistory, err = statusHistory(v)
		return err // it names its own path
	case "severity_history":
		c.SeverityHistory, err = severityHistory(v)
		return err
	default:
		var s string
		if s, err = jsonText(v); err == nil {
			err = textFields[name](c, s)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// jsonObject decodes a JSON object into its members.
func jsonObject(raw []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	err := json.Unmarshal(raw, &obj)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return nil, fmt.Errorf("invalid JSON: %v", se)
	case err != nil || obj == nil:
		return nil, fmt.Errorf("must be a JSON object, not %s", short(raw))
	}
	return obj, nil
}

// unknownKeys reports the first member of obj, in name order, that is not
// one of known.
func unknownKeys(obj map[string]json.RawMessage, known []string, path string) error {
	var unknown []string
	for k := range obj {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	if path != "" {
		path += ": "
	}
	return fmt.Errorf("%sunknown field %s", path, quote(unknown[0]))
}

// isNull says whether a member is null or, when v is empty, absent.
func isNull(v json.RawMessage) bool { return len(v) == 0 || bytes.Equal(v, []byte("null")) }

// jsonText decodes a string or null ("").
func jsonText(v json.RawMessage) (string, error) {
	if isNull(v) {
		return "", nil
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", fmt.Errorf("must be a string, not %s", short(v))
	}
	return s, nil
}

// jsonID decodes an id: a string, or a whole number as many ticket
// systems' exports write them.
func jsonID(v json.RawMessage) (string, error) {
	if len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
		if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return string(v), nil
		}
		return "", fmt.Errorf("must be a string or a whole number, not %s", short(v))
	}
	return jsonText(v)
}

func jsonSeverity(v json.RawMessage) (int, error) {
	if isNull(v) {
		return 0, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("must be a whole number from 1 to 4, not %s", short(v))
	}
	return severity(n)
}

func jsonList(v json.RawMessage) ([]json.RawMessage, error) {
	if isNull(v) {
		return nil, nil
	}
	var items []json.RawMessage
	if v[0] != '[' || json.Unmarshal(v, &items) != nil {
		return nil, fmt.Errorf("must be a list, not %s", short(v))
	}
	return items, nil
}

func jsonLabels(v json.RawMessage) ([]string, error) {
	items, err := jsonList(v)
	if err != nil {
		return nil, err
	}
	var labels []string
	for i, it := range items {
		s, err := jsonText(it)
		if err != nil || isNull(it) {
			return nil, fmt.Errorf("[%d]: must be a string, not %s", i, short(it))
		}
		labels = append(labels, s)
	}
	return labels, nil
}

// historyEntries decodes a history's list of objects with exactly the
// members at and the other one given, both required, and calls fn with the
// instant and the other member of each.
func historyEntries(v json.RawMessage, field, other string, fn func(at time.Time, o json.RawMessage) error) error {
	items, err := jsonList(v)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	for i, it := range items {
		path := fmt.Sprintf("%s[%d]", field, i)
		obj, err := jsonObject(it)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := unknownKeys(obj, []string{"at", other}, path); err != nil {
			return err
		}
		t, err := jsonInstant(obj["at"])
		if err != nil {
			return fmt.Errorf("%s.at: %w", path, err)
		}
		o, ok := obj[other]
		if !ok || isNull(o) {
			return fmt.Errorf("%s.%s: missing", path, other)
		}
		if err := fn(t, o); err != nil {
			return fmt.Errorf("%s.%s: %w", path, other, err)
		}
	}
	return nil
}

// jsonInstant decodes a required time.
func jsonInstant(v json.RawMessage) (time.Time, error) {
	s, err := jsonText(v)
	switch {
	case err != nil:
		return time.Time{}, err
	case s == "":
		return time.Time{}, errors.New("missing")
	}
	return parseTime(s)
}

func statusHistory(v json.RawMessage) ([]sla.StatusChange, error) {
	var h []sla.StatusChange
	err := historyEntries(v, "status_history", "status", func(at time.Time, o json.RawMessage) error {
		s, err := jsonText(o)
		if err != nil {
			return err
		}
		st, err := status(s)
		h = append(h, sla.StatusChange{At: at, Status: st})
		return err
	})
	return h, err
}

func severityHistory(v json.RawMessage) ([]sla.SeverityChange, error) {
	var h []sla.SeverityChange
	err := historyEntries(v, "severity_history", "severity", func(at time.Time, o json.RawMessage) error {
		n, err := jsonSeverity(o)
		h = append(h, sla.SeverityChange{At: at, Severity: n})
		return err
	})
	return h, err
}

// short shows a JSON value in a message, cut to a readable length.
func short(v []byte) string { return cut(string(v)) }

// quote quotes a string for a message, cut to a readable length.
func quote(s string) string { return strconv.Quote(cut(s)) }

func cut(s string) string {
	const limit = 60
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
