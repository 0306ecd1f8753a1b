package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/support-sla/support_sla_exporter/collector"
	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/report"
	"github.com/support-sla/support_sla_exporter/sources/rt/rttest"
)

// These tests run the program against the real Request Tracker of
// scripts/e2e/rt5-up.sh (make e2e starts it and exports its env file).
// They seed tickets through REST2 and move their times to fixed instants
// in RT's database; tickets of earlier runs stay in RT, so each test reads
// only the tickets from its first one on (query: id >= N).

// rtConfig writes a configuration with one rt source reading the tickets
// from id first on, under policy (a YAML mapping, indented for
// policies.e2e).
func rtConfig(t *testing.T, srv *rttest.Server, first, policy string) string {
	t.Helper()
	cfg := "sources:\n  - name: rt\n    type: rt\n    url: " + srv.URL + "\n    token: ${RT_TOKEN}\n" +
		"    queues: [" + srv.Queue + "]\n    query: \"id >= " + first + "\"\n    policy: e2e\n" +
		"policies:\n  e2e:\n" + policy
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rtCases runs `cases --format json --at at` and returns its lines by case
// and target.
func rtCases(t *testing.T, path string, at time.Time) map[[2]string]caseLine {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--config.file=" + path, "cases", "--format=json", "--at=" + at.Format(time.RFC3339)},
		&out, &errOut, func() time.Time { return at })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := map[[2]string]caseLine{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var c caseLine
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		lines[[2]string{c.Case, c.Target}] = c
	}
	return lines
}

// step is something done to a seeded ticket at an instant.
type step struct {
	at time.Duration // after the ticket's creation
	do func(t *testing.T, srv *rttest.Server, id string)
}

func reply(after time.Duration) step {
	return step{after, func(t *testing.T, srv *rttest.Server, id string) { srv.Reply(t, rttest.Agent, id) }}
}

func set(after time.Duration, fields map[string]any) step {
	return step{after, func(t *testing.T, srv *rttest.Server, id string) { srv.Update(t, rttest.Agent, id, fields) }}
}

// seed creates a ticket as the customer and moves its creation and each
// step's transactions to their instants. It returns the ticket's id.
func seed(t *testing.T, srv *rttest.Server, created time.Time, fields map[string]any, steps ...step) string {
	t.Helper()
	id := srv.Create(t, "e2e "+t.Name(), fields)
	srv.DeleteAtEnd(t, id)
	last := srv.LastTxn(t, id)
	srv.Backdate(t, id, 0, last, created)
	dates := map[string]time.Time{"Created": created}
	for _, s := range steps {
		s.do(t, srv, id)
		next := srv.LastTxn(t, id)
		srv.Backdate(t, id, last, next, created.Add(s.at))
		last = next
		if st, ok := srv.Ticket(t, id)["Status"].(string); ok && (st == "resolved" || st == "rejected") {
			dates["Resolved"] = created.Add(s.at)
		}
	}
	srv.SetDates(t, id, dates)
	return id
}

// TestRTStates seeds a ticket in every state, at fixed instants, and checks
// what `cases` says of each.
func TestRTStates(t *testing.T) {
	srv := rttest.FromEnv(t)
	at := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC) // a Wednesday
	t0 := at.Add(-4 * time.Hour)
	const policy = `    default_tier: premium
    default_severity: 3
    pause_statuses: [pending_customer]
    tiers:
      premium:
        calendar: 24x7
        first_response: {1: 1h, 2: 2h, 3: 4h, 4: 8h}
        resolution: {1: 24h, 2: 48h, 3: 72h, 4: 96h}
`
	// RT priorities: 90 is severity 1, 70 is 2, 50 is 3, 10 is 4.
	cases := []struct {
		name      string
		created   time.Time
		fields    map[string]any
		steps     []step
		severity  int
		fr, res   string // the targets' states at at
		frStopped time.Duration
	}{
		{"responded in time", t0, map[string]any{"Priority": 50}, []step{reply(time.Hour)}, 3, "met", "ok", time.Hour},
		{"responded late", t0, map[string]any{"Priority": 90}, []step{reply(2 * time.Hour)}, 1, "missed", "ok", 2 * time.Hour},
		{"never responded", t0, map[string]any{"Priority": 90}, nil, 1, "breached", "ok", 0},
		{"waiting for the customer", t0, map[string]any{"Priority": 90},
			[]step{reply(30 * time.Minute), set(time.Hour, map[string]any{"Status": "stalled"})}, 1, "met", "paused", 30 * time.Minute},
		// Severity 4 would be ok (4h of 8h); raised to 1, the case is
		// re-targeted from its creation: 4h of 1h.
		{"severity raised", t0, map[string]any{"Priority": 10}, []step{set(time.Hour, map[string]any{"Priority": 90})}, 1, "breached", "ok", 0},
		{"resolved", t0, map[string]any{"Priority": 50},
			[]step{reply(30 * time.Minute), set(2*time.Hour, map[string]any{"Status": "resolved"})}, 3, "met", "met", 30 * time.Minute},
		{"about to breach", at.Add(-90 * time.Minute), map[string]any{"Priority": 70}, nil, 2, "warning", "ok", 0},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		c.fields["SLA"] = "Premium"
		ids[i] = seed(t, srv, c.created, c.fields, c.steps...)
	}
	lines := rtCases(t, rtConfig(t, srv, ids[0], policy), at)
	for i, c := range cases {
		fr, ok1 := lines[[2]string{ids[i], "first_response"}]
		res, ok2 := lines[[2]string{ids[i], "resolution"}]
		if !ok1 || !ok2 {
			t.Errorf("%s (ticket %s): not in the output", c.name, ids[i])
			continue
		}
		if fr.State != c.fr || res.State != c.res || fr.Severity != c.severity || fr.Tier != "premium" {
			t.Errorf("%s (ticket %s): first_response %s, resolution %s, severity %d, tier %q; want %s, %s, %d, premium",
				c.name, ids[i], fr.State, res.State, fr.Severity, fr.Tier, c.fr, c.res, c.severity)
		}
		var wantStop *string
		if c.frStopped > 0 {
			s := c.created.Add(c.frStopped).Format(time.RFC3339)
			wantStop = &s
		}
		if str(fr.Stopped) != str(wantStop) {
			t.Errorf("%s (ticket %s): first response stopped %s, want %s", c.name, ids[i], str(fr.Stopped), str(wantStop))
		}
	}
}

