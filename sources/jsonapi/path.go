package jsonapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// path is a dot-separated way into a decoded JSON value: object keys, and
// list indexes as numbers ("assignee.name", "tags.0"). The empty path is the
// value itself. A walker over decoded values is all the mapping needs; a
// query language (gjson, JSONPath) would add syntax to document and a
// dependency for no case the configuration has.
type path []string

// parsePath parses a configured path; empty segments ("a..b", ".a") are
// refused.
func parsePath(s string) (path, error) {
	if s == "" {
		return nil, nil
	}
	p := strings.Split(s, ".")
	for _, seg := range p {
		if seg == "" {
			return nil, fmt.Errorf("bad path %q: want keys and list indexes separated by dots, such as assignee.name or tags.0", s)
		}
	}
	return p, nil
}

func (p path) String() string { return strings.Join(p, ".") }

// get walks v along p. It reports false when a key or index is missing or
// the value on the way is neither an object nor a list; a JSON null found
// is returned as nil with true.
func (p path) get(v any) (any, bool) {
	for _, seg := range p {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[seg]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// text is a scalar as text: a string, or a number or boolean as JSON writes
// it. Objects and lists are not text.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// show is a value as a problem quotes it: a scalar in JSON, a container by
// its kind, so that a record's whole body never lands in a log.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 80 {
			x = x[:80] + "…"
		}
		return strconv.Quote(x)
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}
