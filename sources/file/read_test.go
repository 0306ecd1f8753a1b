package file

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // time zones must not depend on the machine's zone files

	"github.com/support-sla/support_sla_exporter/sla"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

func readFixture(t *testing.T, name, format string) ([]sla.Case, []error, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Read(name, bytes.NewReader(data), format)
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// exampleCases are testdata/example.*: the case of the spec's example and
// one that sets the fields it leaves out, with offsets and a fraction.
func exampleCases(histories bool) []sla.Case {
	c1 := sla.Case{
		ID: "C-1", Customer: "acme", Tier: "basic", Severity: 2, Status: sla.StatusOpen,
		Created:  utc("2026-03-02T07:30:00Z"),
		Timezone: "Europe/Paris", Labels: []string{"experimental"}, Type: "incident",
	}
	if histories {
		c1.StatusHistory = []sla.StatusChange{
			{At: utc("2026-03-02T09:00:00Z"), Status: sla.StatusPendingCustomer},
			{At: utc("2026-03-02T11:00:00Z"), Status: sla.StatusOpen},
		}
		c1.SeverityHistory = []sla.SeverityChange{
			{At: utc("2026-03-02T07:30:00Z"), Severity: 3},
			{At: utc("2026-03-02T10:00:00Z"), Severity: 2},
		}
	}
	c2 := sla.Case{
		ID: "C-2", Key: "SUP-2", URL: "https://support.example.com/SUP-2", Customer: "globex",
		Severity: 1, Status: sla.StatusResolved,
		Created:       utc("2026-03-02T07:30:00Z"), // 08:30:00.750+01:00, to the second
		FirstResponse: utc("2026-03-02T08:10:00Z"),
		Resolved:      utc("2026-03-03T23:00:00Z"),
		Labels:        []string{"vip", "backup"}, Type: "problem",
	}
	return []sla.Case{c1, c2}
}

func sameCases(t *testing.T, got, want []sla.Case) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d cases, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("case %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestReadExample(t *testing.T) {
	jsonData, _ := os.ReadFile("testdata/example.json")
	linesData, _ := os.ReadFile("testdata/example.jsonl")
	csvData, _ := os.ReadFile("testdata/example.csv")
	for _, tc := range []struct {
		name, format string
		data         []byte
		histories    bool
	}{
		{"example.json", "", jsonData, true},
		{"example.jsonl", "auto", linesData, true},
		{"example.csv", "auto", csvData, false},
		// No extension: the first character tells.
		{"cases", "auto", jsonData, true},
		{"cases", "auto", linesData, true},
		// The format wins over the extension.
		{"export.txt", "csv", csvData, false},
		{"cases.json", "jsonl", linesData, true},
		// Spreadsheets start CSV files with a byte-order mark.
		{"bom.csv", "auto", append([]byte("\uFEFF"), csvData...), false},
	} {
		t.Run(tc.name+"/"+tc.format, func(t *testing.T) {
			got, problems, err := Read(tc.name, bytes.NewReader(tc.data), tc.format)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("problem: %v", p)
			}
			sameCases(t, got, exampleCases(tc.histories))
		})
	}
}

type wantProblem struct {
	line int
	id   string
	msg  string // a part of the message
}