func str(p *string) string {
	if p == nil {
		return "null"
	}
	return *p
}

// rtMirror is a policy with RT's own %ServiceAgreements of rt5-up.sh: the
// same business hours, and the same Response and Resolve goals at every
// severity.
const rtMirror = `    default_tier: basic
    calendars:
      rt:
        timezone: Europe/Berlin
        hours: {mon: ["08:00-20:00"], tue: ["08:00-20:00"], wed: ["08:00-20:00"], thu: ["08:00-20:00"], fri: ["08:00-20:00"]}
    tiers:
      premium:
        calendar: rt
        first_response: {1: 60m, 2: 60m, 3: 60m, 4: 60m}
        resolution: {1: 240m, 2: 240m, 3: 240m, 4: 240m}
      production:
        calendar: rt
        first_response: {1: 240m, 2: 240m, 3: 240m, 4: 240m}
        resolution: {1: 1440m, 2: 1440m, 3: 1440m, 4: 1440m}
      basic:
        calendar: rt
        first_response: {1: 720m, 2: 720m, 3: 720m, 4: 720m}
        resolution: {1: 3600m, 2: 3600m, 3: 3600m, 4: 3600m}
`

// TestRTDueSkew: on tickets whose RT SLA level matches a policy configured
// with RT's own business hours, RT's Due and ours agree to the second, so
// support_sla_source_due_skew_seconds is 0.
func TestRTDueSkew(t *testing.T) {
	srv := rttest.FromEnv(t)
	cases := []struct {
		level   string
		created time.Time
		due     time.Time // worked out by hand from the calendar
	}{
		// 19:30 on a Friday in Berlin: 30 minutes then, 30 on Monday.
		{"Premium", time.Date(2026, 3, 6, 18, 30, 0, 0, time.UTC), time.Date(2026, 3, 9, 7, 30, 0, 0, time.UTC)},
		// The hour runs out at 20:00 on Friday: due when Monday opens.
		{"Premium", time.Date(2026, 3, 6, 18, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
		// Before opening: 4 hours from 08:00.
		{"Production", time.Date(2026, 3, 4, 6, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)},
		// 7 hours on Friday, 5 on Monday, after the clocks went forward.
		{"Basic", time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 11, 0, 0, 0, time.UTC)},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = srv.Create(t, "e2e due skew", map[string]any{"SLA": c.level})
		srv.DeleteAtEnd(t, ids[i])
		srv.SetDates(t, ids[i], map[string]time.Time{"Created": c.created})
		srv.Backdate(t, ids[i], 0, srv.LastTxn(t, ids[i]), c.created)
		// A change of level makes RT work out Starts and Due again, from
		// the back-dated creation.
		other := "Basic"
		if c.level == "Basic" {
			other = "Premium"
		}
		srv.Update(t, rttest.Root, ids[i], map[string]any{"SLA": other})
		srv.Update(t, rttest.Root, ids[i], map[string]any{"SLA": c.level})
	}
	at := time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC) // every ticket open, every due passed or to come
	path := rtConfig(t, srv, ids[0], rtMirror)
	lines := rtCases(t, path, at)
	for i, c := range cases {
		rtDue, _ := srv.Ticket(t, ids[i])["Due"].(string)
		l, ok := lines[[2]string{ids[i], "first_response"}]
		if !ok {
			t.Fatalf("ticket %s is not in the output", ids[i])
		}
		want := c.due.Format(time.RFC3339)
		if rtDue != want || str(l.Due) != want {
			t.Errorf("%s ticket %s created %s: RT's Due %s, ours %s, want both %s", c.level, ids[i], c.created.Format(time.RFC3339), rtDue, str(l.Due), want)
		}
	}

	// The gauge over the same cases.
	cfg, err := config.Load(path, config.Options{Registry: registry(), Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	src := cfg.Sources[0]
	p := poller.New(poller.Config{Name: src.Name, Interval: time.Minute, Source: src.Source, Evaluator: src.Evaluator,
		Now: func() time.Time { return at }}, nil)
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := collector.New(func() collector.State { return collector.State{Pollers: []*poller.Poller{p}} }, func() time.Time { return at })
	want := "# HELP support_sla_source_due_skew_seconds "
	got, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, "support_sla_source_due_skew_seconds")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), want) || !strings.Contains(string(got), `support_sla_source_due_skew_seconds{source="rt"} 0`+"\n") {
		t.Errorf("the skew gauge:\n%s", got)
	}
}

