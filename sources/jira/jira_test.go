package jira

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
	"github.com/support-sla/support_sla_exporter/sources/jira/jirafake"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

var (
	now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	cet = time.FixedZone("CET", 3600)
)

// at is an RFC 3339 instant.
var at = sourcetest.MustTime

const (
	email = "bot@example.com"
	token = "s3cret"
)

// newFake serves a fake Jira on loopback.
func newFake(t testing.TB, email, token string) (*jirafake.Server, *httptest.Server) {
	t.Helper()
	f := jirafake.New(email, token)
	f.Now = func() time.Time { return now }
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.BaseURL = srv.URL
	return f, srv
}

// newSource decodes cfg (the source's mapping, without url) for srv.
func newSource(t testing.TB, srvURL, cfg string, env map[string]string) (*source, *fakeapi.Clock, error) {
	t.Helper()
	clock := fakeapi.NewClock(now)
	s, err := sourcetest.Decode(t, New, "name: sup\ntype: jira\nurl: "+srvURL+"\n"+cfg, env, sources.Env{Name: "sup", Clock: clock})
	if err != nil {
		return nil, clock, err
	}
	return s.(*source), clock, nil
}

func mustSource(t *testing.T, srvURL, cfg string) (*source, *fakeapi.Clock) {
	t.Helper()
	s, clock, err := newSource(t, srvURL, cfg, map[string]string{"JIRA_TOKEN": token})
	if err != nil {
		t.Fatal(err)
	}
	return s, clock
}

const cloudCfg = "email: " + email + "\ntoken: ${JIRA_TOKEN}\n"

