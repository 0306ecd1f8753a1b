package redmine

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

const testKey = "0123456789abcdef0123456789abcdef01234567"

// at is an RFC 3339 instant.
var at = sourcetest.MustTime

// newSource decodes cfg (url and api_key are added) into a source.
func newSource(t testing.TB, url, cfg string, now time.Time) (*source, error) {
	t.Helper()
	d := &strictyaml.Decoder{File: "test.yml", LookupEnv: func(k string) (string, bool) { return testKey, k == "REDMINE_KEY" }}
	n := d.Parse([]byte("name: rm\ntype: redmine\nurl: " + url + "\napi_key: ${REDMINE_KEY}\n" + cfg))
	s := New(d, n, "sources[0]", sources.Env{Name: "rm", Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	return s.(*source), d.Err()
}

// loadEnumerations gives the source the statuses and priorities recorded
// from the real Redmine.
func loadEnumerations(t *testing.T, s *source) {
	t.Helper()
	var e enumerations
	readJSON(t, "issue-statuses.json", &e)
	readJSON(t, "issue-priorities.json", &e)
	s.setEnumerations(e)
}

func readJSON(t *testing.T, name string, out any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestMapIssue maps issues recorded from the real Redmine (the e2e test's
// seeded cases).
func TestMapIssue(t *testing.T) {
	open, pending, resolved, closed := sla.StatusOpen, sla.StatusPendingCustomer, sla.StatusResolved, sla.StatusClosed
	tests := []struct {
		file, cfg string
		want      sla.Case
		problem   string
	}{
		{file: "issue-e2e-responded-in-time.json", want: sla.Case{ID: "11", Customer: "SLA Test", Type: "Support",
			Severity: 3, Status: open, Created: at("2026-03-04T08:00:00Z"), FirstResponse: at("2026-03-04T09:00:00Z")}},
		// The author's own note and an agent's private note are no response.
		{file: "issue-e2e-never-responded.json", want: sla.Case{ID: "13", Customer: "SLA Test", Type: "Support",
			Severity: 2, Status: open, Created: at("2026-03-04T06:00:00Z")}},
		{file: "issue-e2e-paused-for-feedback.json", want: sla.Case{ID: "14", Customer: "SLA Test", Type: "Support",
			Severity: 3, Status: pending, Created: at("2026-03-04T00:00:00Z"), FirstResponse: at("2026-03-04T01:00:00Z"),
			StatusHistory: []sla.StatusChange{{At: at("2026-03-04T00:00:00Z"), Status: open}, {At: at("2026-03-04T02:00:00Z"), Status: pending}}}},
		// Feedback is no longer waiting when waiting_statuses leaves it out.
		{file: "issue-e2e-paused-for-feedback.json", cfg: "mapping: {waiting_statuses: [], hold_statuses: [Feedback]}",
			want: sla.Case{ID: "14", Customer: "SLA Test", Type: "Support", Severity: 3, Status: sla.StatusOnHold,
				Created: at("2026-03-04T00:00:00Z"), FirstResponse: at("2026-03-04T01:00:00Z"),
				StatusHistory: []sla.StatusChange{{At: at("2026-03-04T00:00:00Z"), Status: open}, {At: at("2026-03-04T02:00:00Z"), Status: sla.StatusOnHold}}}},
		{file: "issue-e2e-severity-raised.json", want: sla.Case{ID: "21", Customer: "SLA Test", Type: "Support",
			Severity: 1, Status: open, Created: at("2026-03-04T02:00:00Z"),
			SeverityHistory: []sla.SeverityChange{{At: at("2026-03-04T02:00:00Z"), Severity: 4}, {At: at("2026-03-04T03:00:00Z"), Severity: 1}}}},
		{file: "issue-e2e-resolved.json", want: sla.Case{ID: "16", Customer: "SLA Test", Type: "Support",
			Severity: 1, Status: resolved, Created: at("2026-03-03T10:00:00Z"), FirstResponse: at("2026-03-03T10:30:00Z"),
			Resolved:      at("2026-03-03T12:00:00Z"),
			StatusHistory: []sla.StatusChange{{At: at("2026-03-03T10:00:00Z"), Status: open}, {At: at("2026-03-03T12:00:00Z"), Status: resolved}}}},
		// "Urgent" mapped to 2 by the configuration.
		{file: "issue-e2e-resolved.json", cfg: "mapping: {severity: {Urgent: 2}, status_map: {Resolved: closed}}",
			want: sla.Case{ID: "16", Customer: "SLA Test", Type: "Support",
				Severity: 2, Status: closed, Created: at("2026-03-03T10:00:00Z"), FirstResponse: at("2026-03-03T10:30:00Z"),
				Resolved:      at("2026-03-03T12:00:00Z"),
				StatusHistory: []sla.StatusChange{{At: at("2026-03-03T10:00:00Z"), Status: open}, {At: at("2026-03-03T12:00:00Z"), Status: closed}}}},
		{file: "issue-closed-with-journals.json", want: sla.Case{ID: "3", Customer: "SLA Test", Type: "Support",
			Severity: 4, Status: closed, Created: at("2026-11-22T03:51:24Z"), FirstResponse: at("2026-11-22T03:51:25Z"),
			Resolved:      at("2026-11-22T03:51:25Z"),
			StatusHistory: []sla.StatusChange{{At: at("2026-11-22T03:51:24Z"), Status: open}, {At: at("2026-11-22T03:51:25Z"), Status: closed}}}},
		{file: "issue-custom-fields.json", cfg: "mapping: {tier_field: Support tier, customer_field: \"2\", timezone_field: Time zone}",
			want: sla.Case{ID: "11", Customer: "Acme", Tier: "premium", Timezone: "Europe/Paris", Type: "Support",
				Severity: 3, Status: open, Created: at("2026-03-04T08:00:00Z"), FirstResponse: at("2026-03-04T09:00:00Z")}},
		{file: "issue-e2e-resolved.json", cfg: "mapping: {severity: {Critical: 1}}", want: sla.Case{ID: "16", Customer: "SLA Test",
			Type: "Support", Severity: 1, Status: resolved, Created: at("2026-03-03T10:00:00Z"), FirstResponse: at("2026-03-03T10:30:00Z"),
			Resolved:      at("2026-03-03T12:00:00Z"),
			StatusHistory: []sla.StatusChange{{At: at("2026-03-03T10:00:00Z"), Status: open}, {At: at("2026-03-03T12:00:00Z"), Status: resolved}}}},
	}
	for _, tc := range tests {
		t.Run(tc.file+" "+tc.cfg, func(t *testing.T) {
			s, err := newSource(t, "https://redmine.example.com", tc.cfg, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			loadEnumerations(t, s)
			var out struct {
				Issue issue `json:"issue"`
			}
			readJSON(t, tc.file, &out)
			c, err := s.mapIssue(out.Issue)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Source, tc.want.URL = "rm", "https://redmine.example.com/issues/"+tc.want.ID
			gotJSON, _ := json.Marshal(c)
			wantJSON, _ := json.Marshal(tc.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("got  %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestMapIssueProblems(t *testing.T) {
	tests := []struct{ file, cfg, edit, want string }{
		{"issue-e2e-responded-in-time.json", "", `"name": "Normal"`, `issue 11: priority: "Critical" is not in the mapping's severity`},
		{"issue-custom-fields.json", "mapping: {timezone_field: Time zone}", `"Europe/Paris"`, `issue 11: timezone: unknown time zone "Mars/Olympus"`},
		{"issue-custom-fields.json", "mapping: {tier_field: Support tier}", `"premium"`, `issue 11: custom field Support tier: not a single text value`},
	}
	repl := map[string]string{`"name": "Normal"`: `"name": "Critical"`, `"Europe/Paris"`: `"Mars/Olympus"`, `"premium"`: `["a", "b"]`}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			s, err := newSource(t, "https://redmine.example.com", tc.cfg, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			loadEnumerations(t, s)
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				Issue issue `json:"issue"`
			}
			if err := json.Unmarshal([]byte(strings.Replace(string(data), tc.edit, repl[tc.edit], 1)), &out); err != nil {
				t.Fatal(err)
			}
			_, err = s.mapIssue(out.Issue)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ cfg, want string }{
		{"mapping: {severity: {High: 5}}", "severity 5 is not between 1 and 4"},
		{"mapping: {status_map: {Feedback: waiting}}", `unknown status "waiting"`},
		{"mapping: {tier_field: \"\"}", "want a custom field's name or id"},
		{"projects: [\"a/b\"]", "want a project identifier"},
		{"mapping: {colour: red}", "colour"},
	}
	for _, tc := range tests {
		t.Run(tc.cfg, func(t *testing.T) {
			_, err := newSource(t, "https://redmine.example.com", tc.cfg, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// fake is a Redmine that answers the queries the source makes, from
// issues in memory, and counts requests.
type fake struct {
	mu       sync.Mutex
	issues   map[int64]*fakeIssue
	requests map[string]int
	// onList runs after each list page is served (to change data while
	// the source pages).
	onList func(page int)
	pages  int
}

type fakeIssue struct {
	id                 int64
	created, updated   time.Time
	closed             bool
	closedOn           time.Time
	priority, statusID int64
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.Path
	if strings.HasPrefix(path, "/issues/") {
		f.requests["/issues/N.json"]++
	} else {
		f.requests[path]++
	}
	if r.Header.Get("X-Redmine-API-Key") != testKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	js := func(is *fakeIssue) map[string]any {
		m := map[string]any{"id": is.id, "project": map[string]any{"id": 1, "name": "SLA Test"},
			"tracker": map[string]any{"id": 3, "name": "Support"}, "status": map[string]any{"id": is.statusID, "name": "New", "is_closed": is.closed},
			"priority": map[string]any{"id": is.priority, "name": "Normal"}, "author": map[string]any{"id": 1, "name": "A"},
			"created_on": stamp(is.created), "updated_on": stamp(is.updated), "closed_on": nil}
		if is.closed {
			m["status"] = map[string]any{"id": 5, "name": "Closed", "is_closed": true}
			m["closed_on"] = stamp(is.closedOn)
		}
		return m
	}
	var out any
	switch {
	case path == "/users/current.json":
		out = map[string]any{"user": map[string]any{"id": 5}}
	case path == "/issue_statuses.json":
		out = json.RawMessage(`{"issue_statuses":[{"id":1,"name":"New","is_closed":false},{"id":5,"name":"Closed","is_closed":true}]}`)
	case path == "/enumerations/issue_priorities.json":
		out = json.RawMessage(`{"issue_priorities":[{"id":2,"name":"Normal"}]}`)
	case strings.HasPrefix(path, "/issues/"):
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(path, "/issues/"), ".json"), 10, 64)
		is, ok := f.issues[id]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		m := js(is)
		m["journals"] = []any{}
		out = map[string]any{"issue": m}
	case path == "/issues.json":
		out = f.list(r, js)
	default:
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// list applies the long-form filters the source sends, with Redmine's
// rounding (">= t" is "> t-1s" on times kept to the microsecond).
func (f *fake) list(r *http.Request, js func(*fakeIssue) map[string]any) any {
	q := r.URL.Query()
	var sel []*fakeIssue
	for _, is := range f.issues {
		ok := true
		for _, fl := range q["f[]"] {
			op, v := q.Get("op["+fl+"]"), q.Get("v["+fl+"][]")
			tm, _ := time.Parse(time.RFC3339, v)
			n, _ := strconv.ParseInt(v, 10, 64)
			switch fl + " " + op {
			case "status_id o":
				ok = ok && !is.closed
			case "status_id c":
				ok = ok && is.closed
			case "closed_on >=":
				ok = ok && is.closed && is.closedOn.After(tm.Add(-time.Second))
			case "updated_on >=":
				ok = ok && is.updated.After(tm.Add(-time.Second))
			case "created_on <=":
				ok = ok && !is.created.After(tm)
			case "issue_id <=":
				ok = ok && is.id <= n
			}
		}
		if ok {
			sel = append(sel, is)
		}
	}
	if q.Get("sort") == "id:desc" {
		slices.SortFunc(sel, func(a, b *fakeIssue) int { return int(b.id - a.id) })
	} else {
		slices.SortFunc(sel, func(a, b *fakeIssue) int {
			if c := a.updated.Compare(b.updated); c != 0 {
				return c
			}
			return int(a.id - b.id)
		})
	}
	off, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	total := len(sel)
	sel = sel[min(off, len(sel)):]
	sel = sel[:min(limit, len(sel))]
	page := make([]any, 0, len(sel))
	for _, is := range sel {
		page = append(page, js(is))
	}
	if q.Get("limit") != "1" {
		f.pages++
		if f.onList != nil {
			defer f.onList(f.pages)
		}
	}
	return map[string]any{"issues": page, "total_count": total, "offset": off, "limit": limit}
}

// put adds or changes an issue (the caller holds no lock).
func (f *fake) put(is fakeIssue) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issues[is.id] = &is
}

func newFake(t *testing.T, now time.Time, cfg string) (*fake, *source) {
	t.Helper()
	f := &fake{issues: map[int64]*fakeIssue{}, requests: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s, err := newSource(t, srv.URL, cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

func (f *fake) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.requests {
		n += c
	}
	clear(f.requests)
	return n
}

func ids(cases []sla.Case) []string {
	out := make([]string, 0, len(cases))
	for _, c := range cases {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

// TestSyncPaging checks the paging by updated_on: a bulk edit with more
// issues in one second than a page, and issues changed while the list is
// read, each returned once and none missed.
func TestSyncPaging(t *testing.T) {
	now := at("2026-03-10T12:00:00Z")
	f, s := newFake(t, now, "")
	s.limit = 10
	t0 := at("2026-03-09T00:00:00Z")
	for i := int64(1); i <= 60; i++ {
		up := t0.Add(time.Duration(i) * time.Minute)
		if i > 20 && i <= 45 { // a bulk edit: 25 issues within a second
			up = t0.Add(time.Hour).Add(time.Duration(i) * time.Millisecond)
		}
		f.put(fakeIssue{id: i, created: t0, updated: up, priority: 2, statusID: 1})
	}
	// While the full sync reads its pages, an issue already read and one
	// not yet read change: both move to the end of the list.
	// So does one of the bulk edit, read on an earlier page of the same
	// second.
	moved := map[int]int64{2: 6, 4: 12, 5: 22}
	f.onList = func(page int) {
		if id, ok := moved[page]; ok {
			f.issues[id].updated = now.Add(-time.Duration(10-page) * time.Second)
		}
	}
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 60 || len(ids(b.Cases)) != len(slices.Compact(ids(b.Cases))) {
		t.Errorf("full sync: %d cases %v, want the 60 issues once each", len(b.Cases), ids(b.Cases))
	}
}

// TestSyncIncremental checks what later syncs return and request: only
// the changed issues, the overlap's issues not again, and a deleted issue
// in Deleted.
func TestSyncIncremental(t *testing.T) {
	now := at("2026-03-10T12:00:00Z")
	f, s := newFake(t, now, "")
	s.limit = 10
	t0 := at("2026-03-10T11:00:00Z")
	for i := int64(1); i <= 100; i++ {
		f.put(fakeIssue{id: i, created: t0, updated: t0.Add(time.Duration(i) * 20 * time.Second), priority: 2, statusID: 1})
	}
	f.put(fakeIssue{id: 101, created: t0, updated: t0, closed: true, closedOn: at("2026-01-31T00:00:00Z"), priority: 2, statusID: 5})
	full, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Cases) != 100 || !full.Full {
		t.Fatalf("full sync: %d cases, full %v; want the 100 open ones", len(full.Cases), full.Full)
	}
	f.total()

	// Nothing changed: the issues of the overlap were returned already.
	same, err := s.Sync(context.Background(), full.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(same.Cases) != 0 {
		t.Errorf("unchanged: %v returned again", ids(same.Cases))
	}
	f.total()

	changed := []int64{3, 50, 77}
	for i, id := range changed {
		f.issues[id].updated = now.Add(time.Duration(i) * time.Second)
	}
	f.put(fakeIssue{id: 102, created: now, updated: now.Add(5 * time.Second), priority: 2, statusID: 1})
	inc, err := s.Sync(context.Background(), same.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(inc.Cases); !slices.Equal(got, []string{"102", "3", "50", "77"}) {
		t.Errorf("incremental: %v, want 102 3 50 77", got)
	}
	// The key check, the count, the pages (the overlap's 15 issues and
	// the 4 changed ones; a page repeats at most one of the last) and four
	// journals.
	j := f.requests["/issues/N.json"]
	if n, most := f.total(), 2+(15+4)/(s.limit-1)+1+4; j != 4 || n > most {
		t.Errorf("incremental sync of 4 issues: %d requests, %d for journals; want at most %d, 4", n, j, most)
	}

	f.mu.Lock()
	delete(f.issues, 50)
	f.mu.Unlock()
	del, err := s.Sync(context.Background(), inc.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if del.Full || !slices.Equal(del.Deleted, []string{"50"}) || slices.Contains(ids(del.Cases), "50") {
		t.Errorf("after a deletion: full %v, deleted %v, cases %v; want 50 deleted", del.Full, del.Deleted, ids(del.Cases))
	}
	after, err := s.Sync(context.Background(), del.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Deleted) != 0 {
		t.Errorf("the deletion was reported again: %v", after.Deleted)
	}
}

func TestWrongKey(t *testing.T) {
	f, s := newFake(t, time.Now(), "")
	s.opts.Auth = nil
	s.setTestClient(nil, nil)
	_, err := s.Sync(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || strings.Contains(err.Error(), testKey) {
		t.Errorf("got %v, want a 401 that does not show the key", err)
	}
	if n := f.total(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