// TestRTReport seeds tickets in March 2026 with known outcomes and checks
// the CSV of `report --month 2026-03`, run in May.
func TestRTReport(t *testing.T) {
	srv := rttest.FromEnv(t)
	const policy = `    default_tier: premium
    tiers:
      premium:
        calendar: 24x7
        first_response: {1: 1h, 2: 2h, 3: 4h, 4: 8h}
        resolution: {1: 24h, 2: 48h, 3: 72h, 4: 96h}
`
	sev1 := func() map[string]any { return map[string]any{"SLA": "Premium", "Priority": 90} }
	resolve := func(after time.Duration) step { return set(after, map[string]any{"Status": "resolved"}) }
	ids := []string{
		// February's: answered and resolved then; not March's.
		seed(t, srv, time.Date(2026, 2, 27, 10, 0, 0, 0, time.UTC), sev1(), reply(20*time.Minute), resolve(time.Hour)),
		// Answered in 30m (met), resolved in 2h (met).
		seed(t, srv, time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC), sev1(), reply(30*time.Minute), resolve(2*time.Hour)),
		// Answered in 2h (missed, due 10:00), resolved in 5h (met).
		seed(t, srv, time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC), sev1(), reply(2*time.Hour), resolve(5*time.Hour)),
		// Never answered, still open: both targets breached at the end.
		seed(t, srv, time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC), sev1()),
		// Created Mar 31 20:00, answered Apr 1 01:00, resolved 03:00: as of
		// the month's last second its response is breached (due 21:00) and
		// its resolution runs (4h of 24h), so only the response counts.
		seed(t, srv, time.Date(2026, 3, 31, 20, 0, 0, 0, time.UTC), sev1(), reply(5*time.Hour), resolve(7*time.Hour)),
	}
	path := rtConfig(t, srv, ids[0], policy)
	may := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--config.file=" + path, "--log.level=warn", "report", "--month=2026-03", "--format=csv"},
		&out, &errOut, func() time.Time { return may })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	// First response: met 1800s, missed 7200s, two breached; the median
	// of the two measured is the 1st, p90 the 2nd. Resolution: met 7200s
	// and 18000s, one breached.
	want := "month,source,tier,severity,target,decided,met,missed,breached,compliance_ratio,median_elapsed_seconds,p90_elapsed_seconds,excluded,not_applicable,best_effort\n" +
		"2026-03,rt,premium,1,first_response,4,1,1,2,0.2500,1800,7200,0,0,0\n" +
		"2026-03,rt,premium,1,resolution,3,2,0,1,0.6667,7200,18000,0,0,0\n"
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s\nstderr: %s", out.String(), want, errOut.String())
	}

	// Opened in March: the four; resolved in March: two (the last one
	// in April); open at the end: the breached one and the last one.
	r := reportJSON(t, may, "--config.file="+path, "--month=2026-03")
	if want := (report.Totals{Opened: 4, Resolved: 2, Backlog: 2}); r.Totals != want {
		t.Errorf("totals %+v, want %+v", r.Totals, want)
	}
	var worst []string
	for _, l := range r.Worst {
		worst = append(worst, l.Case+" "+l.Target+" "+l.State)
	}
	// Elapsed / goal: 1,004,399s of 1h, then of 24h; 14,399s of 1h; 7200s of 1h.
	if want := []string{ids[3] + " first_response breached", ids[3] + " resolution breached", ids[4] + " first_response breached",
		ids[2] + " first_response missed"}; !slices.Equal(worst, want) {
		t.Errorf("worst %v, want %v", worst, want)
	}
}