func plainIssue(i int, updated time.Time) jirafake.Issue {
	key := "SUP-" + itoa(i)
	return jirafake.Issue{
		ID: itoa(10000 + i), Key: key, Created: updated.Add(-time.Hour), Updated: updated,
		Status: "Open", Priority: "Medium", Type: "Bug", Reporter: "cust-1",
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestFullThenIncremental(t *testing.T) {
	f, srv := newFake(t, email, token)
	f.MaxResults = 2 // the server's page cap
	const pageSize = 2
	for i := 1; i <= 7; i++ {
		f.Put(plainIssue(i, at("2026-03-01T00:00:00Z").Add(time.Duration(i)*time.Hour)))
	}
	s, _ := mustSource(t, srv.URL, cloudCfg)
	ctx := context.Background()
	b, err := s.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Full || len(b.Cases) != 7 || len(b.Problems) != 0 {
		t.Fatalf("full sync: full=%v cases=%d problems=%v", b.Full, len(b.Cases), b.Problems)
	}
	if want := "2026-03-01T07:00:00Z"; b.Cursor != want {
		t.Fatalf("cursor %q, want %q", b.Cursor, want)
	}
	if got := f.Count(jirafake.SearchJQLPath); got != 4 {
		t.Errorf("full sync: %d search pages, want 4", got)
	}
	if jql := f.JQLs()[0]; jql != "(project is not EMPTY) AND (statusCategory != Done OR resolved >= startOfMonth(-1)) ORDER BY updated ASC" {
		t.Errorf("full JQL %q", jql)
	}

	// N changes, including the latest issue (which the overlap would
	// bring back anyway).
	f.ResetCounts()
	changed := []string{"SUP-2", "SUP-5", "SUP-7"}
	for i, k := range changed {
		f.Update(k, func(is *jirafake.Issue) {
			is.Updated = at("2026-03-02T10:00:00Z").Add(time.Duration(i) * time.Minute)
			is.Priority = "High"
		})
	}
	b, err = s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if b.Full {
		t.Error("incremental sync is Full")
	}
	var keys []string
	for _, c := range b.Cases {
		keys = append(keys, c.Key)
		if c.Severity != 2 {
			t.Errorf("%s: severity %d, want 2", c.Key, c.Severity)
		}
	}
	if !reflect.DeepEqual(keys, changed) {
		t.Errorf("incremental cases %v, want %v", keys, changed)
	}
	n := len(changed)
	if got, limit := f.Count(jirafake.SearchJQLPath), (n+pageSize-1)/pageSize; got > limit {
		t.Errorf("incremental: %d search requests, want <= %d", got, limit)
	}
	for _, k := range changed {
		if f.Count(jirafake.ChangelogPath(k)) != 1 || f.Count(jirafake.CommentPath("3", k)) != 1 {
			t.Errorf("%s: changelog %d, comments %d requests, want 1 each", k,
				f.Count(jirafake.ChangelogPath(k)), f.Count(jirafake.CommentPath("3", k)))
		}
	}
	if got, want := f.Total(), f.Count(jirafake.SearchJQLPath)+2*n; got != want {
		t.Errorf("incremental: %d requests in all, want %d", got, want)
	}
	if want := `(project is not EMPTY) AND (updated >= "2026/03/01 06:55") ORDER BY updated ASC`; f.JQLs()[0] != want {
		t.Errorf("incremental JQL %q, want %q", f.JQLs()[0], want)
	}
	if want := "2026-03-02T10:02:00Z"; b.Cursor != want {
		t.Errorf("cursor %q, want %q", b.Cursor, want)
	}

	// Nothing new: only the overlap (the same 3) comes back, and the
	// cursor stays.
	b2, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Cursor != b.Cursor || b2.Full || len(b2.Cases) != n {
		t.Errorf("idle sync: cursor %q full %v cases %d", b2.Cursor, b2.Full, len(b2.Cases))
	}
}

func TestUnauthorized(t *testing.T) {
	f, srv := newFake(t, email, "another")
	f.Put(plainIssue(1, now.Add(-time.Hour)))
	s, _ := mustSource(t, srv.URL, cloudCfg)
	_, err := s.Sync(context.Background(), "")
	var se *rest.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusUnauthorized || !strings.Contains(err.Error(), "Client must be authenticated") {
		t.Fatalf("err %v, want a 401 with Jira's message", err)
	}
	if got := f.Total(); got != 1 {
		t.Errorf("%d requests, want exactly 1", got)
	}
}

func TestRetryAfter(t *testing.T) {
	f, srv := newFake(t, email, token)
	f.Put(plainIssue(1, now.Add(-time.Hour)))
	f.Inject(jirafake.Fault{Path: jirafake.SearchJQLPath, Code: http.StatusTooManyRequests, RetryAfter: 7})
	s, clock := mustSource(t, srv.URL, cloudCfg)
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 1 {
		t.Errorf("%d cases, want 1", len(b.Cases))
	}
	if got := f.Count(jirafake.SearchJQLPath); got != 2 {
		t.Errorf("%d search requests, want 2 (the 429 and its retry)", got)
	}
	if sl := clock.Sleeps(); len(sl) == 0 || sl[0] != 7*time.Second {
		t.Errorf("slept %v, want 7s first (Retry-After)", sl)
	}
}

func TestServerErrorRetried(t *testing.T) {
	f, srv := newFake(t, email, token)
	f.Put(plainIssue(1, now.Add(-time.Hour)))
	f.Inject(jirafake.Fault{Path: jirafake.ChangelogPath("SUP-1"), Code: http.StatusBadGateway})
	s, _ := mustSource(t, srv.URL, cloudCfg)
	if _, err := s.Sync(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if got := f.Count(jirafake.ChangelogPath("SUP-1")); got != 2 {
		t.Errorf("%d changelog requests, want 2", got)
	}
}

func TestMalformedJSON(t *testing.T) {
	f, srv := newFake(t, email, token)
	f.Put(plainIssue(1, now.Add(-time.Hour)))
	f.Inject(jirafake.Fault{Path: jirafake.SearchJQLPath, Malformed: true})
	s, _ := mustSource(t, srv.URL, cloudCfg)
	_, err := s.Sync(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "malformed JSON") {
		t.Fatalf("err %v, want malformed JSON", err)
	}
}

func TestOldSearchGone(t *testing.T) {
	_, srv := newFake(t, email, token)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+jirafake.OldSearchPath+"?jql=project=SUP", nil)
	req.SetBasicAuth(email, token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("status %d, want 410", resp.StatusCode)
	}
}

func pub(b bool) *bool { return &b }

func TestMapping(t *testing.T) {
	created := time.Date(2026, 3, 2, 9, 15, 0, 0, cet)
	base := func(key string) jirafake.Issue {
		return jirafake.Issue{
			ID: "1" + key[4:], Key: key, Created: created, Updated: created.Add(time.Hour),
			Status: "Open", Priority: "Medium", Type: "Service Request", Reporter: "cust-1",
			Labels: []string{"vpn"},
			Custom: map[string]any{
				"customfield_10050": map[string]any{"value": "premium", "id": "10100"},
				"customfield_10002": []any{map[string]any{"id": 1, "name": "Acme"}},
				"customfield_10060": "Europe/Paris",
			},
		}
	}
	h := func(min int, field, from, to string) jirafake.History {
		return jirafake.History{ID: itoa(min), Author: "agent-1", Created: created.Add(time.Duration(min) * time.Minute),
			Items: []jirafake.Item{{Field: field, FieldType: "jira", FromString: from, ToString: to}}}
	}
	cm := func(min int, author string, public *bool) jirafake.Comment {
		return jirafake.Comment{ID: itoa(min), Author: author, Created: created.Add(time.Duration(min) * time.Minute), Body: "hi", Public: public}
	}
	want := func(key string, mod func(c *sla.Case)) sla.Case {
		c := sla.Case{
			Source: "sup", ID: "1" + key[4:], Key: key, Customer: "Acme", Tier: "premium", Severity: 3,
			Status: sla.StatusOpen, Created: created, Timezone: "Europe/Paris", Labels: []string{"vpn"}, Type: "service request",
		}
		mod(&c)
		return c
	}
	tests := []struct {
		name  string
		issue func(is *jirafake.Issue)
		want  sla.Case
	}{{
		name:  "plain",
		issue: func(is *jirafake.Issue) {},
		want:  want("SUP-1", func(c *sla.Case) {}),
	}, {
		name: "status and priority history, resolved",
		issue: func(is *jirafake.Issue) {
			is.Status, is.Priority = "Resolved", "Highest"
			is.Resolved = created.Add(300 * time.Minute)
			is.Changelog = []jirafake.History{
				h(10, "status", "Open", "In Progress"),
				h(20, "priority", "Medium", "Highest"),
				h(60, "status", "In Progress", "Waiting for customer"),
				h(120, "status", "Waiting for customer", "Escalated"),
				h(180, "status", "Escalated", "In Progress"),
				h(300, "status", "In Progress", "Resolved"),
			}
		},
		want: want("SUP-2", func(c *sla.Case) {
			c.Severity, c.Status, c.Resolved = 1, sla.StatusResolved, created.Add(300*time.Minute)
			c.StatusHistory = []sla.StatusChange{
				{At: created.Add(10 * time.Minute), Status: sla.StatusOpen},
				{At: created.Add(60 * time.Minute), Status: sla.StatusPendingCustomer},
				{At: created.Add(120 * time.Minute), Status: sla.StatusOnHold},
				{At: created.Add(180 * time.Minute), Status: sla.StatusOpen},
				{At: created.Add(300 * time.Minute), Status: sla.StatusResolved},
			}
			c.SeverityHistory = []sla.SeverityChange{{At: created, Severity: 3}, {At: created.Add(20 * time.Minute), Severity: 1}}
		}),
	}, {
		name: "first response skips the reporter and internal comments",
		issue: func(is *jirafake.Issue) {
			is.Status = "Waiting for customer"
			is.Comments = []jirafake.Comment{
				cm(5, "cust-1", pub(true)),   // the reporter
				cm(7, "agent-1", pub(false)), // internal note
				cm(42, "agent-2", pub(true)),
				cm(50, "agent-1", pub(true)),
			}
		},
		want: want("SUP-3", func(c *sla.Case) {
			c.Status, c.FirstResponse = sla.StatusPendingCustomer, created.Add(42*time.Minute)
		}),
	}, {
		name: "created waiting for the customer",
		issue: func(is *jirafake.Issue) {
			is.Changelog = []jirafake.History{h(30, "status", "Waiting for customer", "Open")}
		},
		want: want("SUP-4", func(c *sla.Case) {
			c.StatusHistory = []sla.StatusChange{
				{At: created, Status: sla.StatusPendingCustomer},
				{At: created.Add(30 * time.Minute), Status: sla.StatusOpen},
			}
		}),
	}, {
		name: "plain Jira comments have no jsdPublic",
		issue: func(is *jirafake.Issue) {
			is.Priority = ""
			is.Comments = []jirafake.Comment{cm(9, "agent-1", nil)}
		},
		want: want("SUP-5", func(c *sla.Case) { c.Severity, c.FirstResponse = 0, created.Add(9*time.Minute) }),
	}}
	f, srv := newFake(t, email, token)
	f.MaxResults = 2 // the changelog and comments come in several pages
	for i, tc := range tests {
		is := base("SUP-" + itoa(i+1))
		tc.issue(&is)
		f.Put(is)
	}
	gone := base("SUP-98")
	gone.Key = "SUP-98"
	f.Put(gone)
	f.Inject(jirafake.Fault{Path: jirafake.ChangelogPath("SUP-98"), Code: http.StatusNotFound})
	bad := base("SUP-99")
	bad.Custom["customfield_10060"] = "Mars/Olympus"
	f.Put(bad)
	s, _ := mustSource(t, srv.URL, cloudCfg+`mapping:
  tier_field: customfield_10050
  customer_field: customfield_10002
  timezone_field: customfield_10060
  hold_statuses: [Escalated]
`)
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Problems) != 2 || !strings.Contains(b.Problems[0].Error(), "SUP-98") || !strings.Contains(b.Problems[0].Error(), "HTTP 404") ||
		!strings.Contains(b.Problems[1].Error(), "SUP-99") || !strings.Contains(b.Problems[1].Error(), "Mars/Olympus") {
		t.Errorf("problems %v, want one naming SUP-98 (404) and one SUP-99 (time zone)", b.Problems)
	}
	if got := f.Count(jirafake.ChangelogPath("SUP-2")); got != 3 {
		t.Errorf("SUP-2: %d changelog pages, want 3", got)
	}
	if got := f.Count(jirafake.CommentPath("3", "SUP-3")); got != 2 {
		t.Errorf("SUP-3: %d comment pages, want 2", got)
	}
	got := map[string]sla.Case{}
	for _, c := range b.Cases {
		got[c.Key] = c
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.want
			w.URL = srv.URL + "/browse/" + w.Key
			g, ok := got[w.Key]
			if !ok {
				t.Fatalf("no case %s", w.Key)
			}
			if !casesEqual(g, w) {
				t.Errorf("got  %+v\nwant %+v", g, w)
			}
		})
	}
}

