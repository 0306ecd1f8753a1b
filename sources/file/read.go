package file

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/support-sla/support_sla_exporter/sla"
)

// The formats of a file of cases. Auto takes it from the file name's
// extension, else from the first character of the content.
const (
	FormatAuto  = "auto"
	FormatJSON  = "json"  // a JSON array of case objects
	FormatJSONL = "jsonl" // JSON Lines: one case object per line
	FormatCSV   = "csv"   // a header row of field names, one case per row
)

// Error is a problem at one place of a file of cases: a record that was
// skipped, or what makes the whole file unreadable.
type Error struct {
	File string
	Line int    // where the record starts; 0 when unknown
	Case string // the case's id, when known
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Case != "" {
		b.WriteString(": case ")
		if strings.ContainsFunc(e.Case, func(r rune) bool { return !strconv.IsGraphic(r) || r == ' ' }) {
			b.WriteString(quote(e.Case))
		} else {
			b.WriteString(e.Case)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Read reads the cases of a file in the given format (FormatAuto when
// empty); name is the file's name, for the extension and the messages.
//
// Every case it returns is normalised and valid. A record that is not is
// skipped and is one of problems, which are in line order; so is an
// earlier record whose id a later one repeats. err is set, and cases and
// problems are nil, when the file cannot be read at all: unreadable,
// broken JSON array syntax, a bad CSV header.
func Read(name string, r io.Reader, format string) (cases []sla.Case, problems []error, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return parse(name, data, format)
}

func parse(name string, data []byte, format string) ([]sla.Case, []error, error) {
	// Spreadsheets write a byte-order mark, which would otherwise end up
	// in the first CSV column's name.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	format, err := detect(name, data, format)
	if err != nil {
		return nil, nil, &Error{File: name, Err: err}
	}
	k := collector{file: name, byID: map[string]int{}}
	switch format {
	case FormatJSON:
		err = readJSON(data, &k)
	case FormatJSONL:
		readJSONLines(data, &k)
	case FormatCSV:
		err = readCSV(data, &k)
	}
	if err != nil {
		return nil, nil, err
	}
	return k.cases, k.sortedProblems(), nil
}

var formats = []string{FormatAuto, FormatJSON, FormatJSONL, FormatCSV}

func checkFormat(format string) error {
	if !slices.Contains(formats, format) {
		return fmt.Errorf("unknown format %s (want %s)", quote(format), strings.Join(formats, ", "))
	}
	return nil
}

// detect says which reader a file needs.
func detect(name string, data []byte, format string) (string, error) {
	if format == "" {
		format = FormatAuto
	}
	if err := checkFormat(format); err != nil {
		return "", err
	}
	if format != FormatAuto {
		return format, nil
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return FormatJSON, nil
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	case ".csv":
		return FormatCSV, nil
	}
	data = bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(data) == 0:
		return FormatJSONL, nil // no records
	case data[0] == '[':
		return FormatJSON, nil
	case data[0] == '{':
		return FormatJSONL, nil
	}
	return "", errors.New("cannot tell the format from the name or the content: set format: json, jsonl or csv")
}

// collector gathers the records of one file.
type collector struct {
	file     string
	cases    []sla.Case
	lines    []int          // where each of cases starts
	byID     map[string]int // index in cases
	problems []*Error
	zones    map[string]error // sla.CheckTimezone's answers
}

// add takes the record that starts at line, or its decoding error.
func (k *collector) add(line int, c sla.Case, err error) {
	if err == nil {
		c.Normalize()
		err = c.Validate()
	}
	if err == nil && c.Timezone != "" {
		zerr, seen := k.zones[c.Timezone]
		if !seen {
			zerr = sla.CheckTimezone(c.Timezone)
			if k.zones == nil {
				k.zones = map[string]error{}
			}
			k.zones[c.Timezone] = zerr
		}
		err = zerr
	}
	if err != nil {
		k.problem(line, c.ID, err)
		return
	}
	if i, ok := k.byID[c.ID]; ok {
		// The last one wins, as a later line is the newer export.
		k.problem(k.lines[i], c.ID, fmt.Errorf("duplicate id: line %d replaces this record", line))
		k.cases[i], k.lines[i] = c, line
		return
	}
	k.byID[c.ID] = len(k.cases)
	k.cases = append(k.cases, c)
	k.lines = append(k.lines, line)
}

func (k *collector) problem(line int, id string, err error) {
	k.problems = append(k.problems, &Error{File: k.file, Line: line, Case: id, Err: err})
}

func (k *collector) fatal(line int, err error) error {
	return &Error{File: k.file, Line: line, Err: err}
}

func (k *collector) sortedProblems() []error {
	slices.SortStableFunc(k.problems, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	out := make([]error, len(k.problems))
	for i, p := range k.problems {
		out[i] = p
	}
	return out
}

// lineAt is the line of the byte at offset off.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// readJSON reads a JSON array of records. Broken syntax stops it: past
// that point nothing can be trusted.
func readJSON(data []byte, k *collector) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return k.fatal(lineAt(data, se.Offset), fmt.Errorf("invalid JSON: %v", se))
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return k.fatal(lineAt(data, int64(len(bytes.TrimRight(data, " \t\r\n")))), errors.New("invalid JSON: the file ends before the array is closed"))
		}
		return k.fatal(lineAt(data, dec.InputOffset()), fmt.Errorf("invalid JSON: %v", err))
	}
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return k.fatal(0, errors.New("empty file: want a JSON array of cases"))
	}
	if err != nil {
		return syntax(err)
	}
	if tok != json.Delim('[') {
		return k.fatal(lineAt(data, dec.InputOffset()), errors.New("want a JSON array of cases (for one case per line, name the file .jsonl or set format: jsonl)"))
	}
	// Lines are counted on from the last record, so that the whole
	// file is scanned once.
	var counted int64
	line := 1
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntax(err)
		}
		start := dec.InputOffset() - int64(len(raw))
		line += bytes.Count(data[counted:start], []byte("\n"))
		counted = start
		c, err := caseFromJSON(raw)
		k.add(line, c, err)
	}
	if _, err := dec.Token(); err != nil {
		return syntax(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return k.fatal(lineAt(data, dec.InputOffset()), errors.New("invalid JSON: more data after the array"))
	}
	return nil
}

