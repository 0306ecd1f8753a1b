package file

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// decode runs New on a source's YAML mapping, as the configuration loader
// would, and returns the source and the decoding errors.
func decode(t *testing.T, dir, yml string, logger *slog.Logger) (sources.Source, error) {
	t.Helper()
	d := &strictyaml.Decoder{File: "config.yml"}
	n := d.Parse([]byte(yml))
	if n == nil {
		t.Fatalf("bad YAML in the test: %v", d.Err())
	}
	s := New(d, n, "sources[0]", sources.Env{Name: "helpdesk", Dir: dir, Logger: logger})
	return s, d.Err()
}

func newSource(t *testing.T, dir, yml string) sources.Source {
	t.Helper()
	s, err := decode(t, dir, yml, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestNewConfig(t *testing.T) {
	for _, tc := range []struct {
		yml  string
		want string // every error; "" for none
	}{
		{"name: h\ntype: file\npolicy: p\ninterval: 1m\npath: cases.json\nformat: jsonl\n", ""},
		{"path: cases.csv\n", ""},
		{"name: h\ntype: file\npth: cases.json\n",
			"config.yml:1: sources[0].path: missing: the file of cases to read\n" +
				`config.yml:3: sources[0]: unknown field "pth" (known fields: format, interval, name, path, policy, type)`},
		{"path: ''\n", "config.yml:1: sources[0].path: must not be empty"},
		{"path: [a.json]\n", "config.yml:1: sources[0].path: must be a string, not a list"},
		{"path: c.json\nformat: xml\n", `config.yml:2: sources[0].format: unknown format "xml" (want auto, json, jsonl, csv)`},
	} {
		t.Run(tc.yml, func(t *testing.T) {
			_, err := decode(t, t.TempDir(), tc.yml, nil)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestSyncChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "cases.jsonl")
	const v1 = `{"id":"C-1","severity":2,"status":"open","created":"2026-03-02T07:30:00Z"}` + "\n"
	const v2 = `{"id":"C-1","severity":3,"status":"open","created":"2026-03-02T07:30:00Z"}` + "\n"
	writeFile(t, path, v1)
	s := newSource(t, dir, "path: cases.jsonl\n")

	b, err := s.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Full || len(b.Cases) != 1 || b.Cases[0].Severity != 2 || b.Cursor == "" {
		t.Fatalf("first sync: got %+v, want one case of severity 2, Full, a cursor", b)
	}
	if b.Cases[0].Source != "helpdesk" {
		t.Errorf("Source = %q, want the source's name", b.Cases[0].Source)
	}

	// Unchanged, even when touched: nothing to do.
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, time.Now(), fi.ModTime().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	again, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, sources.Batch{Cursor: b.Cursor}) {
		t.Errorf("unchanged: got %+v, want only the same cursor", again)
	}

	// Rewritten with the same size and mtime: still a change.
	writeFile(t, path, v2)
	if err := os.Chtimes(path, time.Now(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(path); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Fatalf("the rewrite changed size or mtime: %v %v", fi2.Size(), fi2.ModTime())
	}
	changed, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if !changed.Full || len(changed.Cases) != 1 || changed.Cases[0].Severity != 3 || changed.Cursor == b.Cursor {
		t.Errorf("rewritten: got %+v, want the case of severity 3 with a new cursor", changed)
	}

	// Gone: an error, so that the caller keeps the cases it has.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(ctx, changed.Cursor); err == nil {
		t.Error("missing file: no error")
	}
}

func TestSyncProblems(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "data", "cases.csv"),
		"id,status,created\nA,open,2026-03-02T07:30:00Z\nB,open,yesterday\n")
	s := newSource(t, dir, "path: data/cases.csv\n")
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 1 || b.Cases[0].ID != "A" {
		t.Errorf("got cases %+v, want A", b.Cases)
	}
	// Messages name the file as the configuration does.
	want := `data/cases.csv:3: case B: created: "yesterday" is not an RFC 3339 time such as 2026-03-02T07:30:00Z`
	if len(b.Problems) != 1 || b.Problems[0].Error() != want {
		t.Errorf("got problems %v, want %s", b.Problems, want)
	}
}

func TestSyncFatal(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cases.json"), "[\n{\"id\":\"A\"\n")
	s := newSource(t, dir, "path: cases.json\n")
	b, err := s.Sync(context.Background(), "")
	var e *Error
	if !errors.As(err, &e) || e.File != "cases.json" || e.Line != 2 {
		t.Errorf("got %v, want an error at cases.json:2", err)
	}
	if !reflect.DeepEqual(b, sources.Batch{}) {
		t.Errorf("got %+v with the error", b)
	}
}

func TestPaths(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(t.TempDir(), "abs.jsonl")
	writeFile(t, filepath.Join(dir, "sub", "rel.jsonl"), `{"id":"R","status":"open","created":"2026-03-02T07:30:00Z"}`)
	writeFile(t, abs, `{"id":"A","status":"open","created":"2026-03-02T07:30:00Z"}`)
	for _, tc := range []struct {
		path, want string
	}{
		{"sub/rel.jsonl", "R"}, // against env.Dir, not the working directory
		{"./sub/../sub/rel.jsonl", "R"},
		{abs, "A"}, // left as it is
	} {
		t.Run(tc.path, func(t *testing.T) {
			s := newSource(t, dir, "path: "+tc.path+"\n")
			b, err := s.Sync(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Cases) != 1 || b.Cases[0].ID != tc.want {
				t.Errorf("got %+v, want case %s", b.Cases, tc.want)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	s := newSource(t, t.TempDir(), "path: nowhere.json\n")
	ctx := context.Background()
	if _, err := s.Sync(ctx, ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Sync: got %v, want a missing file", err)
	}
	if _, err := s.Window(ctx, time.Time{}, time.Now()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Window: got %v, want a missing file", err)
	}
}

func TestWindow(t *testing.T) {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s, err := decode(t, dir, "path: window.jsonl\n", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
		want     []string
	}{
		{"2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", []string{"open-old", "resolved-at-from", "inside", "last-second"}},
		{"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", []string{"open-old", "resolved-before", "resolved-at-from", "closed-by-history"}},
		{"2026-02-16T00:00:00Z", "2026-02-17T00:00:00Z", []string{"open-old", "resolved-before", "resolved-at-from"}},
		{"2025-01-01T00:00:00Z", "2026-01-01T09:00:00Z", nil},
	} {
		t.Run(tc.from+"/"+tc.to, func(t *testing.T) {
			cases, err := s.Window(context.Background(), utc(tc.from), utc(tc.to))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cases {
				got = append(got, c.ID)
				if c.Source != "helpdesk" {
					t.Errorf("case %s has Source %q", c.ID, c.Source)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// The bad record is said somewhere, as Window cannot return it.
	if !strings.Contains(logs.String(), `window.jsonl:9: case bad: created`) {
		t.Errorf("the skipped record is not logged:\n%s", logs.String())
	}
}

func TestCanceled(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cases.jsonl"), "")
	s := newSource(t, dir, "path: cases.jsonl\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Sync(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
