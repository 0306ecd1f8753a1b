package jsonapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timeFormat reads and writes the API's instants: "rfc3339", "unix"
// (seconds), "unix_ms" (milliseconds), or a Go layout such as
// "2006-01-02 15:04:05" read in loc when it holds no zone.
type timeFormat struct {
	name string // as configured
	loc  *time.Location
}

// parseTimeFormat checks a configured format. A Go layout must hold at
// least one element of the reference time, or every value would fail.
func parseTimeFormat(s string, loc *time.Location) (timeFormat, error) {
	switch s {
	case "rfc3339", "unix", "unix_ms":
		return timeFormat{name: s, loc: loc}, nil
	}
	// Any instant but the layout's own reference time.
	ref := time.Date(2031, 11, 27, 21, 38, 49, 0, time.UTC)
	if s == "" || ref.Format(s) == s {
		return timeFormat{}, fmt.Errorf("%q is neither rfc3339, unix, unix_ms nor a Go layout such as \"2006-01-02 15:04:05\"", s)
	}
	if _, err := time.Parse(s, ref.Format(s)); err != nil {
		return timeFormat{}, fmt.Errorf("%q is not a Go layout that reads back what it writes: %v", s, err)
	}
	return timeFormat{name: s, loc: loc}, nil
}

func (f timeFormat) String() string { return f.name }

var errNotTime = errors.New("not a time")

// parse reads a JSON value (a string, or a number for the unix formats).
func (f timeFormat) parse(v any) (time.Time, error) {
	switch f.name {
	case "unix", "unix_ms":
		var s string
		switch x := v.(type) {
		case json.Number:
			s = x.String()
		case string:
			s = strings.TrimSpace(x)
		default:
			return time.Time{}, errNotTime
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || n < 0 || n > 1e15 {
			return time.Time{}, errNotTime
		}
		if f.name == "unix_ms" {
			return time.UnixMilli(int64(n)).UTC(), nil
		}
		sec, frac := math.Modf(n)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, errNotTime
	}
	if f.name == "rfc3339" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, errNotTime
		}
		return t.UTC(), nil
	}
	t, err := time.ParseInLocation(f.name, s, f.loc)
	if err != nil {
		return time.Time{}, errNotTime
	}
	return t.UTC(), nil
}

// format writes an instant for a query parameter.
func (f timeFormat) format(t time.Time) string {
	switch f.name {
	case "rfc3339":
		return t.UTC().Format(time.RFC3339)
	case "unix":
		return strconv.FormatInt(t.Unix(), 10)
	case "unix_ms":
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	return t.In(f.loc).Format(f.name)
}
