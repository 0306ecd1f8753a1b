package zendesk

import (
	"context"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
	"github.com/support-sla/support_sla_exporter/sources/zendesk/zendeskfake"
)

const (
	email    = "sla@acme.example"
	apiToken = "s3cret-token"
	agent    = int64(900)
	customer = int64(500)
)

// now is the tests' clock: the first Sync exports from 2026-02-01.
var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// at is an RFC 3339 instant.
var at = sourcetest.MustTime

var _ rest.Clock = (*fakeapi.Clock)(nil)

// decode builds a source from a YAML mapping; env holds the variables.
func decode(t testing.TB, yml string, env map[string]string) (*source, error) {
	t.Helper()
	s, err := sourcetest.Decode(t, New, yml, env, sources.Env{Name: "zd", Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	return s.(*source), nil
}

// setup starts a fake and a source on it with a fake clock.
func setup(t testing.TB, extra string) (*zendeskfake.Server, *source, *fakeapi.Clock) {
	t.Helper()
	fake := zendeskfake.New(email, apiToken)
	srv := httptest.NewTLSServer(fake)
	t.Cleanup(srv.Close)
	s, err := decode(t, "type: zendesk\nname: zd\nurl: "+srv.URL+"\nemail: "+email+"\ntoken: ${ZD_TOKEN}\n"+extra,
		map[string]string{"ZD_TOKEN": apiToken})
	if err != nil {
		t.Fatal(err)
	}
	clock := fakeapi.NewClock(now)
	s.setTestClient(clock, srv.Client().Transport)
	return fake, s, clock
}

func TestConfig(t *testing.T) {
	env := map[string]string{"ZD_TOKEN": apiToken, "ZD_OAUTH": "oauth"}
	for _, tc := range []struct{ name, yml, want string }{
		{"unknown key", "url: https://acme.zendesk.com\nemail: a@b\ntoken: ${ZD_TOKEN}\nmaping: {}\n", `cfg.yml:4: sources[0]: unknown field "maping"`},
		{"unknown mapping key", "url: https://acme.zendesk.com\noauth_token: ${ZD_OAUTH}\nmapping:\n  tier: 3\n", `cfg.yml:4: sources[0].mapping: unknown field "tier"`},
		{"inline secret", "url: https://acme.zendesk.com\nemail: a@b\ntoken: abc\n", `cfg.yml:3: sources[0].token: secrets are never written inline`},
		{"missing url", "email: a@b\ntoken: ${ZD_TOKEN}\n", `sources[0].url: missing`},
		{"bad severity", "url: https://acme.zendesk.com\noauth_token: ${ZD_OAUTH}\nmapping:\n  severity: {urgent: 0}\n", `cfg.yml:4: sources[0].mapping.severity.urgent: severity 0`},
		{"no credentials", "url: https://acme.zendesk.com\n", `missing credentials`},
		{"token without email", "url: https://acme.zendesk.com\ntoken: ${ZD_TOKEN}\n", `sources[0].email: missing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.yml, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), apiToken) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	s, err := decode(t, "url: https://acme.zendesk.com/\noauth_token: ${ZD_OAUTH}\nrequests_per_minute: 100\noverlap: 10m\nmapping:\n  tier_field: 360001\n  timezone_field: 360002\n  severity: {urgent: 1, high: 1}\n  customer: none\n", env)
	if err != nil {
		t.Fatal(err)
	}
	if s.base != "https://acme.zendesk.com" || s.overlap != 10*time.Minute || s.tierF != 360001 || s.tzF != 360002 ||
		s.customer != "none" || s.severity["high"] != 1 || s.severity["low"] != 4 || s.opts.RequestsPerMinute != 100 {
		t.Errorf("decoded %+v", s)
	}
}

// TestMapping checks status and priority history, first response and
// resolution against expected cases.
func TestMapping(t *testing.T) {
	fake, s, _ := setup(t, "mapping: {tier_field: 360001, timezone_field: 360002}\n")
	fake.AuditPageSize = 4 // 101's 11 audits come in 3 pages
	fake.AddOrganization(77, "Globex")
	fields := []zendeskfake.CustomField{{ID: 360001, Value: "premium"}, {ID: 360002, Value: "Europe/Paris"}}

	// 101: answered, pending, solved then closed.
	fake.AddTicket(zendeskfake.Ticket{ID: 101, CreatedAt: at("2026-03-02T09:15:00Z"), Status: "new", Priority: "high",
		Type: "incident", Tags: []string{"vip"}, OrganizationID: 77, RequesterID: customer, CustomFields: fields})
	fake.Comment(101, at("2026-03-02T09:20:00Z"), agent, false) // internal note: no response
	fake.Comment(101, at("2026-03-02T09:40:00Z"), customer, true)
	fake.Change(101, at("2026-03-02T09:45:00Z"), agent, "status", "open")
	fake.Comment(101, at("2026-03-02T10:00:00Z"), agent, true)
	fake.Change(101, at("2026-03-02T10:00:01Z"), agent, "status", "pending")
	fake.Change(101, at("2026-03-02T11:00:00Z"), agent, "priority", "urgent")
	fake.Change(101, at("2026-03-02T12:00:00Z"), customer, "status", "open")
	fake.Change(101, at("2026-03-02T13:00:00Z"), agent, "status", "hold")
	fake.Change(101, at("2026-03-02T14:00:00Z"), agent, "status", "solved")
	fake.Change(101, at("2026-03-03T14:00:00Z"), agent, "status", "closed")

	// 102: solved, reopened: not resolved any more; no priority.
	fake.AddTicket(zendeskfake.Ticket{ID: 102, CreatedAt: at("2026-03-01T08:00:00Z"), Status: "open", RequesterID: customer})
	fake.Change(102, at("2026-03-01T09:00:00Z"), agent, "status", "solved")
	fake.Change(102, at("2026-03-01T10:00:00Z"), customer, "status", "open")

	// 103: solved before the export's start: left out of a full sync.
	fake.AddTicket(zendeskfake.Ticket{ID: 103, CreatedAt: at("2026-01-05T08:00:00Z"), Status: "open", Priority: "low", RequesterID: customer})
	fake.Change(103, at("2026-01-06T08:00:00Z"), agent, "status", "solved")
	fake.Comment(103, at("2026-02-10T08:00:00Z"), customer, true) // touched since, still solved before

	// 105: opened by an agent for the customer: the description is no response.
	fake.AddTicket(zendeskfake.Ticket{ID: 105, CreatedAt: at("2026-03-02T09:00:00Z"), Status: "open", Priority: "low",
		RequesterID: customer, SubmitterID: agent})
	fake.Comment(105, at("2026-03-02T09:30:00Z"), agent, true)

	// 104: an unknown time zone: a problem naming it.
	fake.AddTicket(zendeskfake.Ticket{ID: 104, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer,
		CustomFields: []zendeskfake.CustomField{{ID: 360002, Value: "Mars/Olympus"}}})

	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(s.base, "/")
	want := []sla.Case{
		{Source: "zd", ID: "101", URL: base + "/agent/tickets/101", Customer: "Globex", Tier: "premium", Severity: 1,
			Status: sla.StatusClosed, Created: at("2026-03-02T09:15:00Z"), FirstResponse: at("2026-03-02T10:00:00Z"),
			Resolved: at("2026-03-02T14:00:00Z"),
			StatusHistory: []sla.StatusChange{
				{At: at("2026-03-02T09:15:00Z"), Status: sla.StatusOpen},
				{At: at("2026-03-02T10:00:01Z"), Status: sla.StatusPendingCustomer},
				{At: at("2026-03-02T12:00:00Z"), Status: sla.StatusOpen},
				{At: at("2026-03-02T13:00:00Z"), Status: sla.StatusOnHold},
				{At: at("2026-03-02T14:00:00Z"), Status: sla.StatusResolved},
				{At: at("2026-03-03T14:00:00Z"), Status: sla.StatusClosed},
			},
			SeverityHistory: []sla.SeverityChange{
				{At: at("2026-03-02T09:15:00Z"), Severity: 2},
				{At: at("2026-03-02T11:00:00Z"), Severity: 1},
			},
			Timezone: "Europe/Paris", Labels: []string{"vip"}, Type: "incident"},
		{Source: "zd", ID: "102", URL: base + "/agent/tickets/102", Status: sla.StatusOpen, Created: at("2026-03-01T08:00:00Z"),
			StatusHistory: []sla.StatusChange{
				{At: at("2026-03-01T08:00:00Z"), Status: sla.StatusOpen},
				{At: at("2026-03-01T09:00:00Z"), Status: sla.StatusResolved},
				{At: at("2026-03-01T10:00:00Z"), Status: sla.StatusOpen},
			},
			Labels: []string{}},
		{Source: "zd", ID: "105", URL: base + "/agent/tickets/105", Severity: 4, Status: sla.StatusOpen,
			Created: at("2026-03-02T09:00:00Z"), FirstResponse: at("2026-03-02T09:30:00Z"),
			StatusHistory:   []sla.StatusChange{{At: at("2026-03-02T09:00:00Z"), Status: sla.StatusOpen}},
			SeverityHistory: []sla.SeverityChange{{At: at("2026-03-02T09:00:00Z"), Severity: 4}},
			Labels:          []string{}},
	}
	if !b.Full || b.Cursor == "" || len(b.Deleted) != 0 {
		t.Errorf("batch: full %v, cursor %q, deleted %v", b.Full, b.Cursor, b.Deleted)
	}
	if len(b.Cases) != len(want) {
		t.Fatalf("got %d cases, want %d: %+v", len(b.Cases), len(want), b.Cases)
	}
	for i := range want {
		if !reflect.DeepEqual(b.Cases[i], want[i]) {
			t.Errorf("case %d:\n got %+v\nwant %+v", i, b.Cases[i], want[i])
		}
	}
	if n := fake.Requests(zendeskfake.AuditsPath(101)); n != 3 {
		t.Errorf("ticket 101: %d audit requests, want 3 pages", n)
	}
	if len(b.Problems) != 1 || !strings.Contains(b.Problems[0].Error(), "ticket 104") || !strings.Contains(b.Problems[0].Error(), "Mars/Olympus") {
		t.Errorf("problems: %v", b.Problems)
	}
}

// TestIncremental checks that after a full sync, N changes cost
// ceil(N/pageSize) export requests and one audit request per changed
// ticket, and that deletions are reported.
func TestIncremental(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.PageSize = 3
	const total = 10
	for i := range int64(total) {
		fake.AddTicket(zendeskfake.Ticket{ID: 200 + i, CreatedAt: at("2026-03-02T09:15:00Z").Add(time.Duration(i) * time.Minute),
			Status: "open", Priority: "normal", RequesterID: customer})
	}
	ctx := context.Background()
	b, err := s.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Full || len(b.Cases) != total || len(b.Problems) != 0 {
		t.Fatalf("full sync: full %v, %d cases, problems %v", b.Full, len(b.Cases), b.Problems)
	}
	if got, want := fake.Requests(zendeskfake.ExportPath), (total+2)/3; got != want {
		t.Errorf("full sync: %d export requests, want %d", got, want)
	}

	fake.ResetCounts()
	changed := []int64{201, 203, 204, 207, 209}
	for i, id := range changed {
		fake.Change(id, at("2026-03-04T09:00:00Z").Add(time.Duration(i)*time.Minute), agent, "status", "pending")
	}
	fake.Delete(205, at("2026-03-04T09:30:00Z"))
	n := len(changed) + 1
	b2, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Full || b2.Cursor == "" {
		t.Errorf("incremental: full %v, cursor %q", b2.Full, b2.Cursor)
	}
	if got, want := fake.Requests(zendeskfake.ExportPath), (n+fake.PageSize-1)/fake.PageSize; got > want {
		t.Errorf("incremental: %d export requests, want at most %d", got, want)
	}
	var ids []string
	for _, c := range b2.Cases {
		ids = append(ids, c.ID)
		if c.Status != sla.StatusPendingCustomer {
			t.Errorf("case %s: status %v", c.ID, c.Status)
		}
	}
	if strings.Join(ids, ",") != "201,203,204,207,209" || !reflect.DeepEqual(b2.Deleted, []string{"205"}) {
		t.Errorf("incremental: cases %v, deleted %v", ids, b2.Deleted)
	}
	if got := fake.Requests(""); got != fake.Requests(zendeskfake.ExportPath)+len(changed) {
		t.Errorf("incremental: %d requests in all, want the export's and %d audits", got, len(changed))
	}
	for _, id := range changed {
		if fake.Requests(zendeskfake.AuditsPath(id)) != 1 {
			t.Errorf("ticket %d: %d audit requests", id, fake.Requests(zendeskfake.AuditsPath(id)))
		}
	}

	// A cursor Zendesk refuses: a full sync again.
	b4, err := s.Sync(ctx, "bm90LWEtY3Vyc29y")
	if err != nil {
		t.Fatal(err)
	}
	if !b4.Full || len(b4.Cases) != total-1 {
		t.Errorf("refused cursor: full %v, %d cases", b4.Full, len(b4.Cases))
	}

	// Nothing changed: one export request, nothing returned.
	fake.ResetCounts()
	b3, err := s.Sync(ctx, b2.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(b3.Cases) != 0 || len(b3.Deleted) != 0 || b3.Cursor == "" || fake.Requests("") != 1 {
		t.Errorf("no change: %+v after %d requests", b3, fake.Requests(""))
	}
}

func TestUnauthorized(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.Token = "another"
	_, err := s.Sync(context.Background(), "")
	var se *rest.StatusError
	if !errors.As(err, &se) || se.Code != 401 || !strings.Contains(err.Error(), "Couldn't authenticate you") {
		t.Fatalf("got %v, want a 401", err)
	}
	if n := fake.Requests(""); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestOAuth(t *testing.T) {
	fake := zendeskfake.New(email, apiToken)
	fake.OAuthToken = "bearer-tok"
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	s, err := decode(t, "url: "+srv.URL+"\noauth_token: ${ZD_OAUTH}\n", map[string]string{"ZD_OAUTH": "bearer-tok"})
	if err != nil {
		t.Fatal(err)
	}
	s.setTestClient(nil, srv.Client().Transport)
	if _, err := s.Sync(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
}

func TestRateLimited(t *testing.T) {
	fake, s, clock := setup(t, "")
	fake.AddTicket(zendeskfake.Ticket{ID: 300, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer})
	fake.Inject(zendeskfake.Fault{Path: zendeskfake.ExportPath, Code: 429, RetryAfter: 17},
		zendeskfake.Fault{Path: zendeskfake.AuditsPath(300), Code: 503})
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 1 {
		t.Fatalf("%d cases", len(b.Cases))
	}
	sleeps := clock.Sleeps()
	if len(sleeps) != 2 || sleeps[0] != 17*time.Second {
		t.Errorf("sleeps %v, want 17s (Retry-After) then a backoff", sleeps)
	}
	if fake.Requests(zendeskfake.ExportPath) != 2 || fake.Requests(zendeskfake.AuditsPath(300)) != 2 {
		t.Errorf("requests: export %d, audits %d", fake.Requests(zendeskfake.ExportPath), fake.Requests(zendeskfake.AuditsPath(300)))
	}
}

func TestMalformed(t *testing.T) {
	for _, path := range []string{zendeskfake.ExportPath, zendeskfake.AuditsPath(400)} {
		fake, s, _ := setup(t, "")
		fake.AddTicket(zendeskfake.Ticket{ID: 400, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer})
		fake.Inject(zendeskfake.Fault{Path: path, Malformed: true})
		if _, err := s.Sync(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
			t.Errorf("%s: got %v, want a malformed JSON error", path, err)
		}
	}
}

func TestWindow(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.AddTicket(zendeskfake.Ticket{ID: 501, CreatedAt: at("2026-01-10T08:00:00Z"), Status: "open", RequesterID: customer})
	fake.Change(501, at("2026-01-12T08:00:00Z"), agent, "status", "solved") // solved before from
	fake.AddTicket(zendeskfake.Ticket{ID: 502, CreatedAt: at("2026-01-20T08:00:00Z"), Status: "open", RequesterID: customer})
	fake.Change(502, at("2026-02-03T08:00:00Z"), agent, "status", "solved")                                                   // solved within
	fake.AddTicket(zendeskfake.Ticket{ID: 503, CreatedAt: at("2026-03-02T08:00:00Z"), Status: "open", RequesterID: customer}) // created after to
	fake.AddTicket(zendeskfake.Ticket{ID: 504, CreatedAt: at("2026-02-20T08:00:00Z"), Status: "open", RequesterID: customer})
	fake.AddTicket(zendeskfake.Ticket{ID: 505, CreatedAt: at("2026-02-21T08:00:00Z"), Status: "open", RequesterID: customer})
	fake.Delete(505, at("2026-02-22T08:00:00Z"))
	fake.AddTicket(zendeskfake.Ticket{ID: 506, CreatedAt: at("2025-12-20T08:00:00Z"), Status: "pending", RequesterID: customer}) // untouched since
	cases, err := s.Window(context.Background(), at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cases {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "502,504,506" {
		t.Errorf("window: %v, want 502,504,506", ids)
	}
}

// TestFailures: a ticket whose audits are gone is a problem; a server that
// keeps failing fails the Sync.
func TestFailures(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.AddTicket(zendeskfake.Ticket{ID: 600, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer})
	fake.AddTicket(zendeskfake.Ticket{ID: 601, CreatedAt: at("2026-03-02T09:16:00Z"), RequesterID: customer})
	fake.AddTicket(zendeskfake.Ticket{ID: 602, CreatedAt: at("2026-03-02T09:17:00Z"), RequesterID: customer})
	fake.Delete(602, at("2026-03-02T10:00:00Z"))
	fake.Inject(zendeskfake.Fault{Path: zendeskfake.AuditsPath(600), Code: 404})
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 1 || b.Cases[0].ID != "601" || len(b.Deleted) != 0 {
		t.Errorf("cases %+v, deleted %v", b.Cases, b.Deleted)
	}
	if len(b.Problems) != 1 || !strings.Contains(b.Problems[0].Error(), "ticket 600") {
		t.Errorf("problems %v", b.Problems)
	}

	fake.Inject(zendeskfake.Fault{Path: zendeskfake.ExportPath, Code: 500, Times: 10})
	fake.ResetCounts()
	if _, err := s.Sync(context.Background(), b.Cursor); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("got %v, want HTTP 500", err)
	}
	if n := fake.Requests(zendeskfake.ExportPath); n != 5 {
		t.Errorf("%d requests, want 5 (4 retries)", n)
	}
}

// TestStaleOpen: a full sync also returns the open tickets nobody touched
// since before the export's start, with their organization.
func TestStaleOpen(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.AddOrganization(78, "Initech")
	fake.AddTicket(zendeskfake.Ticket{ID: 700, CreatedAt: at("2025-11-03T08:00:00Z"), Status: "open", RequesterID: customer, OrganizationID: 78})
	fake.Change(700, at("2025-11-04T08:00:00Z"), agent, "status", "hold")
	fake.AddTicket(zendeskfake.Ticket{ID: 701, CreatedAt: at("2025-11-05T08:00:00Z"), Status: "open", RequesterID: customer})
	fake.Change(701, at("2025-11-06T08:00:00Z"), agent, "status", "solved")                                                   // solved long ago: not returned
	fake.AddTicket(zendeskfake.Ticket{ID: 702, CreatedAt: at("2026-02-01T00:00:00Z"), Status: "open", RequesterID: customer}) // in both
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range b.Cases {
		ids = append(ids, c.ID+":"+c.Status.String()+":"+c.Customer)
	}
	if strings.Join(ids, ",") != "702:open:,700:on_hold:Initech" || len(b.Problems) != 0 {
		t.Errorf("cases %v, problems %v", ids, b.Problems)
	}
	if fake.Requests(zendeskfake.SearchExportPath) != 1 || fake.Requests(zendeskfake.OrganizationsPath) != 1 {
		t.Errorf("requests: search %d, organizations %d", fake.Requests(zendeskfake.SearchExportPath), fake.Requests(zendeskfake.OrganizationsPath))
	}
}