func TestReadBadRows(t *testing.T) {
	for _, tc := range []struct {
		file     string
		keep     []string // ids, in the order returned
		severity int      // of the kept G-1: the last one's
		problems []wantProblem
	}{
		{
			file: "bad.jsonl", keep: []string{"G-1", "G-2", "G-3"}, severity: 2,
			problems: []wantProblem{
				{1, "G-1", "duplicate id: line 13 replaces this record"},
				{2, "C-12", `first_response: "yesterday" is not an RFC 3339 time`},
				{4, "B-2", `unknown field "priority"`},
				{5, "B-3", `status: unknown status "waiting"`},
				{6, "B-4", "severity: 7 is not between 1 and 4"},
				{7, "", "id: missing"},
				{8, "B-6", "created: missing"},
				{9, "B-7", "first_response: 2026-03-02T07:00:00Z is before created 2026-03-02T07:30:00Z"},
				{10, "B-8", `timezone: unknown time zone "Mars/Olympus_Mons"`},
				{12, "B-9", `created: "2026-03-02T07:30:00" has no time zone offset`},
				{14, "", "invalid JSON"},
			},
		},
		{
			file: "bad.json", keep: []string{"G-1", "G-2"}, severity: 2,
			problems: []wantProblem{
				{2, "G-1", "duplicate id: line 82 replaces this record"},
				{8, "C-12", `first_response: "yesterday" is not an RFC 3339 time`},
				{14, "B-2", `unknown field "priority"`},
				{20, "B-3", `status: unknown status "waiting"`},
				{25, "B-4", "severity: 7 is not between 1 and 4"},
				{31, "", "id: missing"},
				{35, "B-6", "created: missing"},
				{39, "B-7", "first_response: 2026-03-02T07:00:00Z is before created"},
				{45, "B-8", `timezone: unknown time zone "Mars/Olympus_Mons"`},
				{62, "B-12", "status: missing"},
				{66, "", "must be a JSON object, not 42"},
				{67, "B-13", `status_history[1].status: unknown status "reopened"`},
			},
		},
		{
			file: "bad.csv", keep: []string{"G-1", "G-2", "G-3"}, severity: 2,
			problems: []wantProblem{
				{2, "G-1", "duplicate id: line 13 replaces this record"},
				{3, "C-12", `first_response: "yesterday" is not an RFC 3339 time`},
				{4, "B-3", `status: unknown status "waiting"`},
				{5, "B-4", "severity: 7 is not between 1 and 4"},
				{6, "", "id: missing"},
				{7, "B-6", "created: missing"},
				{8, "B-7", "first_response: 2026-03-02T07:00:00Z is before created"},
				{9, "B-8", `timezone: unknown time zone "Mars/Olympus_Mons"`},
				{11, "B-9", `created: "2026-03-02T07:30:00" has no time zone offset`},
				{12, "B-10", "has 4 cells, the header has 8"},
				// G-3 spans lines 14 and 15.
				{16, "B-11", `severity: must be a whole number from 1 to 4, not "high"`},
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cases, problems, err := readFixture(t, tc.file, "auto")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range cases {
				ids = append(ids, c.ID)
				if c.ID == "G-1" && c.Severity != tc.severity {
					t.Errorf("G-1 has severity %d, want the last record's %d", c.Severity, tc.severity)
				}
			}
			if !reflect.DeepEqual(ids, tc.keep) {
				t.Errorf("kept %q, want %q", ids, tc.keep)
			}
			if len(problems) != len(tc.problems) {
				t.Errorf("got %d problems, want %d", len(problems), len(tc.problems))
			}
			for i, p := range problems {
				var e *Error
				if !errors.As(p, &e) {
					t.Errorf("problem %d is a %T, not an *Error: %v", i, p, p)
					continue
				}
				if i >= len(tc.problems) {
					t.Errorf("unexpected problem: %v", p)
					continue
				}
				w := tc.problems[i]
				if e.File != tc.file || e.Line != w.line || e.Case != w.id || !strings.Contains(e.Err.Error(), w.msg) {
					t.Errorf("problem %d:\n got %v\nwant %s:%d: case %q: …%s…", i, p, tc.file, w.line, w.id, w.msg)
				}
			}
			// The exact words users read.
			var b strings.Builder
			for _, p := range problems {
				fmt.Fprintln(&b, p)
			}
			fmt.Fprintf(&b, "kept: %s\n", strings.Join(ids, " "))
			golden(t, tc.file+".golden", []byte(b.String()))
		})
	}
}

func TestReadCSVCells(t *testing.T) {
	// G-3 of bad.csv: labels split on '|' and trimmed, a quoted cell
	// spanning two lines.
	cases, _, err := readFixture(t, "bad.csv", "auto")
	if err != nil {
		t.Fatal(err)
	}
	c := cases[2]
	if c.ID != "G-3" || !reflect.DeepEqual(c.Labels, []string{"a", "b"}) || c.Type != "multi\nline" || c.Timezone != "Europe/Paris" {
		t.Errorf("got %+v", c)
	}

	// Lines count from the top even when blank lines come first.
	_, problems, err := Read("c.csv", strings.NewReader("\n\nid,status,created\nA,open,2026-03-02T07:30:00Z,x\n"), "")
	want := "c.csv:4: case A: has 4 cells, the header has 3"
	if err != nil || len(problems) != 1 || problems[0].Error() != want {
		t.Errorf("got %v, %v; want %s", problems, err, want)
	}
}

