package servicenow

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/sources/servicenow/snowfake"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

const (
	user     = "sla.integration"
	password = "s3cret-pass"
	agent    = "beth.anglin"
	caller   = "abel.tuter"
)

// now is the tests' clock: a full Sync reads what was resolved since 2026-02-01.
var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

var incidentPath = snowfake.TablePath("incident")

// at is an RFC 3339 instant.
var at = sourcetest.MustTime

var _ rest.Clock = (*fakeapi.Clock)(nil)

func decode(t testing.TB, yml string, env map[string]string) (*source, error) {
	t.Helper()
	s, err := sourcetest.Decode(t, New, yml, env, sources.Env{Name: "snow", Now: func() time.Time { return now }})
	if err != nil {
		return nil, err
	}
	return s.(*source), nil
}

func setup(t testing.TB, extra string) (*snowfake.Server, *source, *fakeapi.Clock) {
	t.Helper()
	fake := snowfake.New(user, password)
	srv := httptest.NewTLSServer(fake)
	t.Cleanup(srv.Close)
	s, err := decode(t, "type: servicenow\nname: snow\nurl: "+srv.URL+"\nusername: "+user+"\npassword: ${SN_PASS}\n"+extra,
		map[string]string{"SN_PASS": password})
	if err != nil {
		t.Fatal(err)
	}
	clock := fakeapi.NewClock(now)
	s.setTestClient(clock, srv.Client().Transport)
	return fake, s, clock
}

func id(n int) string { return fmt.Sprintf("%032d", n) }

