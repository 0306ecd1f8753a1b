package rt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

const token = "1-14-0123456789abcdef0123456789abcdef"

// now is the tests' clock: shortly after the recorded tickets were made,
// so the first Sync reads what was resolved since 2026-10-01.
var now = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// at is an RFC 3339 instant.
var at = sourcetest.MustTime

var _ rest.Clock = (*fakeapi.Clock)(nil)

// policy has the tiers the recorded SLA levels may name; Basic is not one.
var policy = &sla.Policy{Name: "test", Tiers: map[string]*sla.Tier{"premium": {}, "production": {}, "standard": {}}}

// decode builds a source from a YAML mapping; env holds the variables.
func decode(t testing.TB, yml string, env map[string]string) (*source, error) {
	t.Helper()
	s, err := sourcetest.Decode(t, New, yml, env, sources.Env{Name: "rt", Policy: policy, Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	return s.(*source), nil
}

// setup starts fake and a source on it with a fake clock.
func setup(t testing.TB, fake *fakeRT, extra string) *source {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	s, err := decode(t, "type: rt\nurl: "+srv.URL+"\ntoken: ${RT_TOKEN}\nqueues: [Support]\n"+extra, map[string]string{"RT_TOKEN": token})
	if err != nil {
		t.Fatal(err)
	}
	s.setTestClient(fakeapi.NewClock(now), nil)
	return s
}

func TestConfig(t *testing.T) {
	env := map[string]string{"RT_TOKEN": token, "RT_PASSWORD": "pw"}
	const base = "url: https://rt.example.com\ntoken: ${RT_TOKEN}\n"
	for _, tc := range []struct{ name, yml, want string }{
		{"unknown key", base + "queue: Support\n", `cfg.yml:4: sources[0]: unknown field "queue"`},
		{"inline token", "url: https://rt.example.com\ntoken: " + token + "\n", `cfg.yml:3: sources[0].token: secrets are never written inline`},
		{"missing url", "token: ${RT_TOKEN}\n", `sources[0].url: missing: RT's web address`},
		{"no credentials", "url: https://rt.example.com\n", `missing credentials`},
		{"token and password", base + "username: root\npassword: ${RT_PASSWORD}\n", `either a token or a username and password`},
		{"user without password", "url: https://rt.example.com\nusername: root\n", `sources[0].password: missing`},
		{"empty queues", base + "queues: []\n", `cfg.yml:4: sources[0].queues: name at least one queue`},
		{"bad timezone", base + "timezone: Berlin\n", `cfg.yml:4: sources[0].timezone: unknown time zone "Berlin"`},
		{"unknown tier", base + "mapping:\n  tiers: {Gold: gold}\n", `cfg.yml:5: sources[0].mapping.tiers.Gold: tier "gold" is not in policy test`},
		{"bad severity key", base + "mapping:\n  severity: {5: 10}\n", `sources[0].mapping.severity.5: unknown severity "5"`},
		{"severities out of order", base + "mapping:\n  severity: {1: 50, 2: 60}\n", `severity 2 starts at priority 60, not below severity 1's 50`},
		{"deleted mapped", base + "mapping:\n  closed_statuses: [rejected, deleted]\n", `leave deleted out`},
		{"status twice", base + "mapping:\n  waiting_statuses: [stalled]\n  hold_statuses: [stalled]\n", `status "stalled" is in two lists`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, "type: rt\n"+tc.yml, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
	s, err := decode(t, "type: rt\nurl: https://rt.example.com/rt/\nusername: root\npassword: ${RT_PASSWORD}\n", env)
	if err != nil || s.base != "https://rt.example.com/rt" {
		t.Fatalf("basic auth with a web path: %v, base %q", err, s.base)
	}
}

// TestMapping maps the tickets and histories recorded on a real RT 5
// (testdata/search.json, history-N.json).
func TestMapping(t *testing.T) {
	s := setup(t, recorded(t), "")
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Full || len(b.Problems) != 0 || len(b.Deleted) != 0 {
		t.Fatalf("full %v, problems %v, deleted %v", b.Full, b.Problems, b.Deleted)
	}
	url := strings.TrimSuffix(b.Cases[0].URL, "5")
	want := []sla.Case{
		// Premium, answered after a customer follow-up and an internal
		// comment: the comment and the customer's reply are no response.
		{ID: "5", Customer: "acme", Tier: "premium", Severity: 1, Status: sla.StatusOpen,
			Created: at("2026-11-22T08:05:02Z"), FirstResponse: at("2026-11-22T08:05:05Z"),
			StatusHistory: []sla.StatusChange{{At: at("2026-11-22T08:05:05Z"), Status: sla.StatusOpen}},
			SourceDue:     at("2026-11-23T11:00:00Z")},
		// Priority 50 → 95: severity 3, then 1; answered, then stalled.
		{ID: "6", Customer: "acme", Tier: "production", Severity: 1, Status: sla.StatusPendingCustomer,
			Created: at("2026-11-22T08:05:06Z"), FirstResponse: at("2026-11-22T08:05:07Z"),
			StatusHistory: []sla.StatusChange{{At: at("2026-11-22T08:05:07Z"), Status: sla.StatusOpen},
				{At: at("2026-11-22T08:05:08Z"), Status: sla.StatusPendingCustomer}},
			SeverityHistory: []sla.SeverityChange{{At: at("2026-11-22T08:05:06Z"), Severity: 3},
				{At: at("2026-11-22T08:05:07Z"), Severity: 1}},
			SourceDue: at("2026-11-25T07:00:00Z")},
		// Basic is no tier of the policy: the customer's tier applies.
		{ID: "7", Customer: "acme", Severity: 4, Status: sla.StatusResolved,
			Created: at("2026-11-22T08:05:08Z"), FirstResponse: at("2026-11-22T08:05:09Z"), Resolved: at("2026-11-22T08:05:10Z"),
			StatusHistory: []sla.StatusChange{{At: at("2026-11-22T08:05:09Z"), Status: sla.StatusOpen},
				{At: at("2026-11-22T08:05:10Z"), Status: sla.StatusResolved}},
			SourceDue: at("2026-11-30T07:00:00Z")},
		// Rejected without an answer.
		{ID: "8", Customer: "acme", Tier: "production", Severity: 2, Status: sla.StatusClosed,
			Created: at("2026-11-22T08:05:11Z"), Resolved: at("2026-11-22T08:05:11Z"),
			StatusHistory: []sla.StatusChange{{At: at("2026-11-22T08:05:11Z"), Status: sla.StatusClosed}},
			SourceDue:     at("2026-11-23T11:00:00Z")},
	}
	for i := range want {
		want[i].Source, want[i].URL = "rt", url+want[i].ID
	}
	if len(b.Cases) != len(want) {
		t.Fatalf("%d cases, want %d", len(b.Cases), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(b.Cases[i], want[i]) {
			g, _ := json.Marshal(b.Cases[i])
			w, _ := json.Marshal(want[i])
			t.Errorf("case %s:\n got %s\nwant %s", want[i].ID, g, w)
		}
	}
	if !strings.HasSuffix(url, "/Ticket/Display.html?id=") {
		t.Errorf("url %q", url)
	}
	if b.Cursor != "2026-11-22T08:05:11Z" {
		t.Errorf("cursor %q, want the latest LastUpdated", b.Cursor)
	}
}

// TestMappingOptions: a tier map, other thresholds, other statuses, and
// the sample of a ticket whose requestor answered after the staff reply.
func TestMappingOptions(t *testing.T) {
	f := recorded(t)
	f.tickets = items(t, "tickets-search-with-fields.json")[3:] // ticket 4 of the samples
	f.histories["4"] = items(t, "ticket-history-with-fields.json")
	s := setup(t, f, "mapping:\n  tiers: {PREMIUM: standard}\n  severity: {1: 81, 2: 80}\n  hold_statuses: [open]\n")
	b, err := s.Sync(context.Background(), "")
	if err != nil || len(b.Cases) != 1 {
		t.Fatalf("%v, %d cases", err, len(b.Cases))
	}
	c := b.Cases[0]
	// Priority 80; the requestor organisation is not in the sample.
	if c.Tier != "standard" || c.Severity != 2 || c.Customer != "" || c.Status != sla.StatusOnHold {
		t.Errorf("tier %q, severity %d, customer %q, status %v", c.Tier, c.Severity, c.Customer, c.Status)
	}
	if c.FirstResponse != at("2026-11-22T03:48:48Z") {
		t.Errorf("first response %v, want the agent's reply, not the customer's", c.FirstResponse)
	}
	// A priority below every threshold has no severity.
	if sev, ok := s.severityOf("79"); sev != 0 || !ok {
		t.Errorf("priority 79: %d, %v", sev, ok)
	}
}

func TestFirstResponder(t *testing.T) {
	created := at("2026-03-02T09:00:00Z")
	reply := func(by string, min int) txn {
		return txn{ID: "1", Type: "Correspond", Creator: principal{ID: by}, Created: rtTime{created.Add(time.Duration(min) * time.Minute)}}
	}
	for _, tc := range []struct {
		name  string
		owner string
		h     []txn
		want  time.Time
	}{
		{"requestor only", "Nobody", []txn{reply("customer", 5)}, time.Time{}},
		{"a Cc replies: RT counts it", "Nobody", []txn{reply("customer", 5), reply("colleague", 9)}, created.Add(9 * time.Minute)},
		{"staff who is a requestor does not respond", "Nobody", []txn{reply("agent", 5)}, time.Time{}},
		{"the owner always responds", "agent", []txn{reply("agent", 5)}, created.Add(5 * time.Minute)},
		{"comments never count", "Nobody", []txn{{Type: "Comment", Creator: principal{ID: "staff"}, Created: rtTime{created}}}, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &source{statuses: map[string]sla.Status{}, severity: DefaultSeverity}
			tk := ticket{Owner: principal{ID: tc.owner}, Requestor: []principal{{ID: "customer"}, {ID: "agent"}}}
			c := sla.Case{Created: created}
			if err := s.applyHistory(&c, tk, tc.h); err != nil {
				t.Fatal(err)
			}
			if !c.FirstResponse.Equal(tc.want) {
				t.Errorf("first response %v, want %v", c.FirstResponse, tc.want)
			}
		})
	}
}

// TestQueries checks the TicketSQL sent: dates in the API user's time zone,
// without a zone, within the queues.
func TestQueries(t *testing.T) {
	f := recorded(t)
	s := setup(t, f, "timezone: Europe/Berlin\nquery: \"Owner = 'agent'\"\n")
	ctx := context.Background()
	if _, err := s.Sync(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sync(ctx, "2026-11-22T08:05:11Z"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Window(ctx, at("2026-10-01T00:00:00Z"), at("2026-11-01T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"(Queue = 'Support') AND (Owner = 'agent') AND (Status = '__Active__' OR Resolved >= '2026-10-01 02:00:00')",
		"(Queue = 'Support') AND (Owner = 'agent') AND LastUpdated >= '2026-11-22 09:00:11'",
		"ObjectType = 'RT::Ticket' AND ((Type = 'Status' AND NewValue = 'deleted') OR (Type = 'AddLink' AND Field = 'MergedInto')) AND Created >= '2026-11-22 09:00:11' AND (TicketQueue = 'Support')",
		"(Queue = 'Support') AND (Owner = 'agent') AND Created < '2026-11-01 01:00:00' AND (Status = '__Active__' OR Resolved >= '2026-10-01 02:00:00')",
	}
	if got := f.lastQueries(); !reflect.DeepEqual(got, want) {
		t.Errorf("queries:\n got %q\nwant %q", got, want)
	}
	if q := quote(`it's a \ test`); q != `'it\'s a \\ test'` {
		t.Errorf("quote: %s", q)
	}
}

// TestIncremental: deletions and merges (testdata/removed.json: ticket 2
// deleted, 4 merged into 3), and tickets returned for a cursor already
// are not read again while unchanged.
func TestIncremental(t *testing.T) {
	f := recorded(t)
	s := setup(t, f, "")
	ctx := context.Background()
	b, err := s.Sync(ctx, "2026-11-22T08:05:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if b.Full || len(b.Cases) != 4 || !reflect.DeepEqual(b.Deleted, []string{"2", "4"}) || b.Cursor != "2026-11-22T08:05:11Z" {
		t.Fatalf("full %v, %d cases, deleted %v, cursor %s", b.Full, len(b.Cases), b.Deleted, b.Cursor)
	}
	f.reset()
	again, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Cases) != 0 || f.requests(apiPath+"/ticket/5/history") != 0 {
		t.Errorf("unchanged tickets read again: %d cases, %d requests", len(again.Cases), f.requests(""))
	}
	// A ticket deleted and brought back is a case, not a deletion.
	f.removed = append(f.removed, json.RawMessage(`{"ObjectId":"5","Type":"Status","NewValue":"deleted"}`))
	b, err = s.Sync(ctx, "2026-11-22T08:05:00Z")
	if err != nil || len(b.Cases) != 4 || !reflect.DeepEqual(b.Deleted, []string{"2", "4"}) {
		t.Errorf("%v: %d cases, deleted %v", err, len(b.Cases), b.Deleted)
	}
}

// TestPaging: RT counts pages for some users only; without a count the
// source reads until a short page.
func TestPaging(t *testing.T) {
	for _, uncounted := range []bool{false, true} {
		f := recorded(t)
		f.uncounted = uncounted
		if uncounted {
			// As the agent read it: without ShowOutgoingEmail, RT hides
			// the EmailRecord transactions.
			f.histories["6"] = items(t, "history-6-agent.json")
		}
		s := setup(t, f, "")
		s.pageSize = 2
		b, err := s.Sync(context.Background(), "")
		if err != nil || len(b.Cases) != 4 {
			t.Fatalf("uncounted %v: %v, %d cases", uncounted, err, len(b.Cases))
		}
		// 4 tickets, 2 a page: 2 pages, and a third, empty, without a
		// count; histories of 9 to 12 transactions: 5 to 6 pages each.
		wantSearch := 2
		if uncounted {
			wantSearch = 3
		}
		if n := f.requests(ticketsPath); n != wantSearch {
			t.Errorf("uncounted %v: %d search requests, want %d", uncounted, n, wantSearch)
		}
		if !reflect.DeepEqual(b.Cases[1].SeverityHistory, []sla.SeverityChange{{At: at("2026-11-22T08:05:06Z"), Severity: 3}, {At: at("2026-11-22T08:05:07Z"), Severity: 1}}) {
			t.Errorf("uncounted %v: a history read in pages lost a change: %v", uncounted, b.Cases[1].SeverityHistory)
		}
	}
}

// TestProblems: a bad ticket is skipped and named; the others are kept. A
// failed request fails the Sync.
func TestProblems(t *testing.T) {
	f := recorded(t)
	var bad map[string]any
	_ = json.Unmarshal(f.tickets[0], &bad)
	bad["Priority"] = "high"
	f.tickets[0], _ = json.Marshal(bad)
	delete(f.histories, "6") // gone between the search and its history
	s := setup(t, f, "")
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 2 || len(b.Problems) != 2 {
		t.Fatalf("%d cases, problems %v", len(b.Cases), b.Problems)
	}
	for i, want := range []string{`ticket 5: priority: "high" is not a number`, "ticket 6: history"} {
		var pe sources.Problem
		if !errors.As(b.Problems[i], &pe) || !strings.Contains(b.Problems[i].Error(), want) {
			t.Errorf("problem %d: %v, want %q", i, b.Problems[i], want)
		}
	}
	f.rec.Inject(fakeapi.Fault{Path: apiPath + "/ticket/7/history", Code: 500, Times: 10})
	if _, err := s.Sync(context.Background(), ""); err == nil {
		t.Error("a history that fails to load was skipped silently")
	}
}

// TestRequests checks what an incremental poll costs on a small scale:
// 250 tickets of which 25 changed cost one search page, one deletions
// page and 25 histories (100,000 with 1,000 changed: 10 + 1 + 1,000).
func TestRequests(t *testing.T) {
	const total, changed = 250, 25
	f := recorded(t)
	tmpl := map[string]any{}
	_ = json.Unmarshal(f.tickets[0], &tmpl)
	f.tickets = nil
	for i := 1; i <= total; i++ {
		tmpl["id"] = strconv.Itoa(i)
		tk, _ := json.Marshal(tmpl)
		f.tickets = append(f.tickets, tk)
		f.histories[strconv.Itoa(i)] = f.histories["5"]
	}
	s := setup(t, f, "")
	full, err := s.Sync(context.Background(), "")
	if err != nil || len(full.Cases) != total {
		t.Fatalf("%v, %d cases", err, len(full.Cases))
	}
	if n, want := f.requests(""), 3+total; n != want {
		t.Errorf("full sync: %d requests, want %d", n, want)
	}
	// The fake answers every search with every ticket: the incremental
	// one returns the changed tickets only.
	f.tickets = f.tickets[:changed]
	f.reset()
	inc, err := s.Sync(context.Background(), "2026-11-20T00:00:00Z")
	if err != nil || len(inc.Cases) != changed {
		t.Fatalf("%v, %d cases", err, len(inc.Cases))
	}
	if n, want := f.requests(""), 1+1+changed; n != want {
		t.Errorf("incremental sync of %d changed tickets: %d requests, want %d", changed, n, want)
	}
}

// TestUncountedHistory: RT gives pages null in a history a non-superuser
// reads (testdata/history-6-agent.json).
func TestUncountedHistory(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "history-6-agent.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p page[txn]
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Pages != nil || len(p.Items) != 8 {
		t.Errorf("pages %v, %d items", p.Pages, len(p.Items))
	}
}

// TestEmptySearch: RT answers a search that matches nothing with pages
// 0.0, a float (testdata/search-empty.json).
func TestEmptySearch(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "search-empty.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	s, err := decode(t, "type: rt\nurl: "+srv.URL+"\ntoken: ${RT_TOKEN}\n", map[string]string{"RT_TOKEN": token})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sync(context.Background(), "2026-11-22T08:00:00Z")
	if err != nil || len(b.Cases) != 0 || n != 2 {
		t.Errorf("%v, %d cases, %d requests (a search and a deletions page)", err, len(b.Cases), n)
	}
	if b.Cursor != "2026-11-22T08:00:00Z" {
		t.Errorf("cursor %q: with nothing new it stays", b.Cursor)
	}
}
