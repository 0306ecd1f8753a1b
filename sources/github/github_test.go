package github

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
	"github.com/support-sla/support_sla_exporter/sources/github/githubfake"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

const (
	token = "ghp_s3cretTokenValue"
	repo  = "acme/support"
	// The people: the customer who opens issues, and the support side.
	customer = "bob"
	agent    = "alice"
)

// now is the tests' clock: the first Sync reaches back to 2026-02-01.
var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// at is an RFC 3339 instant.
var at = sourcetest.MustTime

var _ rest.Clock = (*fakeapi.Clock)(nil)

// decode builds a source from a YAML mapping; env holds the variables.
func decode(t testing.TB, yml string, env map[string]string) (*source, error) {
	t.Helper()
	s, err := sourcetest.Decode(t, New, yml, env, sources.Env{Name: "gh", Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	return s.(*source), nil
}

// setup starts a fake with one repository and a source on it with a fake
// clock, which is also the fake's.
func setup(t testing.TB, extra string) (*githubfake.Server, *source, *fakeapi.Clock) {
	t.Helper()
	fake := githubfake.New(token)
	clock := fakeapi.NewClock(now)
	fake.Now = clock.Now
	fake.AddRepo(repo)
	srv := httptest.NewTLSServer(fake)
	t.Cleanup(srv.Close)
	s, err := decode(t, "type: github\nurl: "+srv.URL+"\ntoken: ${GH_TOKEN}\nrepositories: ["+repo+"]\n"+extra, map[string]string{"GH_TOKEN": token})
	if err != nil {
		t.Fatal(err)
	}
	s.setTestClient(clock, srv.Client().Transport)
	return fake, s, clock
}

func ids(cases []sla.Case) string {
	var out []string
	for _, c := range cases {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func TestConfig(t *testing.T) {
	env := map[string]string{"GH_TOKEN": token}
	for _, tc := range []struct{ name, yml, want string }{
		{"unknown key", "token: ${GH_TOKEN}\nrepositories: [a/b]\nrepos: []\n", `cfg.yml:3: sources[0]: unknown field "repos"`},
		{"no repositories", "token: ${GH_TOKEN}\n", `sources[0].repositories: missing`},
		{"bad repository", "token: ${GH_TOKEN}\nrepositories: [acme]\n", `cfg.yml:2: sources[0].repositories[0]: want owner/repo`},
		{"repository twice", "token: ${GH_TOKEN}\nrepositories: [a/b, a/b]\n", `sources[0].repositories[1]: a/b is listed twice`},
		{"inline token", "token: " + token + "\nrepositories: [a/b]\n", `cfg.yml:1: sources[0].token: secrets are never written inline`},
		{"no token", "repositories: [a/b]\n", `missing credentials: token`},
		{"bad url", "url: api.github.com\ntoken: ${GH_TOKEN}\nrepositories: [a/b]\n", `sources[0].url: want the API's address`},
		{"bad responder", "token: ${GH_TOKEN}\nrepositories: [a/b]\nmapping:\n  responders: [OWNER, STAFF]\n", `cfg.yml:4: sources[0].mapping.responders[1]: unknown author_association "STAFF"`},
		{"bad severity", "token: ${GH_TOKEN}\nrepositories: [a/b]\nmapping:\n  severity: {critical: 0}\n", `sources[0].mapping.severity.critical: severity 0`},
		{"bad customer", "token: ${GH_TOKEN}\nrepositories: [a/b]\nmapping:\n  customer: org\n", `unknown "org": want label or repository`},
		{"bad duplicates", "token: ${GH_TOKEN}\nrepositories: [a/b]\nmapping:\n  duplicates: merged\n", `unknown "merged": want deleted or closed`},
		{"same labels", "token: ${GH_TOKEN}\nrepositories: [a/b]\nmapping:\n  waiting_label: paused\n  hold_label: paused\n", `"paused" is also the waiting_label`},
		{"zero interval", "token: ${GH_TOKEN}\nrepositories: [a/b]\nreconcile_interval: 0s\n", `cfg.yml:3: sources[0].reconcile_interval: bad duration "0s": must be positive`},
		{"empty prefix", "token: ${GH_TOKEN}\nrepositories: [a/b]\nmapping:\n  tier_prefix: \"\"\n", `sources[0].mapping.tier_prefix: want a label prefix`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.yml, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
	s, err := decode(t, "token: ${GH_TOKEN}\nrepositories: [acme/support]\n", env)
	if err != nil {
		t.Fatal(err)
	}
	if s.base != DefaultURL || s.overlap != 5*time.Minute || !reflect.DeepEqual(s.responders, DefaultResponders) ||
		s.waiting != "waiting-for-customer" || s.hold != "on-hold" || s.sevPrefix != "severity/" || !reflect.DeepEqual(s.severity, DefaultSeverity) ||
		s.tierPrefix != "tier/" || s.customerPrefix != "customer/" || s.byRepository || s.keepDuplicates || s.reconcile != 6*time.Hour {
		t.Errorf("defaults %+v", s)
	}
	if b, ok := s.opts.Auth.(rest.Bearer); !ok || b.Token != token {
		t.Errorf("auth %T", s.opts.Auth)
	}
	s, err = decode(t, `url: https://github.example.com/api/v3/
token: ${GH_TOKEN}
repositories: [acme/support, acme/helpdesk]
requests_per_minute: 60
overlap: 10m
reconcile_interval: 12h
mapping:
  responders: [owner, member]
  waiting_label: "status: waiting"
  hold_label: ""
  severity_prefix: "sev"
  severity: {"1": 1, "2": 1, "3": 2}
  tier_prefix: "plan:"
  customer: repository
  duplicates: closed
`, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.base != "https://github.example.com/api/v3" || s.overlap != 10*time.Minute || s.opts.RequestsPerMinute != 60 ||
		!reflect.DeepEqual(s.repos, []string{"acme/support", "acme/helpdesk"}) || !reflect.DeepEqual(s.responders, []string{"OWNER", "MEMBER"}) ||
		s.waiting != "status: waiting" || s.hold != "" || s.sevPrefix != "sev" || !reflect.DeepEqual(s.severity, map[string]int{"1": 1, "2": 1, "3": 2}) ||
		s.tierPrefix != "plan:" || !s.byRepository || !s.keepDuplicates || s.reconcile != 12*time.Hour {
		t.Errorf("decoded %+v", s)
	}
}

// TestDocsPayloads maps the payloads of testdata/, shaped as the examples
// of GitHub's REST documentation: the pull request of the list is left
// out, the issue's events give its histories, its comments the response.
func TestDocsPayloads(t *testing.T) {
	file := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var head http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		head = r.Header.Clone()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Path {
		case "/repos/octocat/Hello-World/issues":
			_, _ = w.Write(file("issues.json"))
		case "/repos/octocat/Hello-World/issues/1348/events":
			_, _ = w.Write(file("events.json"))
		case "/repos/octocat/Hello-World/issues/1348/comments":
			_, _ = w.Write(file("comments.json"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	s, err := decode(t, "url: "+srv.URL+"\ntoken: ${GH_TOKEN}\nrepositories: [octocat/Hello-World]\n", map[string]string{"GH_TOKEN": token})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sync(context.Background(), "octocat%2FHello-World=2011-04-01T00%3A00%3A00Z")
	if err != nil {
		t.Fatal(err)
	}
	id := "octocat/Hello-World#1348"
	want := sla.Case{Source: "gh", ID: id, Key: id, URL: "https://github.com/octocat/Hello-World/issues/1348",
		Customer: "globex", Tier: "premium", Severity: 2, Status: sla.StatusClosed,
		Created: at("2011-04-22T13:33:48Z"), FirstResponse: at("2011-04-22T15:10:00Z"), Resolved: at("2011-04-23T09:00:00Z"),
		StatusHistory: []sla.StatusChange{
			{At: at("2011-04-22T13:33:48Z"), Status: sla.StatusOpen},
			{At: at("2011-04-22T15:10:00Z"), Status: sla.StatusPendingCustomer},
			{At: at("2011-04-22T18:00:00Z"), Status: sla.StatusOpen},
			{At: at("2011-04-22T20:00:00Z"), Status: sla.StatusClosed},
			{At: at("2011-04-23T08:00:00Z"), Status: sla.StatusOpen},
			{At: at("2011-04-23T09:00:00Z"), Status: sla.StatusClosed},
		},
		SeverityHistory: []sla.SeverityChange{
			{At: at("2011-04-22T13:33:48Z"), Severity: 3},
			{At: at("2011-04-22T19:00:00Z"), Severity: 2},
		},
		Labels: []string{"severity/2", "tier/premium", "customer/globex"}}
	if len(b.Cases) != 1 || len(b.Problems) != 0 {
		t.Fatalf("cases %+v, problems %v", b.Cases, b.Problems)
	}
	if !reflect.DeepEqual(b.Cases[0], want) {
		t.Errorf("\n got %+v\nwant %+v", b.Cases[0], want)
	}
	if b.Cursor != "octocat%2FHello-World=2011-04-23T09%3A00%3A00Z" {
		t.Errorf("cursor %q", b.Cursor)
	}
	if head.Get("Authorization") != "Bearer "+token || head.Get("Accept") != "application/vnd.github+json" || head.Get("X-GitHub-Api-Version") != "2022-11-28" {
		t.Errorf("request headers %v", head)
	}
}

// TestMapping checks statuses, labels, responders and histories on the
// fake, one issue per row.
func TestMapping(t *testing.T) {
	t0 := at("2026-03-02T09:00:00Z")
	tm := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	type step func(f *githubfake.Server, n int)
	label := func(m int, l string) step {
		return func(f *githubfake.Server, n int) { f.Label(repo, n, tm(m), agent, l) }
	}
	unlabel := func(m int, l string) step {
		return func(f *githubfake.Server, n int) { f.Unlabel(repo, n, tm(m), agent, l) }
	}
	reply := func(m int, who, assoc string) step {
		return func(f *githubfake.Server, n int) { f.Comment(repo, n, tm(m), who, assoc) }
	}
	closeAs := func(m int, reason string) step {
		return func(f *githubfake.Server, n int) { f.Close(repo, n, tm(m), agent, reason) }
	}
	reopen := func(m int) step { return func(f *githubfake.Server, n int) { f.Reopen(repo, n, tm(m), agent) } }
	type hist = []sla.StatusChange
	for _, tc := range []struct {
		name   string
		extra  string // mapping
		labels []string
		steps  []step
		check  func(t *testing.T, c sla.Case)
	}{
		{"opened with labels, never touched", "", []string{"severity/1", "tier/gold", "customer/initech", "waiting-for-customer"}, nil,
			func(t *testing.T, c sla.Case) {
				if c.Severity != 1 || c.Tier != "gold" || c.Customer != "initech" || c.Status != sla.StatusPendingCustomer ||
					!reflect.DeepEqual(c.StatusHistory, hist{{At: t0, Status: sla.StatusPendingCustomer}}) || c.SeverityHistory != nil {
					t.Errorf("%+v", c)
				}
			}},
		{"on hold, then waiting too: waiting wins", "", nil, []step{label(10, "on-hold"), label(20, "waiting-for-customer")},
			func(t *testing.T, c sla.Case) {
				want := hist{{At: t0, Status: sla.StatusOpen}, {At: tm(10), Status: sla.StatusOnHold}, {At: tm(20), Status: sla.StatusPendingCustomer}}
				if c.Status != sla.StatusPendingCustomer || !reflect.DeepEqual(c.StatusHistory, want) {
					t.Errorf("%v %v", c.Status, c.StatusHistory)
				}
			}},
		{"two severities: the worst; an unknown suffix is ignored", "", []string{"severity/3", "severity/urgent"}, []step{label(5, "severity/2")},
			func(t *testing.T, c sla.Case) {
				want := []sla.SeverityChange{{At: t0, Severity: 3}, {At: tm(5), Severity: 2}}
				if c.Severity != 2 || !reflect.DeepEqual(c.SeverityHistory, want) {
					t.Errorf("severity %d, history %v", c.Severity, c.SeverityHistory)
				}
			}},
		{"custom prefixes and values", "mapping: {severity_prefix: 'P', severity: {'0': 1, '1': 2}, tier_prefix: 'plan:', waiting_label: 'needs info'}",
			[]string{"P1", "plan:basic"}, []step{label(3, "needs info"), label(4, "P0")},
			func(t *testing.T, c sla.Case) {
				if c.Severity != 1 || c.Tier != "basic" || c.Status != sla.StatusPendingCustomer {
					t.Errorf("%+v", c)
				}
			}},
		{"the customer is the repository", "mapping: {customer: repository}", []string{"customer/ignored"}, nil,
			func(t *testing.T, c sla.Case) {
				if c.Customer != repo {
					t.Errorf("customer %q", c.Customer)
				}
			}},
		{"responders: not the author, not a contributor", "", nil,
			[]step{reply(5, customer, "MEMBER"), reply(6, "carol", "CONTRIBUTOR"), reply(7, "dave", "NONE"), reply(9, agent, "OWNER"), reply(12, "erin", "MEMBER")},
			func(t *testing.T, c sla.Case) {
				if !c.FirstResponse.Equal(tm(9)) {
					t.Errorf("first response %v", c.FirstResponse)
				}
			}},
		{"a configured responder", "mapping: {responders: [CONTRIBUTOR]}", nil, []step{reply(9, agent, "OWNER"), reply(11, "carol", "CONTRIBUTOR")},
			func(t *testing.T, c sla.Case) {
				if !c.FirstResponse.Equal(tm(11)) {
					t.Errorf("first response %v", c.FirstResponse)
				}
			}},
		{"closed not planned, reopened, closed: closed at the last", "", []string{"waiting-for-customer"},
			[]step{closeAs(30, "not_planned"), reopen(40), unlabel(45, "waiting-for-customer"), closeAs(60, "completed")},
			func(t *testing.T, c sla.Case) {
				want := hist{{At: t0, Status: sla.StatusPendingCustomer}, {At: tm(30), Status: sla.StatusClosed},
					{At: tm(40), Status: sla.StatusPendingCustomer}, {At: tm(45), Status: sla.StatusOpen}, {At: tm(60), Status: sla.StatusClosed}}
				if c.Status != sla.StatusClosed || !c.Resolved.Equal(tm(60)) || !reflect.DeepEqual(c.StatusHistory, want) {
					t.Errorf("%v resolved %v history %v", c.Status, c.Resolved, c.StatusHistory)
				}
			}},
		{"closed as not planned is a resolution", "", nil, []step{closeAs(30, "not_planned")},
			func(t *testing.T, c sla.Case) {
				if c.Status != sla.StatusClosed || !c.Resolved.Equal(tm(30)) {
					t.Errorf("%v resolved %v", c.Status, c.Resolved)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, s, _ := setup(t, tc.extra)
			n := fake.AddIssue(repo, githubfake.Issue{Title: tc.name, User: customer, Labels: tc.labels, CreatedAt: t0})
			fake.AddIssue(repo, githubfake.Issue{Title: "a pull request", User: agent, CreatedAt: t0, PullRequest: true})
			for _, st := range tc.steps {
				st(fake, n)
			}
			b, err := s.Sync(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Cases) != 1 || len(b.Problems) != 0 {
				t.Fatalf("cases %v, problems %v", ids(b.Cases), b.Problems)
			}
			c := b.Cases[0]
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
			if c.ID != repo+"#1" || c.URL != "https://github.com/"+repo+"/issues/1" {
				t.Errorf("id %q url %q", c.ID, c.URL)
			}
			tc.check(t, c)
			// An issue never touched costs no events request; one
			// without comments no comments request.
			if got, want := fake.Requests(githubfake.EventsPath(repo, n)), min1(len(tc.steps)); got != want {
				t.Errorf("%d events requests, want %d", got, want)
			}
		})
	}
}

func min1(n int) int { return min(n, 1) }

// TestFirstSync: open issues whatever their age, closed ones since the
// start of the previous month, no pull request, no duplicate.
func TestFirstSync(t *testing.T) {
	fake, s, _ := setup(t, "")
	old := at("2025-06-01T08:00:00Z")
	fake.AddIssue(repo, githubfake.Issue{Number: 1, User: customer, CreatedAt: old}) // open, untouched for months
	fake.AddIssue(repo, githubfake.Issue{Number: 2, User: customer, CreatedAt: old, State: "closed", ClosedAt: at("2026-01-31T23:59:59Z")})
	fake.AddIssue(repo, githubfake.Issue{Number: 3, User: customer, CreatedAt: old, State: "closed", ClosedAt: at("2026-02-01T00:00:00Z")})
	fake.AddIssue(repo, githubfake.Issue{Number: 4, User: customer, CreatedAt: old, State: "closed", ClosedAt: at("2026-01-10T00:00:00Z"),
		UpdatedAt: at("2026-02-10T00:00:00Z")}) // closed before, touched since
	fake.AddIssue(repo, githubfake.Issue{Number: 5, User: customer, CreatedAt: at("2026-03-01T00:00:00Z"), State: "closed", StateReason: "duplicate"})
	fake.AddIssue(repo, githubfake.Issue{Number: 6, User: agent, CreatedAt: at("2026-03-01T00:00:00Z"), PullRequest: true})
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(b.Cases); got != repo+"#1,"+repo+"#3" || !b.Full || len(b.Deleted) != 0 {
		t.Errorf("cases %s, full %v, deleted %v", got, b.Full, b.Deleted)
	}
	if b.Cursor != "acme%2Fsupport=2026-03-01T00%3A00%3A00Z" {
		t.Errorf("cursor %q", b.Cursor)
	}
	// One open list and one closed list.
	if n := fake.Requests(githubfake.IssuesPath(repo)); n != 2 {
		t.Errorf("%d list requests, want 2", n)
	}
}

// TestIncremental: after a full sync, N changes cost ceil(N/per_page) list
// requests, an events request per changed issue and a comments request
// per changed issue with comments whose first response is not known.
func TestIncremental(t *testing.T) {
	fake, s, _ := setup(t, "")
	s.perPage = 3
	const total = 10
	t0 := at("2026-03-02T09:00:00Z")
	for i := range total {
		fake.AddIssue(repo, githubfake.Issue{Number: 1 + i, User: customer, CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	fake.Comment(repo, 1, t0.Add(time.Hour), agent, "MEMBER") // #1 answered
	ctx := context.Background()
	b, err := s.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != total || b.Cursor != "acme%2Fsupport=2026-03-02T10%3A00%3A00Z" {
		t.Fatalf("full sync: %d cases, cursor %q", len(b.Cases), b.Cursor)
	}

	fake.ResetCounts()
	t1 := at("2026-03-04T09:00:00Z")
	changed := []int{1, 2, 4, 7, 9}
	for i, n := range changed {
		fake.Comment(repo, n, t1.Add(time.Duration(i)*10*time.Minute), customer, "NONE")
	}
	b2, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(b2.Cases); got != "acme/support#1,acme/support#2,acme/support#4,acme/support#7,acme/support#9" || b2.Full {
		t.Errorf("incremental: cases %s, full %v", got, b2.Full)
	}
	n := len(changed)
	pages := fake.Requests(githubfake.IssuesPath(repo))
	if most := (n + s.perPage - 1) / s.perPage; pages > most {
		t.Errorf("%d list requests for %d changes, want at most %d", pages, n, most)
	}
	// #1's response is known: no comments request for it.
	if got, want := fake.Requests(""), pages+n+(n-1); got != want {
		t.Errorf("%d requests in all, want %d list, %d events and %d comments", got, pages, n, n-1)
	}
	if fake.Requests(githubfake.CommentsPath(repo, 1)) != 0 {
		t.Errorf("the known response of #1 was read again")
	}

	// Nothing changed: one list request; the overlap brings back the
	// last update (#9).
	fake.ResetCounts()
	b3, err := s.Sync(ctx, b2.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if ids(b3.Cases) != "acme/support#9" || b3.Cursor != b2.Cursor || fake.Requests(githubfake.IssuesPath(repo)) != 1 {
		t.Errorf("no change: %s, cursor %q, %d list requests", ids(b3.Cases), b3.Cursor, fake.Requests(githubfake.IssuesPath(repo)))
	}

	// A cursor that cannot be read (or lacks a repository): a full sync.
	for _, bad := range []string{"garbage", "other%2Frepo=2026-03-04T09%3A00%3A00Z"} {
		b4, err := s.Sync(ctx, bad)
		if err != nil {
			t.Fatal(err)
		}
		if !b4.Full || len(b4.Cases) != total {
			t.Errorf("cursor %q: full %v, %d cases", bad, b4.Full, len(b4.Cases))
		}
	}
}

// TestPagingRace: an issue updated while the list is paged moves to the
// first page, already read; no other issue is skipped, and the moved one
// comes with the next Sync.
func TestPagingRace(t *testing.T) {
	fake, s, _ := setup(t, "")
	s.perPage = 2
	t0 := at("2026-03-02T09:00:00Z")
	for i := range 6 {
		fake.AddIssue(repo, githubfake.Issue{Number: 1 + i, User: customer, CreatedAt: t0.Add(time.Duration(i) * time.Hour)})
	}
	// Between the first and the second page #2 is updated.
	var once bool
	fake.OnRequest = func(r *http.Request) {
		if r.URL.Query().Get("page") == "2" && !once {
			once = true
			fake.Touch(repo, 2, at("2026-03-03T09:00:00Z"))
		}
	}
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: 6 5 | 4 3 | 2 1 became 2 6 | 5 4 | 3 1 after the
	// first page.
	if got := ids(b.Cases); got != "acme/support#1,acme/support#3,acme/support#4,acme/support#5,acme/support#6" {
		t.Errorf("cases %s", got)
	}
	b2, err := s.Sync(context.Background(), b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	// #2, and #6 again: the cursor's own, within the overlap.
	if ids(b2.Cases) != "acme/support#2,acme/support#6" {
		t.Errorf("next sync: %s", ids(b2.Cases))
	}
}

// TestDuplicates: an issue closed as a duplicate is deleted (merged), or,
// with duplicates: closed, a closed case.
func TestDuplicates(t *testing.T) {
	for _, tc := range []struct {
		extra   string
		deleted bool
	}{{"", true}, {"mapping: {duplicates: closed}", false}} {
		fake, s, _ := setup(t, tc.extra)
		t0 := at("2026-03-02T09:00:00Z")
		fake.AddIssue(repo, githubfake.Issue{Number: 1, User: customer, CreatedAt: t0.Add(-time.Hour)})
		fake.AddIssue(repo, githubfake.Issue{Number: 2, User: customer, CreatedAt: t0})
		b, err := s.Sync(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		fake.Close(repo, 2, t0.Add(time.Hour), agent, "duplicate")
		b2, err := s.Sync(context.Background(), b.Cursor)
		if err != nil {
			t.Fatal(err)
		}
		if tc.deleted && (len(b2.Cases) != 0 || !reflect.DeepEqual(b2.Deleted, []string{repo + "#2"})) {
			t.Errorf("%q: cases %s, deleted %v", tc.extra, ids(b2.Cases), b2.Deleted)
		}
		if !tc.deleted && (ids(b2.Cases) != repo+"#2" || b2.Cases[0].Status != sla.StatusClosed || len(b2.Deleted) != 0) {
			t.Errorf("%q: cases %+v, deleted %v", tc.extra, b2.Cases, b2.Deleted)
		}
	}
}

// TestRateLimitForbidden: a 403 with x-ratelimit-remaining 0 (the token's
// hour used up elsewhere) waits until x-ratelimit-reset, then goes on.
func TestRateLimitForbidden(t *testing.T) {
	fake, s, clock := setup(t, "")
	fake.AddIssue(repo, githubfake.Issue{Number: 1, User: customer, CreatedAt: at("2026-03-02T09:00:00Z")})
	reset := now.Add(17 * time.Minute)
	fake.Exhaust(reset)
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 1 {
		t.Fatalf("%d cases", len(b.Cases))
	}
	if sleeps := clock.Sleeps(); len(sleeps) != 1 || sleeps[0] != 17*time.Minute {
		t.Errorf("sleeps %v, want one until the reset, 17m", sleeps)
	}
	if n := fake.Requests(githubfake.IssuesPath(repo)); n != 3 {
		t.Errorf("%d list requests, want the 403, then the open and closed lists", n)
	}
}

// TestRateLimitUsedUp: a success that leaves no request waits for the
// reset before the next request, rather than running into a 403.
func TestRateLimitUsedUp(t *testing.T) {
	fake, s, clock := setup(t, "")
	fake.Limit = 1
	fake.AddIssue(repo, githubfake.Issue{Number: 1, User: customer, CreatedAt: at("2026-03-02T09:00:00Z")})
	if _, err := s.Sync(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if sleeps := clock.Sleeps(); len(sleeps) != 1 || sleeps[0] != time.Hour {
		t.Errorf("sleeps %v, want an hour, until the reset", sleeps)
	}
	if n := fake.Requests(""); n != 2 {
		t.Errorf("%d requests, want 2 and no 403", n)
	}
}

// TestEnterprise: a GitHub Enterprise Server base URL (…/api/v3) is kept
// in every request, the pages of the Link header included.
func TestEnterprise(t *testing.T) {
	fake := githubfake.New(token)
	fake.AddRepo(repo)
	t0 := at("2026-03-02T09:00:00Z")
	for i := range 5 {
		fake.AddIssue(repo, githubfake.Issue{Number: 1 + i, User: customer, CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	fake.Comment(repo, 3, t0.Add(time.Hour), agent, "OWNER")
	mux := http.NewServeMux()
	mux.Handle("/api/v3/", http.StripPrefix("/api/v3", fake))
	srv := httptest.NewServer(mux) // anything else answers 404
	t.Cleanup(srv.Close)
	s, err := decode(t, "type: github\nurl: "+srv.URL+"/api/v3\ntoken: ${GH_TOKEN}\nrepositories: ["+repo+"]\n", map[string]string{"GH_TOKEN": token})
	if err != nil {
		t.Fatal(err)
	}
	s.perPage = 2
	s.setTestClient(fakeapi.NewClock(now), nil)
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 5 || len(b.Problems) != 0 {
		t.Fatalf("cases %s, problems %v", ids(b.Cases), b.Problems)
	}
	for _, c := range b.Cases {
		if c.ID == repo+"#3" && !c.FirstResponse.Equal(t0.Add(time.Hour)) {
			t.Errorf("#3: first response %v", c.FirstResponse)
		}
	}
	// 3 pages of open issues, 1 of closed ones, #3's events and comments.
	if n := fake.Requests(""); n != 6 {
		t.Errorf("%d requests, want 6", n)
	}
}

func TestUnauthorized(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.Token = "another"
	_, err := s.Sync(context.Background(), "")
	var se *rest.StatusError
	if !errors.As(err, &se) || se.Code != 401 || !strings.Contains(err.Error(), "Bad credentials") {
		t.Fatalf("got %v, want a 401", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("the error shows the token: %v", err)
	}
	if n := fake.Requests(""); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestFaults: a secondary rate limit (429 with Retry-After) is waited out,
// a 5xx retried, a truncated answer fails the Sync, a deleted issue is a
// problem.
func TestFaults(t *testing.T) {
	t0 := at("2026-03-02T09:00:00Z")
	add := func(fake *githubfake.Server) {
		fake.AddIssue(repo, githubfake.Issue{Number: 1, User: customer, CreatedAt: t0})
		fake.Comment(repo, 1, t0.Add(time.Minute), agent, "OWNER")
	}
	t.Run("429 and 503", func(t *testing.T) {
		fake, s, clock := setup(t, "")
		add(fake)
		fake.Inject(githubfake.Fault{Path: githubfake.IssuesPath(repo), Code: 429, RetryAfter: 61},
			githubfake.Fault{Path: githubfake.CommentsPath(repo, 1), Code: 503})
		b, err := s.Sync(context.Background(), "")
		if err != nil || len(b.Cases) != 1 {
			t.Fatalf("%v, %d cases", err, len(b.Cases))
		}
		if sleeps := clock.Sleeps(); len(sleeps) != 2 || sleeps[0] != 61*time.Second {
			t.Errorf("sleeps %v, want 61s (Retry-After) then a backoff", sleeps)
		}
	})
	for _, path := range []string{githubfake.IssuesPath(repo), githubfake.EventsPath(repo, 1), githubfake.CommentsPath(repo, 1)} {
		t.Run("malformed "+path, func(t *testing.T) {
			fake, s, _ := setup(t, "")
			add(fake)
			fake.Inject(githubfake.Fault{Path: path, Malformed: true})
			if _, err := s.Sync(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
				t.Errorf("got %v, want a malformed JSON error", err)
			}
		})
	}
	t.Run("gone", func(t *testing.T) {
		fake, s, _ := setup(t, "")
		add(fake)
		fake.AddIssue(repo, githubfake.Issue{Number: 2, User: customer, CreatedAt: t0})
		fake.Inject(githubfake.Fault{Path: githubfake.EventsPath(repo, 1), Code: 410})
		b, err := s.Sync(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		if ids(b.Cases) != repo+"#2" || len(b.Problems) != 1 || !strings.Contains(b.Problems[0].Error(), "issue acme/support#1") {
			t.Errorf("cases %s, problems %v", ids(b.Cases), b.Problems)
		}
	})
}

// TestWindow goes through Window: issues open at some time in [from, to).
func TestWindow(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.AddIssue(repo, githubfake.Issue{Number: 1, User: customer, CreatedAt: at("2026-01-10T08:00:00Z"), State: "closed",
		ClosedAt: at("2026-01-12T08:00:00Z")}) // closed before from
	fake.AddIssue(repo, githubfake.Issue{Number: 2, User: customer, CreatedAt: at("2026-01-20T08:00:00Z"), State: "closed",
		ClosedAt: at("2026-02-03T08:00:00Z")}) // closed within
	fake.AddIssue(repo, githubfake.Issue{Number: 3, User: customer, CreatedAt: at("2026-03-02T08:00:00Z")}) // created after to
	fake.AddIssue(repo, githubfake.Issue{Number: 4, User: customer, CreatedAt: at("2025-11-20T08:00:00Z")}) // open for months
	fake.AddIssue(repo, githubfake.Issue{Number: 5, User: customer, CreatedAt: at("2026-02-20T08:00:00Z"), State: "closed",
		ClosedAt: at("2026-02-21T08:00:00Z"), StateReason: "duplicate"}) // merged
	fake.AddIssue(repo, githubfake.Issue{Number: 6, User: customer, CreatedAt: at("2025-12-20T08:00:00Z"), State: "closed",
		ClosedAt: at("2026-01-05T08:00:00Z"), UpdatedAt: at("2026-02-25T08:00:00Z")}) // closed before, touched within
	cases, err := s.Window(context.Background(), at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(cases); got != repo+"#2,"+repo+"#4" {
		t.Errorf("window: %s, want #2 and #4", got)
	}
}

// TestVanished: an open issue deleted (or transferred) leaves the list
// of open issues without an update; the reconciliation, every
// reconcile_interval, reports it as deleted.
func TestVanished(t *testing.T) {
	fake, s, _ := setup(t, "reconcile_interval: 1h\n")
	clock := now
	s.now = func() time.Time { return clock }
	t0 := at("2026-03-02T09:00:00Z")
	for i := range 4 {
		fake.AddIssue(repo, githubfake.Issue{Number: 1 + i, User: customer, CreatedAt: t0.Add(time.Duration(i) * time.Hour)})
	}
	ctx := context.Background()
	b, err := s.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	fake.Delete(repo, 2)
	fake.Close(repo, 3, now.Add(-time.Minute), agent, "completed") // closed: listed as changed, not deleted

	// Within the interval: no reconciliation, the deletion is not seen.
	clock = now.Add(30 * time.Minute)
	fake.ResetCounts()
	b2, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(b2.Deleted) != 0 || fake.Requests(githubfake.IssuesPath(repo)) != 1 {
		t.Errorf("deleted %v after %d list requests, want none after one", b2.Deleted, fake.Requests(githubfake.IssuesPath(repo)))
	}

	// Past it: the open list, then the changes.
	clock = now.Add(time.Hour)
	fake.ResetCounts()
	b3, err := s.Sync(ctx, b2.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b3.Deleted, []string{repo + "#2"}) || fake.Requests(githubfake.IssuesPath(repo)) != 2 {
		t.Errorf("deleted %v after %d list requests, want #2 after two", b3.Deleted, fake.Requests(githubfake.IssuesPath(repo)))
	}

	// Reported once; the next reconciliation finds nothing more.
	clock = now.Add(3 * time.Hour)
	b4, err := s.Sync(ctx, b3.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(b4.Deleted) != 0 {
		t.Errorf("deleted again: %v", b4.Deleted)
	}
}