func TestConfig(t *testing.T) {
	env := map[string]string{"SN_PASS": password, "SN_OAUTH": "oauth"}
	for _, tc := range []struct{ name, yml, want string }{
		{"unknown key", "url: https://acme.service-now.com\nusername: u\npassword: ${SN_PASS}\nmaping: {}\n", `cfg.yml:4: sources[0]: unknown field "maping"`},
		{"unknown mapping key", "url: https://acme.service-now.com\noauth_token: ${SN_OAUTH}\nmapping:\n  tier: x\n", `cfg.yml:4: sources[0].mapping: unknown field "tier"`},
		{"inline secret", "url: https://acme.service-now.com\nusername: u\npassword: abc\n", `cfg.yml:3: sources[0].password: secrets are never written inline`},
		{"missing url", "username: u\npassword: ${SN_PASS}\n", `sources[0].url: missing`},
		{"bad severity", "url: https://acme.service-now.com\noauth_token: ${SN_OAUTH}\nmapping:\n  severity: {1: 0}\n", `cfg.yml:4: sources[0].mapping.severity.1: severity 0`},
		{"bad priority", "url: https://acme.service-now.com\noauth_token: ${SN_OAUTH}\nmapping:\n  severity: {6: 4}\n", `unknown priority "6"`},
		{"no credentials", "url: https://acme.service-now.com\n", `missing credentials`},
		{"both credentials", "url: https://acme.service-now.com\nusername: u\npassword: ${SN_PASS}\noauth_token: ${SN_OAUTH}\n", `not both`},
		{"password without user", "url: https://acme.service-now.com\npassword: ${SN_PASS}\n", `sources[0].username: missing`},
		{"bad page size", "url: https://acme.service-now.com\noauth_token: ${SN_OAUTH}\npage_size: 0\n", `sources[0].page_size: want 1 to 10000`},
		{"query with order", "url: https://acme.service-now.com\noauth_token: ${SN_OAUTH}\nquery: a=b^ORDERBYc\n", `sources[0].query: the query may not`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.yml, env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
	s, err := decode(t, "url: https://acme.service-now.com/\noauth_token: ${SN_OAUTH}\ntable: u_case\nquery: assignment_group.name=Support\nrequests_per_minute: 100\noverlap: 10m\npage_size: 50\nmapping:\n  tier_field: u_tier\n  customer_field: account\n  timezone_field: caller_id.time_zone\n  severity: {1: 1, 2: 1}\n", env)
	if err != nil {
		t.Fatal(err)
	}
	if s.base != "https://acme.service-now.com" || s.table != "u_case" || s.query != "assignment_group.name=Support" ||
		s.overlap != 10*time.Minute || s.pageSize != 50 || s.tierF != "u_tier" || s.custF != "account" ||
		s.tzF != "caller_id.time_zone" || s.severity[2] != 1 || s.severity[5] != 4 || s.opts.RequestsPerMinute != 100 {
		t.Errorf("decoded %+v", s)
	}
	d, err := decode(t, "url: https://acme.service-now.com\nusername: u\npassword: ${SN_PASS}\n", env)
	if err != nil {
		t.Fatal(err)
	}
	if d.table != "incident" || d.custF != "company" || d.overlap != 5*time.Minute || d.pageSize != 100 || !reflect.DeepEqual(d.severity, DefaultSeverity) {
		t.Errorf("defaults %+v", d)
	}
}

// TestMapping checks state and priority history, hold reasons, first
// response and resolution against expected cases.
func TestMapping(t *testing.T) {
	fake, s, _ := setup(t, "mapping: {tier_field: u_tier, timezone_field: u_tz}\n")
	// INC1: answered, awaiting caller, re-prioritised, other hold, resolved then closed.
	fake.AddIncident(snowfake.Incident{SysID: id(1), Number: "INC0000001", Opened: at("2026-03-02T09:15:00Z"), Priority: "2",
		Company: "Globex", CallerUser: caller, Extra: map[string]string{"u_tier": "premium", "u_tz": "Europe/Paris"}})
	fake.Journal(id(1), at("2026-03-02T09:20:00Z"), agent, "work_notes") // internal: no response
	fake.Journal(id(1), at("2026-03-02T09:40:00Z"), caller, "comments")  // the caller: no response
	fake.Change(id(1), at("2026-03-02T09:45:00Z"), agent, "state", "2")
	fake.Journal(id(1), at("2026-03-02T10:00:00Z"), agent, "comments")
	fake.Change(id(1), at("2026-03-02T10:00:01Z"), agent, "state", "3")
	fake.Change(id(1), at("2026-03-02T10:00:01Z"), agent, "hold_reason", "1")
	fake.Change(id(1), at("2026-03-02T11:00:00Z"), agent, "priority", "1")
	fake.Change(id(1), at("2026-03-02T12:00:00Z"), caller, "state", "2")
	fake.Change(id(1), at("2026-03-02T12:00:00Z"), caller, "hold_reason", "")
	fake.Change(id(1), at("2026-03-02T13:00:00Z"), agent, "state", "3")
	fake.Change(id(1), at("2026-03-02T13:00:00Z"), agent, "hold_reason", "4") // awaiting vendor
	fake.Change(id(1), at("2026-03-02T14:00:00Z"), agent, "state", "6")
	fake.Change(id(1), at("2026-03-03T14:00:00Z"), agent, "state", "7")

	// INC2: resolved, reopened: not resolved any more; planning priority is severity 4.
	fake.AddIncident(snowfake.Incident{SysID: id(2), Number: "INC0000002", Opened: at("2026-03-01T08:00:00Z"), Priority: "5", CallerUser: caller})
	fake.Change(id(2), at("2026-03-01T09:00:00Z"), agent, "state", "6")
	fake.Change(id(2), at("2026-03-01T10:00:00Z"), caller, "state", "2")

	// INC3: resolved before the previous month: left out of a full sync.
	fake.AddIncident(snowfake.Incident{SysID: id(3), Number: "INC0000003", Opened: at("2026-01-05T08:00:00Z"), CallerUser: caller})
	fake.Change(id(3), at("2026-01-06T08:00:00Z"), agent, "state", "6")

	// INC4: an unknown time zone: a problem naming it.
	fake.AddIncident(snowfake.Incident{SysID: id(4), Number: "INC0000004", Opened: at("2026-03-02T09:15:00Z"), CallerUser: caller,
		Extra: map[string]string{"u_tz": "Mars/Olympus"}})

	// INC5: canceled with no audit of it: closed, resolved at resolved_at.
	fake.AddIncident(snowfake.Incident{SysID: id(5), Number: "INC0000005", Opened: at("2026-03-02T08:00:00Z"), State: "8",
		ResolvedAt: at("2026-03-02T08:30:00Z"), CallerUser: caller})

	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	url := func(n int) string { return s.base + "/incident.do?sys_id=" + id(n) }
	want := []sla.Case{
		{Source: "snow", ID: id(2), Key: "INC0000002", URL: url(2), Severity: 4, Status: sla.StatusOpen, Created: at("2026-03-01T08:00:00Z"),
			StatusHistory: []sla.StatusChange{
				{At: at("2026-03-01T08:00:00Z"), Status: sla.StatusOpen},
				{At: at("2026-03-01T09:00:00Z"), Status: sla.StatusResolved},
				{At: at("2026-03-01T10:00:00Z"), Status: sla.StatusOpen},
			},
			SeverityHistory: []sla.SeverityChange{{At: at("2026-03-01T08:00:00Z"), Severity: 4}}},
		{Source: "snow", ID: id(5), Key: "INC0000005", URL: url(5), Severity: 4, Status: sla.StatusClosed, Created: at("2026-03-02T08:00:00Z"),
			Resolved:        at("2026-03-02T08:30:00Z"),
			StatusHistory:   []sla.StatusChange{{At: at("2026-03-02T08:00:00Z"), Status: sla.StatusClosed}},
			SeverityHistory: []sla.SeverityChange{{At: at("2026-03-02T08:00:00Z"), Severity: 4}}},
		{Source: "snow", ID: id(1), Key: "INC0000001", URL: url(1), Customer: "Globex", Tier: "premium", Severity: 1,
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
			Timezone: "Europe/Paris"},
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
	if len(b.Problems) != 1 || !strings.Contains(b.Problems[0].Error(), "INC0000004") || !strings.Contains(b.Problems[0].Error(), "Mars/Olympus") {
		t.Errorf("problems: %v", b.Problems)
	}
	q := fake.Queries(incidentPath)
	if len(q) != 1 || q[0] != "active=true^ORresolved_at>=2026-02-01 00:00:00^ORDERBYsys_updated_on^ORDERBYsys_id" {
		t.Errorf("queries %q", q)
	}
}

// TestIncremental: after a full sync, N changes cost at most
// ceil(N/page_size) table requests, and one sys_audit and one
// sys_journal_field request per changed record.
func TestIncremental(t *testing.T) {
	fake, s, _ := setup(t, "page_size: 3\n")
	const total = 10
	for i := range total {
		fake.AddIncident(snowfake.Incident{SysID: id(100 + i), Number: fmt.Sprintf("INC%07d", 100+i),
			Opened: at("2026-03-02T09:00:00Z").Add(time.Duration(i) * time.Hour), Priority: "3", CallerUser: caller})
	}
	// Two records share a timestamp across a page boundary.
	fake.Change(id(103), at("2026-03-02T11:00:00Z"), agent, "state", "2")
	ctx := context.Background()
	b, err := s.Sync(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Full || len(b.Cases) != total || len(b.Problems) != 0 {
		t.Fatalf("full sync: full %v, %d cases, problems %v", b.Full, len(b.Cases), b.Problems)
	}
	if got, want := fake.Requests(incidentPath), (total+2)/3; got != want {
		t.Errorf("full sync: %d table requests, want %d", got, want)
	}
	seen := map[string]bool{}
	for _, c := range b.Cases {
		if seen[c.ID] {
			t.Errorf("case %s twice", c.ID)
		}
		seen[c.ID] = true
	}

	for _, changed := range [][]int{{101, 103, 104, 107, 109}, {100, 102, 105, 106, 108, 101}} {
		fake.ResetCounts()
		for i, n := range changed {
			fake.Change(id(n), now.Add(time.Duration(i)*time.Minute), agent, "state", "3")
		}
		b2, err := s.Sync(ctx, b.Cursor)
		if err != nil {
			t.Fatal(err)
		}
		if b2.Full || b2.Cursor == "" {
			t.Errorf("incremental: full %v, cursor %q", b2.Full, b2.Cursor)
		}
		// Plus the one record of the cursor's own second (109, then
		// 108), read again in case it changed twice in that second.
		if got, want := fake.Requests(incidentPath), (len(changed)+1+2)/3; got > want {
			t.Errorf("incremental: %d table requests, want at most %d: %q", got, want, fake.Queries(incidentPath))
		}
		var ids []string
		for _, c := range b2.Cases {
			ids = append(ids, c.ID)
			if c.Status != sla.StatusOnHold {
				t.Errorf("case %s: status %v", c.ID, c.Status)
			}
		}
		var wantIDs []string
		for _, n := range changed {
			wantIDs = append(wantIDs, id(n))
		}
		if strings.Join(ids, ",") != strings.Join(wantIDs, ",") {
			t.Errorf("incremental: cases %v, want %v", ids, wantIDs)
		}
		if got := fake.Requests(""); got != fake.Requests(incidentPath)+2*len(changed) {
			t.Errorf("incremental: %d requests in all, want the table's and 2 per changed record", got)
		}
		for _, q := range fake.Queries(snowfake.TablePath("sys_journal_field")) {
			if !strings.Contains(q, "^element=comments^sys_created_by!="+caller) {
				t.Errorf("journal query %q", q)
			}
		}
		b = b2
	}

	// Nothing changed: one table request, nothing returned.
	fake.ResetCounts()
	b3, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(b3.Cases) != 0 || b3.Cursor == "" || fake.Requests("") != 1 {
		t.Errorf("no change: %+v after %d requests", b3, fake.Requests(""))
	}

	// A cursor that is not one of ours: a full sync again.
	b4, err := s.Sync(ctx, "garbage")
	if err != nil {
		t.Fatal(err)
	}
	if !b4.Full || len(b4.Cases) != total {
		t.Errorf("bad cursor: full %v, %d cases", b4.Full, len(b4.Cases))
	}
}

// TestSameTimestamp: more records at one sys_updated_on than a page holds
// are all read once.
func TestSameTimestamp(t *testing.T) {
	fake, s, _ := setup(t, "page_size: 2\n")
	for i := range 7 {
		fake.AddIncident(snowfake.Incident{SysID: id(300 + i), Number: fmt.Sprintf("INC%07d", 300+i),
			Opened: at("2026-03-02T09:00:00Z"), CallerUser: caller})
	}
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 7 {
		t.Errorf("%d cases, want 7", len(b.Cases))
	}
	if n := fake.Requests(incidentPath); n != 4 {
		t.Errorf("%d table requests, want 4", n)
	}
}

func TestUnauthorized(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.Password = "another"
	_, err := s.Sync(context.Background(), "")
	var se *rest.StatusError
	if !errors.As(err, &se) || se.Code != 401 || !strings.Contains(err.Error(), "User Not Authenticated") {
		t.Fatalf("got %v, want a 401", err)
	}
	if n := fake.Requests(""); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestOAuth(t *testing.T) {
	fake := snowfake.New(user, password)
	fake.Token = "bearer-tok"
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	s, err := decode(t, "url: "+srv.URL+"\noauth_token: ${SN_OAUTH}\n", map[string]string{"SN_OAUTH": "bearer-tok"})
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
	fake.AddIncident(snowfake.Incident{SysID: id(400), Number: "INC0000400", Opened: at("2026-03-02T09:15:00Z"), CallerUser: caller})
	fake.Inject(snowfake.Fault{Path: incidentPath, Code: 429, RetryAfter: 17},
		snowfake.Fault{Path: snowfake.TablePath("sys_audit"), Code: 503})
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
	if fake.Requests(incidentPath) != 2 || fake.Requests(snowfake.TablePath("sys_audit")) != 2 {
		t.Errorf("requests: incident %d, audit %d", fake.Requests(incidentPath), fake.Requests(snowfake.TablePath("sys_audit")))
	}
}

func TestMalformed(t *testing.T) {
	for _, path := range []string{incidentPath, snowfake.TablePath("sys_audit"), snowfake.TablePath("sys_journal_field")} {
		fake, s, _ := setup(t, "")
		fake.AddIncident(snowfake.Incident{SysID: id(500), Number: "INC0000500", Opened: at("2026-03-02T09:15:00Z"), CallerUser: caller})
		fake.Inject(snowfake.Fault{Path: path, Malformed: true})
		if _, err := s.Sync(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
			t.Errorf("%s: got %v, want a malformed JSON error", path, err)
		}
	}
}

func TestServerError(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.Inject(snowfake.Fault{Path: incidentPath, Code: 500, Times: 10})
	if _, err := s.Sync(context.Background(), ""); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("got %v, want HTTP 500", err)
	}
	if n := fake.Requests(incidentPath); n != 5 {
		t.Errorf("%d requests, want 5 (4 retries)", n)
	}
}

func TestWindow(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.AddIncident(snowfake.Incident{SysID: id(601), Number: "INC601", Opened: at("2026-01-10T08:00:00Z"), CallerUser: caller})
	fake.Change(id(601), at("2026-01-12T08:00:00Z"), agent, "state", "6") // resolved before from
	fake.AddIncident(snowfake.Incident{SysID: id(602), Number: "INC602", Opened: at("2026-01-20T08:00:00Z"), CallerUser: caller})
	fake.Change(id(602), at("2026-02-03T08:00:00Z"), agent, "state", "6")                                                         // resolved within
	fake.AddIncident(snowfake.Incident{SysID: id(603), Number: "INC603", Opened: at("2026-03-02T08:00:00Z"), CallerUser: caller}) // opened after to
	fake.AddIncident(snowfake.Incident{SysID: id(604), Number: "INC604", Opened: at("2025-12-20T08:00:00Z"), CallerUser: caller}) // open all along
	cases, err := s.Window(context.Background(), at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cases {
		ids = append(ids, c.Key)
	}
	if strings.Join(ids, ",") != "INC604,INC602" {
		t.Errorf("window: %v, want INC604,INC602", ids)
	}
}

// TestQuery: the configured query is ANDed before the source's own.
func TestQuery(t *testing.T) {
	fake, s, _ := setup(t, "query: u_team=support\n")
	fake.AddIncident(snowfake.Incident{SysID: id(700), Number: "INC700", Opened: at("2026-03-02T09:15:00Z"), CallerUser: caller,
		Extra: map[string]string{"u_team": "support"}})
	fake.AddIncident(snowfake.Incident{SysID: id(701), Number: "INC701", Opened: at("2026-03-02T09:15:00Z"), CallerUser: caller,
		Extra: map[string]string{"u_team": "sales"}})
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 1 || b.Cases[0].Key != "INC700" {
		t.Errorf("cases %+v", b.Cases)
	}
	if q := fake.Queries(incidentPath); len(q) != 1 || !strings.HasPrefix(q[0], "u_team=support^active=true^ORresolved_at>=") {
		t.Errorf("queries %q", q)
	}
}