func TestReadJSONArrayLines(t *testing.T) {
	// Each object lacks its status, so each is reported at its line.
	const ok = `{"id":"OK","status":"open","created":"2026-03-02T07:30:00Z"}`
	for _, tc := range []struct {
		name string
		data string
		want []string // line:id of each problem
	}{
		{"one line", `[{"id":"A"}]`, []string{"1:A"}},
		{"same line", "[\n\n  {\"id\":\"A\"},  {\"id\":\"B\"}\n]", []string{"3:A", "3:B"}},
		{"after a good one", "[" + ok + ",\n{\n\"id\":\"B\"\n}, \n\n\n {\"id\":\"C\"}]", []string{"2:B", "7:C"}},
		{"comma first", "[\n" + ok + "\n,{\"id\":\"B\"}\n\n,\n\n{\"id\":\"C\",\n\"key\":\"x\"}\n]", []string{"3:B", "7:C"}},
		{"crlf", "[\r\n{\"id\":\"A\"},\r\n\r\n{\"id\":\"B\"}\r\n]", []string{"2:A", "4:B"}},
		{"nested lines", "[{\"id\":\"A\",\n\"labels\":[\n\"x\"\n]},\n{\"id\":\"B\"}]", []string{"1:A", "5:B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems, err := Read("cases.json", strings.NewReader(tc.data), "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range problems {
				var e *Error
				if !errors.As(p, &e) || !strings.Contains(p.Error(), "status: missing") {
					t.Errorf("unexpected problem %v", p)
					continue
				}
				got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Case))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadFields(t *testing.T) {
	// One record's field against the message it gets; "" is no error.
	const base = `"id":"X","status":"open","created":"2026-03-02T07:30:00Z"`
	for _, tc := range []struct {
		extra string
		want  string
	}{
		{`"id":"X","status":"open","created":"2026-03-02T07:30:00+05:30"`, ""},
		{`"id":"X","status":"open","created":"2026-03-02T07:30:00.123456789Z"`, ""},
		{`"id":1042,"status":"open","created":"2026-03-02T07:30:00Z"`, ""},
		{`"id":1.5,"status":"open","created":"2026-03-02T07:30:00Z"`, "id: must be a string or a whole number, not 1.5"},
		{`"id":"X","status":"open","created":"2026-03-02 07:30:00Z"`, `created: "2026-03-02 07:30:00Z" is not an RFC 3339 time`},
		{`"id":"X","status":"open","created":"0001-01-01T00:00:00Z"`, `created: "0001-01-01T00:00:00Z" is before 1970`},
		{`"id":"X","status":"open","created":20260302`, "created: must be a string, not 20260302"},
		{`"id":"X","status":null,"created":"2026-03-02T07:30:00Z"`, "status: missing"},
		{base + `,"severity":null,"first_response":null,"labels":null,"status_history":null`, ""},
		{base + `,"severity":"2"`, `severity: must be a whole number from 1 to 4, not "2"`},
		{base + `,"severity":2.5`, "severity: must be a whole number from 1 to 4, not 2.5"},
		{base + `,"severity":0`, "severity: 0 is not between 1 and 4"},
		{base + `,"labels":"a"`, `labels: must be a list, not "a"`},
		{base + `,"labels":["a",1]`, "labels: [1]: must be a string, not 1"},
		{base + `,"source":"other"`, `unknown field "source"`},
		{base + `,"status_history":[{"at":"2026-03-02T08:00:00Z"}]`, "status_history[0].status: missing"},
		{base + `,"status_history":[{"status":"open"}]`, "status_history[0].at: missing"},
		{base + `,"status_history":[{"at":"2026-03-02T08:00:00Z","status":"open","by":"bob"}]`, `status_history[0]: unknown field "by"`},
		{base + `,"status_history":[1]`, "status_history[0]: must be a JSON object, not 1"},
		{base + `,"severity_history":[{"at":"2026-03-02T08:00:00","severity":1}]`, `severity_history[0].at: "2026-03-02T08:00:00" has no time zone offset`},
		{base + `,"severity_history":[{"at":"2026-03-02T08:00:00Z","severity":5}]`, "severity_history[0].severity: 5 is not between 1 and 4"},
		{base + `,"severity_history":{}`, "severity_history: must be a list, not {}"},
		{base + `,"resolved":"2026-03-02T07:00:00Z"`, "resolved: 2026-03-02T07:00:00Z is before created"},
		{base + `,"key":["SUP-1"]`, `key: must be a string, not ["SUP-1"]`},
	} {
		t.Run(tc.extra, func(t *testing.T) {
			line := "{" + tc.extra + "}\n"
			cases, problems, err := Read("x.jsonl", strings.NewReader(line), "")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && (len(problems) > 0 || len(cases) != 1):
				t.Errorf("got %v, want one case", problems)
			case tc.want != "" && (len(problems) != 1 || !strings.Contains(problems[0].Error(), tc.want) || len(cases) != 0):
				t.Errorf("got %v, want a problem with %q", problems, tc.want)
			}
		})
	}
}

func TestReadFatal(t *testing.T) {
	const ok = `{"id":"A","status":"open","created":"2026-03-02T07:30:00Z"}`
	for _, tc := range []struct {
		name, format, data string
		want               string // the whole message
	}{
		{"cases.json", "", "[\n" + ok + ",\n{\"id\": }\n]", `cases.json:3: invalid JSON: invalid character '}' looking for beginning of value`},
		{"cases.json", "", "[\n" + ok + ",\n", "cases.json:2: invalid JSON: the file ends before the array is closed"},
		{"cases.json", "", "[\n" + ok + ",\n{\"id\":\"B\",", "cases.json:3: invalid JSON: the file ends before the array is closed"},
		{"cases.json", "", "\n" + ok, "cases.json:2: want a JSON array of cases (for one case per line, name the file .jsonl or set format: jsonl)"},
		{"cases.json", "", "[]\n[]", "cases.json:2: invalid JSON: more data after the array"},
		{"cases.json", "", " \n", "cases.json: empty file: want a JSON array of cases"},
		{"cases.json", "", "[" + ok + " " + ok + "]", "cases.json:1: invalid JSON: expected comma after array element"},
		{"cases.csv", "", "id,status,created,priority\n", `cases.csv:1: unknown column "priority" (known columns: id, key, url, customer, tier, severity, status, created, first_response, resolved, timezone, labels, type)`},
		{"cases.csv", "", "id,status,created,status_history\n", `cases.csv:1: column "status_history": histories cannot be given in CSV; use JSON`},
		{"cases.csv", "", "id,status,created,id\n", `cases.csv:1: column "id" appears twice`},
		{"cases.csv", "", "\nkey,status,created\n", `cases.csv:2: missing column "id"`},
		{"cases.csv", "", "id;status;created\n", `cases.csv:1: unknown column "id;status;created": the columns must be separated by commas`},
		{"cases.csv", "", "id,status,created\nA,open,2026-03-02T07:30:00Z\nB,\"open,2026\n", `cases.csv:3: invalid CSV: extraneous or missing " in quoted-field`},
		{"cases.csv", "", "", "cases.csv: empty file: want a header row of column names"},
		{"cases.json", "xml", "[]", `cases.json: unknown format "xml" (want auto, json, jsonl, csv)`},
		{"cases.txt", "auto", "id,status\n", "cases.txt: cannot tell the format from the name or the content: set format: json, jsonl or csv"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			cases, problems, err := Read(tc.name, strings.NewReader(tc.data), tc.format)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got error %v\nwant       %s", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%T is not an *Error", err)
			}
			if cases != nil || problems != nil {
				t.Errorf("got %d cases and %d problems with the error", len(cases), len(problems))
			}
		})
	}
}

