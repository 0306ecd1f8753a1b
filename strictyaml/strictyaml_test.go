package strictyaml

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"90s", 90 * time.Second, ""},
		{"30m", 30 * time.Minute, ""},
		{"8h", 8 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"1d", 24 * time.Hour, ""},
		{"2d12h", 60 * time.Hour, ""},
		{"0s", 0, "must be positive"},
		{"1.5s", 0, "whole seconds"},
		{"-1h", 0, "bad duration"},
		{"+1d", 0, "bad duration"},
		{"2d-1h", 0, "bad duration"},
		{"soon", 0, "bad duration"},
		{"", 0, "bad duration"},
		{"416999965498d", 0, "bad duration"}, // would overflow
		{"1w", 0, "bad duration"},
	} {
		got, err := ParseDuration(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDuration(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// A walk over a mapping reports every problem, with its line and key path,
// and goes on after each.
func TestDecoderReportsEveryProblem(t *testing.T) {
	const doc = `name: a
size: big
size: 3
tags: [x, {y: 1}]
nested:
  ok: true
  okk: false
when: 5q
`
	d := &Decoder{File: "f.yml"}
	root := d.Parse([]byte(doc))
	var (
		name string
		size int
		tags []string
		ok   bool
		when time.Duration
	)
	d.Fields(root, "", map[string]func(*yaml.Node, string){
		"name": func(v *yaml.Node, p string) { d.String(v, p, &name) },
		"size": func(v *yaml.Node, p string) { d.Int(v, p, &size) },
		"tags": func(v *yaml.Node, p string) { d.Strings(v, p, &tags) },
		"nested": func(v *yaml.Node, p string) {
			d.Fields(v, p, map[string]func(*yaml.Node, string){
				"ok": func(v *yaml.Node, p string) { d.Bool(v, p, &ok) },
			})
		},
		"when": func(v *yaml.Node, p string) { d.Duration(v, p, &when) },
	})
	want := strings.Join([]string{
		`f.yml:2: size: must be a whole number, not "big"`,
		`f.yml:3: size: duplicate key`,
		`f.yml:4: tags[1]: must be a string, not a mapping`,
		`f.yml:7: nested: unknown field "okk" (known fields: ok)`,
		`f.yml:8: when: bad duration "5q" (use e.g. 90s, 30m, 8h, 1d)`,
	}, "\n")
	err := d.Err()
	if err == nil || err.Error() != want {
		t.Fatalf("errors:\n%v\nwant:\n%s", err, want)
	}
	if name != "a" || !ok {
		t.Errorf("the good fields were not decoded: name %q ok %v", name, ok)
	}
}

func TestParseSyntaxError(t *testing.T) {
	d := &Decoder{File: "f.yml"}
	if d.Parse([]byte("a: [1,\nb: 2\n")) != nil {
		t.Fatal("parsed a broken document")
	}
	err := d.Err()
	if err == nil || !strings.HasPrefix(err.Error(), "f.yml:") || strings.Contains(err.Error(), "line ") {
		t.Fatalf("err = %v, want the file and the line once, as f.yml:N: …", err)
	}
}

func TestEmptyDocumentIsAnEmptyMapping(t *testing.T) {
	d := &Decoder{File: "f.yml"}
	n := d.Parse(nil)
	if n == nil || n.Kind != yaml.MappingNode || d.Err() != nil {
		t.Fatalf("Parse(nil) = %v, %v", n, d.Err())
	}
}