// readJSONLines reads one record per line. A bad line is only that record:
// a file being appended to may end in half a line.
func readJSONLines(data []byte, k *collector) {
	for line := 1; len(data) > 0; line++ {
		var l []byte
		l, data, _ = bytes.Cut(data, []byte("\n"))
		if l = bytes.TrimSpace(l); len(l) == 0 {
			continue
		}
		c, err := caseFromJSON(l)
		k.add(line, c, err)
	}
}

var (
	// csvColumns are the fields but the histories, which come last.
	csvColumns = fieldNames[:len(fieldNames)-2]
	// csvRequired are the columns without which no row could be valid.
	csvRequired = []string{"id", "status", "created"}
)

// readCSV reads a header row of field names and one case per row. A row of
// the wrong length is skipped; broken quoting stops the reading, as the
// rows after it cannot be told apart.
func readCSV(data []byte, k *collector) error {
	r := csv.NewReader(bytes.NewReader(data))
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return k.fatal(0, errors.New("empty file: want a header row of column names"))
	}
	if err != nil {
		return csvFatal(k, err)
	}
	hl, _ := r.FieldPos(0) // blank lines may come first
	col := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch known := slices.Contains(csvColumns, h); {
		case h == "status_history" || h == "severity_history":
			return k.fatal(hl, fmt.Errorf("column %s: histories cannot be given in CSV; use JSON", quote(h)))
		case !known && strings.Contains(h, ";"):
			return k.fatal(hl, fmt.Errorf("unknown column %s: the columns must be separated by commas", quote(h)))
		case !known:
			return k.fatal(hl, fmt.Errorf("unknown column %s (known columns: %s)", quote(h), strings.Join(csvColumns, ", ")))
		}
		if _, dup := col[h]; dup {
			return k.fatal(hl, fmt.Errorf("column %s appears twice", quote(h)))
		}
		col[h] = i
	}
	for _, h := range csvRequired {
		if _, ok := col[h]; !ok {
			return k.fatal(hl, fmt.Errorf("missing column %s", quote(h)))
		}
	}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			id := ""
			if i := col["id"]; i < len(row) {
				id = strings.TrimSpace(row[i])
			}
			k.problem(pe.StartLine, id, fmt.Errorf("has %d cells, the header has %d", len(row), len(header)))
			continue
		}
		if err != nil {
			return csvFatal(k, err)
		}
		line, _ := r.FieldPos(0)
		if !slices.ContainsFunc(row, func(s string) bool { return strings.TrimSpace(s) != "" }) {
			continue // spreadsheets leave rows of empty cells at the end
		}
		c, err := caseFromRow(row, col)
		k.add(line, c, err)
	}
}

func csvFatal(k *collector, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return k.fatal(pe.Line, fmt.Errorf("invalid CSV: %v", pe.Err))
	}
	return k.fatal(0, fmt.Errorf("invalid CSV: %v", err))
}

// caseFromRow decodes one CSV row; col maps the header's column names to
// their index. The id first, so that every error names the case.
func caseFromRow(row []string, col map[string]int) (sla.Case, error) {
	var c sla.Case
	for _, name := range csvColumns {
		i, ok := col[name]
		if !ok {
			continue
		}
		if err := textFields[name](&c, strings.TrimSpace(row[i])); err != nil {
			return c, fmt.Errorf("%s: %w", name, err)
		}
	}
	return c, nil
}