// casesEqual compares instants as instants.
func casesEqual(a, b sla.Case) bool {
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	na, nb := sla.Case{}, sla.Case{}
	_ = jsonRoundTrip(ja, &na)
	_ = jsonRoundTrip(jb, &nb)
	return reflect.DeepEqual(utc(na), utc(nb))
}

func TestDataCenter(t *testing.T) {
	f, srv := newFake(t, "", "pat-123")
	f.MaxResults = 2
	for i := 1; i <= 5; i++ {
		is := plainIssue(i, at("2026-03-01T00:00:00Z").Add(time.Duration(i)*time.Hour))
		is.Status = "Pending"
		is.Changelog = []jirafake.History{{ID: "1", Author: "agent", Created: is.Created.Add(time.Minute),
			Items: []jirafake.Item{{Field: "status", FromString: "Open", ToString: "Pending"}}}}
		f.Put(is)
	}
	s, _, err := newSource(t, srv.URL, "flavor: datacenter\ntoken: ${PAT}\nmapping:\n  waiting_statuses: [Pending]\n", map[string]string{"PAT": "pat-123"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 5 || f.Count(jirafake.DCSearchPath) != 3 {
		t.Fatalf("%d cases in %d pages, want 5 in 3", len(b.Cases), f.Count(jirafake.DCSearchPath))
	}
	if c := b.Cases[0]; c.Status != sla.StatusPendingCustomer || len(c.StatusHistory) != 1 {
		t.Errorf("case %+v: want pending_customer with its history", c)
	}
}

func TestWindow(t *testing.T) {
	f, srv := newFake(t, email, token)
	mk := func(i int, created, resolved string) {
		is := plainIssue(i, at(created).Add(time.Hour))
		is.Created = at(created)
		if resolved != "" {
			is.Status, is.Resolved = "Done", at(resolved)
		}
		f.Put(is)
	}
	mk(1, "2026-01-10T00:00:00Z", "2026-01-20T00:00:00Z") // resolved before
	mk(2, "2026-01-10T00:00:00Z", "2026-02-03T00:00:00Z") // open into February
	mk(3, "2026-02-10T00:00:00Z", "")                     // still open
	mk(4, "2026-03-01T00:00:00Z", "")                     // created after
	s, _ := mustSource(t, srv.URL, cloudCfg)
	cases, err := s.Window(context.Background(), at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range cases {
		keys = append(keys, c.Key)
	}
	if !reflect.DeepEqual(keys, []string{"SUP-2", "SUP-3"}) {
		t.Errorf("window %v, want [SUP-2 SUP-3]", keys)
	}
	if jql := f.JQLs()[0]; !strings.Contains(jql, `created < "2026/03/01 00:00" AND (resolved is EMPTY OR resolved >= "2026/02/01 00:00")`) {
		t.Errorf("window JQL %q", jql)
	}
}

func TestConfig(t *testing.T) {
	env := map[string]string{"JIRA_TOKEN": token}
	for _, tc := range []struct{ cfg, want string }{
		{cloudCfg + "jqll: x\n", `cfg.yml:6: sources[0]: unknown field "jqll"`},
		{"email: a@b.c\ntoken: inline\n", "secrets are never written inline"},
		{"token: ${JIRA_TOKEN}\n", "sources[0].email: missing"},
		{cloudCfg + "flavor: server\n", "must be cloud or datacenter"},
		{cloudCfg + "mapping:\n  severity: {Highest: 0}\n", "must be between 1 and 4"},
		{cloudCfg + "mapping:\n  tier: customfield_1\n", `unknown field "tier"`},
		{cloudCfg + "overlap: 5x\n", "bad duration"},
	} {
		_, _, err := newSource(t, "https://example.atlassian.net", tc.cfg, env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want %q", tc.cfg, err, tc.want)
		}
	}
	s, _, err := newSource(t, "https://example.atlassian.net/", cloudCfg+"jql: project = SUP\noverlap: 10m\nrequests_per_minute: 60\n", env)
	if err != nil {
		t.Fatal(err)
	}
	if s.base != "https://example.atlassian.net" || s.jql != "project = SUP" || s.overlap != 10*time.Minute {
		t.Errorf("decoded %+v", s)
	}
}

func jsonRoundTrip(b []byte, c *sla.Case) error { return json.Unmarshal(b, c) }

// utc puts every instant of a case in UTC.
func utc(c sla.Case) sla.Case {
	c.Created, c.FirstResponse, c.Resolved = c.Created.UTC(), c.FirstResponse.UTC(), c.Resolved.UTC()
	for i := range c.StatusHistory {
		c.StatusHistory[i].At = c.StatusHistory[i].At.UTC()
	}
	for i := range c.SeverityHistory {
		c.SeverityHistory[i].At = c.SeverityHistory[i].At.UTC()
	}
	return c
}
