package freshdesk

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
	"github.com/support-sla/support_sla_exporter/sources/freshdesk/freshdeskfake"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

const (
	apiKey   = "s3cret-key"
	agent    = int64(900)
	customer = int64(500)
)

// now is the tests' clock: the first Sync lists from 2026-02-01.
var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// at is an RFC 3339 instant.
var at = sourcetest.MustTime

var _ rest.Clock = (*fakeapi.Clock)(nil)

// decode builds a source from a YAML mapping; env holds the variables.
func decode(t testing.TB, yml string, env map[string]string) (*source, error) {
	t.Helper()
	s, err := sourcetest.Decode(t, New, yml, env, sources.Env{Name: "fd", Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	return s.(*source), nil
}

// setup starts a fake and a source on it with a fake clock.
func setup(t testing.TB, extra string) (*freshdeskfake.Server, *source, *fakeapi.Clock) {
	t.Helper()
	fake := freshdeskfake.New(apiKey)
	fake.Now = func() time.Time { return now }
	srv := httptest.NewTLSServer(fake)
	t.Cleanup(srv.Close)
	s, err := decode(t, "type: freshdesk\nname: fd\nurl: "+srv.URL+"\napi_key: ${FD_KEY}\n"+extra, map[string]string{"FD_KEY": apiKey})
	if err != nil {
		t.Fatal(err)
	}
	clock := fakeapi.NewClock(now)
	s.setTestClient(clock, srv.Client().Transport)
	return fake, s, clock
}

func TestConfig(t *testing.T) {
	env := map[string]string{"FD_KEY": apiKey}
	for _, tc := range []struct{ name, yml, want string }{
		{"unknown key", "url: https://acme.freshdesk.com\napi_key: ${FD_KEY}\nmaping: {}\n", `cfg.yml:3: sources[0]: unknown field "maping"`},
		{"unknown mapping key", "url: https://acme.freshdesk.com\napi_key: ${FD_KEY}\nmapping:\n  tier: cf_tier\n", `cfg.yml:4: sources[0].mapping: unknown field "tier"`},
		{"inline secret", "url: https://acme.freshdesk.com\napi_key: " + apiKey + "\n", `cfg.yml:2: sources[0].api_key: secrets are never written inline`},
		{"missing url", "api_key: ${FD_KEY}\n", `sources[0].url: missing`},
		{"bad url", "url: acme.freshdesk.com\napi_key: ${FD_KEY}\n", `sources[0].url: want the helpdesk's address`},
		{"bad severity", "url: https://acme.freshdesk.com\napi_key: ${FD_KEY}\nmapping:\n  severity: {urgent: 0}\n", `cfg.yml:4: sources[0].mapping.severity.urgent: severity 0`},
		{"unknown priority", "url: https://acme.freshdesk.com\napi_key: ${FD_KEY}\nmapping:\n  severity: {normal: 2}\n", `unknown priority "normal"`},
		{"resolved waits", "url: https://acme.freshdesk.com\napi_key: ${FD_KEY}\nmapping:\n  waiting_statuses: [4]\n", `sources[0].mapping.waiting_statuses[0]: status 4`},
		{"both", "url: https://acme.freshdesk.com\napi_key: ${FD_KEY}\nmapping:\n  waiting_statuses: [3, 6]\n  hold_statuses: [6]\n", `status 6 is also in waiting_statuses`},
		{"no credentials", "url: https://acme.freshdesk.com\n", `missing credentials`},
		{"unset variable", "url: https://acme.freshdesk.com\napi_key: ${OTHER}\n", `environment variable OTHER is not set`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.yml, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), apiKey) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	s, err := decode(t, "url: https://acme.freshdesk.com/\napi_key: ${FD_KEY}\nrequests_per_minute: 100\noverlap: 10m\nmapping:\n  tier_field: cf_tier\n  timezone_field: cf_tz\n  severity: {urgent: 1, high: 1}\n  waiting_statuses: [3, 7]\n  hold_statuses: [6]\n", env)
	if err != nil {
		t.Fatal(err)
	}
	if s.base != "https://acme.freshdesk.com" || s.overlap != 10*time.Minute || s.tierF != "cf_tier" || s.tzF != "cf_tz" ||
		s.severity["high"] != 1 || s.severity["low"] != 4 || s.opts.RequestsPerMinute != 100 ||
		!reflect.DeepEqual(s.waiting, []int{3, 7}) || !reflect.DeepEqual(s.hold, []int{6}) {
		t.Errorf("decoded %+v", s)
	}
	if b, ok := s.opts.Auth.(rest.Basic); !ok || b.User != apiKey || b.Password != "X" {
		t.Errorf("auth %T", s.opts.Auth)
	}
	s, err = decode(t, "url: https://acme.freshdesk.com\napi_key: ${FD_KEY}\n", env)
	if err != nil {
		t.Fatal(err)
	}
	if s.overlap != 5*time.Minute || !reflect.DeepEqual(s.waiting, []int{3}) || len(s.hold) != 0 || !reflect.DeepEqual(s.severity, DefaultSeverity) {
		t.Errorf("defaults %+v", s)
	}
}

// TestMapping checks statuses, priorities, first responses and
// resolutions against expected cases.
func TestMapping(t *testing.T) {
	fake, s, _ := setup(t, "mapping: {tier_field: cf_tier, timezone_field: cf_tz, waiting_statuses: [3, 7], hold_statuses: [6]}\n")
	fake.AddCompany(77, "Globex")
	ctx := context.Background()

	// 101: answered (stats), pending, open, on hold, resolved, closed.
	fake.AddTicket(freshdeskfake.Ticket{ID: 101, CreatedAt: at("2026-03-02T09:15:00Z"), Priority: freshdeskfake.High, Type: "Incident",
		Tags: []string{"vip"}, CompanyID: 77, RequesterID: customer, CustomFields: map[string]any{"cf_tier": "premium", "cf_tz": "Europe/Paris"}})
	fake.Reply(101, at("2026-03-02T09:20:00Z"), agent, true, false, true)    // private note: no response
	fake.Reply(101, at("2026-03-02T09:40:00Z"), customer, false, true, true) // the customer's
	fake.Reply(101, at("2026-03-02T10:00:00Z"), agent, false, false, true)   // the response
	fake.SetStatus(101, at("2026-03-02T10:00:01Z"), freshdeskfake.Pending)
	fake.SetStatus(101, at("2026-03-02T12:00:00Z"), freshdeskfake.Open)
	fake.SetStatus(101, at("2026-03-02T13:00:00Z"), 6)
	fake.SetStatus(101, at("2026-03-02T14:00:00Z"), freshdeskfake.Resolved)
	fake.SetStatus(101, at("2026-03-03T14:00:00Z"), freshdeskfake.Closed)

	// 102: resolved, reopened: not resolved any more.
	fake.AddTicket(freshdeskfake.Ticket{ID: 102, CreatedAt: at("2026-03-01T08:00:00Z"), Priority: freshdeskfake.Medium, RequesterID: customer})
	fake.SetStatus(102, at("2026-03-01T09:00:00Z"), freshdeskfake.Resolved)
	fake.SetStatus(102, at("2026-03-01T10:00:00Z"), freshdeskfake.Open)

	// 103: pending; stats without first_responded_at: the first public
	// outgoing conversation is the response.
	fake.AddTicket(freshdeskfake.Ticket{ID: 103, CreatedAt: at("2026-03-01T07:00:00Z"), Priority: freshdeskfake.Urgent, RequesterID: customer})
	fake.Reply(103, at("2026-03-01T07:10:00Z"), agent, true, false, false)
	fake.Reply(103, at("2026-03-01T07:20:00Z"), customer, false, true, false)
	fake.Reply(103, at("2026-03-01T07:30:00Z"), agent, false, false, false)
	fake.SetStatus(103, at("2026-03-01T08:30:00Z"), freshdeskfake.Pending)

	// 104: a custom waiting status; never answered.
	fake.AddTicket(freshdeskfake.Ticket{ID: 104, CreatedAt: at("2026-03-02T10:00:00Z"), RequesterID: customer})
	fake.SetStatus(104, at("2026-03-02T10:30:00Z"), 7)

	// 105: resolved before the list's start: left out of a full sync.
	fake.AddTicket(freshdeskfake.Ticket{ID: 105, CreatedAt: at("2026-01-05T08:00:00Z"), RequesterID: customer})
	fake.SetStatus(105, at("2026-01-06T08:00:00Z"), freshdeskfake.Resolved)
	fake.Reply(105, at("2026-02-10T08:00:00Z"), customer, false, true, true) // touched since, still resolved before

	// 106: an unknown time zone: a problem naming it.
	fake.AddTicket(freshdeskfake.Ticket{ID: 106, CreatedAt: at("2026-03-02T11:00:00Z"), RequesterID: customer,
		CustomFields: map[string]any{"cf_tz": "Mars/Olympus"}})

	b, err := s.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	base := s.base + "/a/tickets/"
	want := []sla.Case{
		{Source: "fd", ID: "103", URL: base + "103", Severity: 1, Status: sla.StatusPendingCustomer,
			Created: at("2026-03-01T07:00:00Z"), FirstResponse: at("2026-03-01T07:30:00Z"),
			StatusHistory: []sla.StatusChange{
				{At: at("2026-03-01T07:00:00Z"), Status: sla.StatusOpen},
				{At: at("2026-03-01T08:30:00Z"), Status: sla.StatusPendingCustomer},
			}, Labels: []string{}},
		{Source: "fd", ID: "102", URL: base + "102", Severity: 3, Status: sla.StatusOpen, Created: at("2026-03-01T08:00:00Z"),
			StatusHistory: []sla.StatusChange{
				{At: at("2026-03-01T08:00:00Z"), Status: sla.StatusOpen},
				{At: at("2026-03-01T09:00:00Z"), Status: sla.StatusResolved},
				{At: at("2026-03-01T10:00:00Z"), Status: sla.StatusOpen},
			}, Labels: []string{}},
		{Source: "fd", ID: "104", URL: base + "104", Severity: 4, Status: sla.StatusPendingCustomer, Created: at("2026-03-02T10:00:00Z"),
			StatusHistory: []sla.StatusChange{
				{At: at("2026-03-02T10:00:00Z"), Status: sla.StatusOpen},
				{At: at("2026-03-02T10:30:00Z"), Status: sla.StatusPendingCustomer},
			}, Labels: []string{}},
		// The pending and on-hold stretches are lost: stats keep only
		// the resolution and the closing.
		{Source: "fd", ID: "101", URL: base + "101", Customer: "Globex", Tier: "premium", Severity: 2,
			Status: sla.StatusClosed, Created: at("2026-03-02T09:15:00Z"), FirstResponse: at("2026-03-02T10:00:00Z"),
			Resolved: at("2026-03-02T14:00:00Z"),
			StatusHistory: []sla.StatusChange{
				{At: at("2026-03-02T09:15:00Z"), Status: sla.StatusOpen},
				{At: at("2026-03-02T14:00:00Z"), Status: sla.StatusResolved},
				{At: at("2026-03-03T14:00:00Z"), Status: sla.StatusClosed},
			},
			Timezone: "Europe/Paris", Labels: []string{"vip"}, Type: "Incident"},
	}
	if !b.Full || b.Cursor != "2026-03-03T14:00:00Z" || len(b.Deleted) != 0 {
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
	if len(b.Problems) != 1 || !strings.Contains(b.Problems[0].Error(), "ticket 106") || !strings.Contains(b.Problems[0].Error(), "Mars/Olympus") {
		t.Errorf("problems: %v", b.Problems)
	}
	if n := fake.Requests(freshdeskfake.ConversationsPath(101)); n != 0 {
		t.Errorf("ticket 101: %d conversation requests, want none (stats have first_responded_at)", n)
	}
	if n := fake.Requests(freshdeskfake.ConversationsPath(103)); n != 1 {
		t.Errorf("ticket 103: %d conversation requests, want 1", n)
	}
}

// TestHistory checks the status history built from stats alone.
func TestHistory(t *testing.T) {
	s := &source{waiting: []int{3}, hold: []int{6}}
	p := func(v string) *time.Time { x := at(v); return &x }
	created := at("2026-03-01T08:00:00Z")
	for _, tc := range []struct {
		name   string
		status int
		stats  func(*ticket)
		want   []string
	}{
		{"open", 2, func(*ticket) {}, []string{"08:00 open"}},
		{"pending", 3, func(t *ticket) {
			t.Stats.PendingSince, t.Stats.StatusUpdatedAt = p("2026-03-01T09:00:00Z"), p("2026-03-01T09:00:00Z")
		}, []string{"08:00 open", "09:00 pending_customer"}},
		{"hold", 6, func(t *ticket) { t.Stats.StatusUpdatedAt = p("2026-03-01T09:30:00Z") }, []string{"08:00 open", "09:30 on_hold"}},
		{"custom open", 8, func(t *ticket) { t.Stats.StatusUpdatedAt = p("2026-03-01T09:30:00Z") }, []string{"08:00 open"}},
		{"resolved", 4, func(t *ticket) { t.Stats.ResolvedAt = p("2026-03-01T10:00:00Z") }, []string{"08:00 open", "10:00 resolved"}},
		{"resolved without resolved_at", 4, func(t *ticket) { t.Stats.StatusUpdatedAt = p("2026-03-01T10:00:00Z") }, []string{"08:00 open", "10:00 resolved"}},
		{"closed directly", 5, func(t *ticket) { t.Stats.ClosedAt = p("2026-03-01T11:00:00Z") }, []string{"08:00 open", "11:00 closed"}},
		{"reopened then pending", 3, func(t *ticket) {
			t.Stats.ResolvedAt, t.Stats.ReopenedAt = p("2026-03-01T10:00:00Z"), p("2026-03-01T11:00:00Z")
			t.Stats.PendingSince = p("2026-03-01T12:00:00Z")
		}, []string{"08:00 open", "10:00 resolved", "11:00 open", "12:00 pending_customer"}},
		{"pending since before the reopening", 3, func(t *ticket) {
			t.Stats.ResolvedAt, t.Stats.ReopenedAt = p("2026-03-01T10:00:00Z"), p("2026-03-01T11:00:00Z")
			t.Stats.PendingSince = p("2026-03-01T09:00:00Z")
		}, []string{"08:00 open", "10:00 resolved", "11:00 open", "11:00 pending_customer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := ticket{ID: 1, CreatedAt: created, Status: tc.status}
			tc.stats(&tk)
			var got []string
			for _, h := range s.history(tk, s.status(tc.status)) {
				got = append(got, h.At.Format("15:04")+" "+h.Status.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestIncremental checks that after a full sync, N changes cost
// ceil(N/per_page) list requests and one conversations request per
// changed ticket lacking first_responded_at.
func TestIncremental(t *testing.T) {
	fake, s, _ := setup(t, "")
	s.perPage = 3
	const total = 10
	for i := range int64(total) {
		fake.AddTicket(freshdeskfake.Ticket{ID: 200 + i, CreatedAt: at("2026-03-02T09:00:00Z").Add(time.Duration(i) * 10 * time.Minute),
			Priority: freshdeskfake.Medium, RequesterID: customer})
	}
	ctx := context.Background()
	b, err := s.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Full || len(b.Cases) != total || len(b.Problems) != 0 || b.Cursor != "2026-03-02T10:30:00Z" {
		t.Fatalf("full sync: full %v, %d cases, problems %v, cursor %q", b.Full, len(b.Cases), b.Problems, b.Cursor)
	}
	if got, want := fake.Requests(freshdeskfake.TicketsPath), (total+2)/3; got != want {
		t.Errorf("full sync: %d list requests, want %d", got, want)
	}

	// The changes are further apart than the overlap, and the ticket
	// updated last (209, the cursor) is among them: the incremental list
	// holds the changed tickets only.
	fake.ResetCounts()
	changed := []int64{201, 203, 204, 207, 209}
	for i, id := range changed {
		fake.SetStatus(id, at("2026-03-04T09:00:00Z").Add(time.Duration(i)*10*time.Minute), freshdeskfake.Pending)
	}
	n := len(changed)
	b2, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Full || b2.Cursor != "2026-03-04T09:40:00Z" {
		t.Errorf("incremental: full %v, cursor %q", b2.Full, b2.Cursor)
	}
	if got, want := fake.Requests(freshdeskfake.TicketsPath), (n+s.perPage-1)/s.perPage; got > want {
		t.Errorf("incremental: %d list requests, want at most %d", got, want)
	}
	var ids []string
	for _, c := range b2.Cases {
		ids = append(ids, c.ID)
		if c.Status != sla.StatusPendingCustomer {
			t.Errorf("case %s: status %v", c.ID, c.Status)
		}
	}
	if strings.Join(ids, ",") != "201,203,204,207,209" {
		t.Errorf("incremental: cases %v", ids)
	}
	if got := fake.Requests(""); got != fake.Requests(freshdeskfake.TicketsPath)+n {
		t.Errorf("incremental: %d requests in all, want the list's and %d conversations", got, n)
	}
	for _, id := range changed {
		if fake.Requests(freshdeskfake.ConversationsPath(id)) != 1 {
			t.Errorf("ticket %d: %d conversation requests", id, fake.Requests(freshdeskfake.ConversationsPath(id)))
		}
	}

	// Nothing changed: one list request; the overlap brings back the
	// ticket updated last (209) only.
	fake.ResetCounts()
	b3, err := s.Sync(ctx, b2.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(b3.Cases) != 1 || b3.Cases[0].ID != "209" || b3.Cursor != b2.Cursor || fake.Requests(freshdeskfake.TicketsPath) != 1 {
		t.Errorf("no change: %+v after %d list requests", b3, fake.Requests(freshdeskfake.TicketsPath))
	}

	// A cursor that is not a time: a full sync again.
	b4, err := s.Sync(ctx, "garbage")
	if err != nil {
		t.Fatal(err)
	}
	if !b4.Full || len(b4.Cases) != total {
		t.Errorf("unreadable cursor: full %v, %d cases", b4.Full, len(b4.Cases))
	}
}

// TestPageLimit: past the list's last page the source lists again from
// the last update it read.
func TestPageLimit(t *testing.T) {
	fake, s, _ := setup(t, "")
	s.perPage, s.maxPages, fake.MaxPages = 2, 2, 2
	for i := range int64(7) {
		fake.AddTicket(freshdeskfake.Ticket{ID: 300 + i, CreatedAt: at("2026-03-02T09:00:00Z").Add(time.Duration(i) * time.Minute), RequesterID: customer})
	}
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range b.Cases {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "300,301,302,303,304,305,306" {
		t.Errorf("cases %v", ids)
	}
	// 300-301 | 302-303, then from 303: 303-304 | 305-306, then from
	// 306 (the last allowed page was full and had no Link): 306.
	if n := fake.Requests(freshdeskfake.TicketsPath); n != 5 {
		t.Errorf("%d list requests, want 5", n)
	}
}

func TestUnauthorized(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.APIKey = "another"
	_, err := s.Sync(context.Background(), "")
	var se *rest.StatusError
	if !errors.As(err, &se) || se.Code != 401 || !strings.Contains(err.Error(), "invalid_credentials") {
		t.Fatalf("got %v, want a 401", err)
	}
	if strings.Contains(err.Error(), apiKey) {
		t.Errorf("the error shows the key: %v", err)
	}
	if n := fake.Requests(""); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRateLimited(t *testing.T) {
	fake, s, clock := setup(t, "")
	fake.AddTicket(freshdeskfake.Ticket{ID: 400, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer})
	fake.Inject(freshdeskfake.Fault{Path: freshdeskfake.TicketsPath, Code: 429, RetryAfter: 17},
		freshdeskfake.Fault{Path: freshdeskfake.ConversationsPath(400), Code: 503})
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
	if fake.Requests(freshdeskfake.TicketsPath) != 2 || fake.Requests(freshdeskfake.ConversationsPath(400)) != 2 {
		t.Errorf("requests: list %d, conversations %d", fake.Requests(freshdeskfake.TicketsPath), fake.Requests(freshdeskfake.ConversationsPath(400)))
	}
}

func TestMalformed(t *testing.T) {
	for _, path := range []string{freshdeskfake.TicketsPath, freshdeskfake.ConversationsPath(500)} {
		fake, s, _ := setup(t, "")
		fake.AddTicket(freshdeskfake.Ticket{ID: 500, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer})
		fake.Inject(freshdeskfake.Fault{Path: path, Malformed: true})
		if _, err := s.Sync(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
			t.Errorf("%s: got %v, want a malformed JSON error", path, err)
		}
	}
}

// TestFailures: a ticket whose conversations are gone is a problem; a
// server that keeps failing fails the Sync.
func TestFailures(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.AddTicket(freshdeskfake.Ticket{ID: 600, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer})
	fake.AddTicket(freshdeskfake.Ticket{ID: 601, CreatedAt: at("2026-03-02T09:16:00Z"), RequesterID: customer})
	fake.Inject(freshdeskfake.Fault{Path: freshdeskfake.ConversationsPath(600), Code: 404})
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 1 || b.Cases[0].ID != "601" {
		t.Errorf("cases %+v", b.Cases)
	}
	if len(b.Problems) != 1 || !strings.Contains(b.Problems[0].Error(), "ticket 600") {
		t.Errorf("problems %v", b.Problems)
	}
	fake.Inject(freshdeskfake.Fault{Path: freshdeskfake.TicketsPath, Code: 500, Times: 10})
	fake.ResetCounts()
	if _, err := s.Sync(context.Background(), b.Cursor); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("got %v, want HTTP 500", err)
	}
	if n := fake.Requests(freshdeskfake.TicketsPath); n != 5 {
		t.Errorf("%d requests, want 5 (4 retries)", n)
	}
}

func TestWindow(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.AddTicket(freshdeskfake.Ticket{ID: 701, CreatedAt: at("2026-01-10T08:00:00Z"), RequesterID: customer})
	fake.SetStatus(701, at("2026-01-12T08:00:00Z"), freshdeskfake.Resolved) // resolved before from
	fake.AddTicket(freshdeskfake.Ticket{ID: 702, CreatedAt: at("2026-01-20T08:00:00Z"), RequesterID: customer})
	fake.SetStatus(702, at("2026-02-03T08:00:00Z"), freshdeskfake.Resolved)                                     // resolved within
	fake.AddTicket(freshdeskfake.Ticket{ID: 703, CreatedAt: at("2026-03-02T08:00:00Z"), RequesterID: customer}) // created after to
	fake.AddTicket(freshdeskfake.Ticket{ID: 704, CreatedAt: at("2026-02-20T08:00:00Z"), RequesterID: customer})
	cases, err := s.Window(context.Background(), at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cases {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "702,704" {
		t.Errorf("window: %v, want 702,704", ids)
	}
}
