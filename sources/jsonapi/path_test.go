package jsonapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestPath(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`{"a": {"b": [10, {"c": "x"}], "0": "key zero", "n": null}, "list": ["p", "q"]}`))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want string // show() of the value; "-" missing
	}{
		{"a.b.0", "10"},
		{"a.b.1.c", `"x"`},
		{"a.0", `"key zero"`}, // a number names a key in an object
		{"list.1", `"q"`},
		{"a.n", "null"},
		{"a", "an object"},
		{"", "an object"},
		{"a.b.2", "-"},
		{"a.b.-1", "-"},
		{"list.x", "-"},
		{"a.b.1.c.d", "-"},
		{"missing", "-"},
	} {
		p, err := parsePath(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := p.get(doc)
		got := "-"
		if ok {
			got = show(v)
		}
		if got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.path, got, tc.want)
		}
	}
	for _, bad := range []string{".a", "a.", "a..b"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestTimeFormat(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tc := range []struct {
		format string
		in     any
		want   string // RFC 3339 UTC; "" an error
		write  string // format(want), when a time
	}{
		{"rfc3339", "2026-03-02T09:00:00+01:00", "2026-03-02T08:00:00Z", "2026-03-02T08:00:00Z"},
		{"rfc3339", "2026-03-02T08:00:00.123Z", "2026-03-02T08:00:00.123Z", "2026-03-02T08:00:00Z"},
		{"rfc3339", "2026-03-02 08:00:00", "", ""},
		{"rfc3339", json.Number("1772438400"), "", ""},
		{"unix", json.Number("1772438400"), "2026-03-02T08:00:00Z", "1772438400"},
		{"unix", "1772438400.5", "2026-03-02T08:00:00.5Z", "1772438400"},
		{"unix", "yesterday", "", ""},
		{"unix", json.Number("-1"), "", ""},
		{"unix_ms", json.Number("1772438400000"), "2026-03-02T08:00:00Z", "1772438400000"},
		{"2006-01-02 15:04:05", "2026-03-02 09:00:00", "2026-03-02T08:00:00Z", "2026-03-02 09:00:00"},
		{"2006-01-02 15:04:05", "2026-07-02 09:00:00", "2026-07-02T07:00:00Z", "2026-07-02 09:00:00"},
		{"02/01/2006 15:04 -0700", "02/03/2026 09:00 +0000", "2026-03-02T09:00:00Z", "02/03/2026 10:00 +0100"},
		{"2006-01-02 15:04:05", true, "", ""},
	} {
		f, err := parseTimeFormat(tc.format, paris)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.parse(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s %v: got %v, want an error", tc.format, tc.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(at(tc.want)) {
			t.Errorf("%s %v: got %v %v, want %s", tc.format, tc.in, got, err, tc.want)
			continue
		}
		if w := f.format(got); w != tc.write {
			t.Errorf("%s: wrote %s, want %s", tc.format, w, tc.write)
		}
	}
	for _, bad := range []string{"", "yesterday", "RFC3339"} {
		if _, err := parseTimeFormat(bad, time.UTC); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