func TestReadEmpty(t *testing.T) {
	// A file with no records is no cases, where that is valid syntax.
	for _, tc := range []struct{ name, data string }{
		{"cases.json", " [ ] \n"},
		{"cases.jsonl", ""},
		{"cases.jsonl", "\n \n\r\n"},
		{"cases.csv", "id,status,created\n"},
		{"cases", ""},
	} {
		cases, problems, err := Read(tc.name, strings.NewReader(tc.data), "")
		if err != nil || len(cases) != 0 || len(problems) != 0 {
			t.Errorf("%s %q: got %v, %v, %v; want nothing", tc.name, tc.data, cases, problems, err)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "c.jsonl", Line: 7, Case: "C-12", Err: errors.New("boom")}, "c.jsonl:7: case C-12: boom"},
		{Error{File: "c.jsonl", Line: 7, Err: errors.New("boom")}, "c.jsonl:7: boom"},
		{Error{File: "c.jsonl", Err: errors.New("boom")}, "c.jsonl: boom"},
		// An id that would break the line, or be misread, is quoted.
		{Error{File: "c.csv", Line: 2, Case: "a b\n", Err: errors.New("boom")}, `c.csv:2: case "a b\n": boom`},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}

// FuzzRead checks that no input makes Read panic, that every case it
// returns is valid, and that every problem says where it is.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, name := range files {
		if strings.HasSuffix(name, ".golden") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for i := range formats {
			f.Add(data, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		const name = "fuzz"
		cases, problems, err := Read(name, bytes.NewReader(data), formats[int(format)%len(formats)])
		if err != nil {
			if cases != nil || problems != nil {
				t.Fatalf("cases or problems with the error %v", err)
			}
			return
		}
		ids := map[string]bool{}
		for i := range cases {
			c := cases[i]
			if err := c.Validate(); err != nil {
				t.Fatalf("case %d is invalid: %v", i, err)
			}
			if ids[c.ID] {
				t.Fatalf("id %q returned twice", c.ID)
			}
			ids[c.ID] = true
			if c.Created.Location() != time.UTC {
				t.Fatalf("created %v is not in UTC", c.Created)
			}
		}
		for _, p := range problems {
			var e *Error
			if !errors.As(p, &e) || e.File != name || e.Line < 1 {
				t.Fatalf("problem without a place: %v", p)
			}
		}
	})
}
