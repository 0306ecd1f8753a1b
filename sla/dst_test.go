package sla

// Daylight-saving changes, computed by hand.
//
// The 2026 changes: America/New_York springs forward on Sunday 8 March
// (02:00 EST → 03:00 EDT, at 07:00Z: a 23-hour day) and falls back on
// Sunday 1 November (02:00 EDT → 01:00 EST, at 06:00Z: a 25-hour day);
// Europe/Paris springs forward on Sunday 29 March (02:00 CET → 03:00 CEST,
// at 01:00Z) and falls back on Sunday 25 October (03:00 CEST → 02:00 CET,
// at 01:00Z).
//
// Two calendars in each zone: "business", Mon–Fri 08:00–20:00, and "wall",
// 00:00–24:00 every day. A calendar counts real elapsed seconds inside its
// open wall-clock hours, so the wall calendar's Sunday of a spring change
// counts 23 hours and that of an autumn change 25 hours, and a 24-hour goal
// that spans the change ends an hour later, or earlier, by the wall clock.
// The business calendar is closed on Sundays, so the change only moves the
// UTC instant of Monday's hours.

import (
	"archive/zip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rickar/cal/v2/fr"
)

// dstCalendars returns the business and wall calendars of a zone.
func dstCalendars(t testing.TB, zone string, customerTZ bool) (business, wall *Calendar) {
	t.Helper()
	loc := mustLoc(t, zone)
	day := []ClockRange{{8 * 60, 20 * 60}}
	all := []ClockRange{{0, MinutesPerDay}}
	business = &Calendar{Name: "business", Location: loc, CustomerTimezone: customerTZ,
		Hours: [7][]ClockRange{time.Monday: day, time.Tuesday: day, time.Wednesday: day, time.Thursday: day, time.Friday: day}}
	wall = &Calendar{Name: "wall", Location: loc, CustomerTimezone: customerTZ,
		Hours: [7][]ClockRange{all, all, all, all, all, all, all}}
	for _, c := range []*Calendar{business, wall} {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	return business, wall
}

// oneGoalEvaluator has one tier whose first-response goal is d in cal, not
// pausable.
func oneGoalEvaluator(t testing.TB, cal *Calendar, d time.Duration) *Evaluator {
	t.Helper()
	g := Goal{Kind: GoalDuration, Duration: d, Calendar: cal}
	p := &Policy{Name: "dst", DefaultTier: "t", DefaultSeverity: 1, WarningRatio: 0.75,
		PauseStatuses: []Status{StatusPendingCustomer},
		Tiers:         map[string]*Tier{"t": {Name: "t", Calendar: cal, Targets: [NumTargets]*Goals{FirstResponse: {{}, g, g, g, g}}}},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return &Evaluator{Policy: p}
}

func rfc3339(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDSTDues(t *testing.T) {
	tests := []struct {
		name     string
		zone     string
		calendar string // business, wall or 24x7
		caseTZ   string // with customer_timezone: true
		created  string
		goal     time.Duration
		stop     string // first response, optional
		at       string
		elapsed  time.Duration
		due      string
		state    State
	}{
		// EU spring, Sunday 29 March is 23 hours long in Paris.
		{
			// Saturday 12:00→24:00 12h; Sunday 00:00–02:00 CET 2h, then
			// the clock reads 03:00 CEST: 10h more is 13:00 CEST.
			name: "paris wall 24h over spring change", zone: "Europe/Paris", calendar: "wall",
			created: "2026-03-28T12:00:00+01:00", goal: 24 * time.Hour,
			at: "2026-03-29T12:00:00+02:00", elapsed: 23 * time.Hour, // 12 + 2 + 9
			due: "2026-03-29T13:00:00+02:00", state: StateWarning,
		},
		{
			// The built-in 24x7 counts the same real seconds.
			name: "paris 24x7 24h over spring change", zone: "Europe/Paris", calendar: "24x7",
			created: "2026-03-28T12:00:00+01:00", goal: 24 * time.Hour,
			at: "2026-03-29T12:00:00+02:00", elapsed: 23 * time.Hour,
			due: "2026-03-29T13:00:00+02:00", state: StateWarning,
		},
		{
			// Saturday 24h + Sunday 23h.
			name: "paris wall weekend of spring change", zone: "Europe/Paris", calendar: "wall",
			created: "2026-03-28T00:00:00+01:00", goal: 48 * time.Hour,
			at: "2026-03-30T00:00:00+02:00", elapsed: 47 * time.Hour,
			due: "2026-03-30T01:00:00+02:00", state: StateWarning,
		},
		{
			// A week: 7 × 24h − 1h.
			name: "paris wall week of spring change", zone: "Europe/Paris", calendar: "wall",
			created: "2026-03-23T00:00:00+01:00", goal: 200 * time.Hour,
			at: "2026-03-30T00:00:00+02:00", elapsed: 167 * time.Hour,
			due: "2026-03-31T09:00:00+02:00", state: StateWarning, // 33h more: Mon 24h + Tue 9h
		},
		{
			// Business hours are wall-clock hours: 5 × 12h whatever the offset.
			name: "paris business week of spring change", zone: "Europe/Paris", calendar: "business",
			created: "2026-03-23T00:00:00+01:00", goal: 72 * time.Hour,
			at: "2026-03-30T00:00:00+02:00", elapsed: 60 * time.Hour,
			// 12h more is Monday 08:00–20:00: the goal runs out at the end
			// of a stretch, so the due is the start of the next one.
			due: "2026-03-31T08:00:00+02:00", state: StateWarning,
		},
		{
			// Friday 19:00–20:00 1h; Monday 08:00 CEST + 7h.
			name: "paris business friday 19:00 over spring change", zone: "Europe/Paris", calendar: "business",
			created: "2026-03-27T19:00:00+01:00", goal: 8 * time.Hour,
			at: "2026-03-30T10:00:00+02:00", elapsed: 3 * time.Hour,
			due: "2026-03-30T15:00:00+02:00", state: StateOK,
		},
		{
			// Friday 12:00–20:00 is the whole goal: due Monday 08:00 CEST,
			// and at the due the case is not breached yet.
			name: "paris business goal ends friday 20:00 over spring change", zone: "Europe/Paris", calendar: "business",
			created: "2026-03-27T12:00:00+01:00", goal: 8 * time.Hour,
			at: "2026-03-30T08:00:00+02:00", elapsed: 8 * time.Hour,
			due: "2026-03-30T08:00:00+02:00", state: StateWarning,
		},
		{
			name: "paris business one second after the due", zone: "Europe/Paris", calendar: "business",
			created: "2026-03-27T12:00:00+01:00", goal: 8 * time.Hour,
			at: "2026-03-30T08:00:01+02:00", elapsed: 8*time.Hour + time.Second,
			due: "2026-03-30T08:00:00+02:00", state: StateBreached,
		},
		{
			// A reply on Sunday, in the closed hours after the goal ran
			// out, is in time.
			name: "paris business reply sunday is met", zone: "Europe/Paris", calendar: "business",
			created: "2026-03-27T12:00:00+01:00", goal: 8 * time.Hour, stop: "2026-03-29T10:00:00+02:00",
			at: "2026-03-30T12:00:00+02:00", elapsed: 8 * time.Hour,
			due: "2026-03-30T08:00:00+02:00", state: StateMet,
		},
		{
			name: "paris business reply at the due is met", zone: "Europe/Paris", calendar: "business",
			created: "2026-03-27T12:00:00+01:00", goal: 8 * time.Hour, stop: "2026-03-30T08:00:00+02:00",
			at: "2026-03-30T12:00:00+02:00", elapsed: 8 * time.Hour,
			due: "2026-03-30T08:00:00+02:00", state: StateMet,
		},
		{
			name: "paris business reply a second late is missed", zone: "Europe/Paris", calendar: "business",
			created: "2026-03-27T12:00:00+01:00", goal: 8 * time.Hour, stop: "2026-03-30T08:00:01+02:00",
			at: "2026-03-30T12:00:00+02:00", elapsed: 8*time.Hour + time.Second,
			due: "2026-03-30T08:00:00+02:00", state: StateMissed,
		},

		// EU autumn, Sunday 25 October is 25 hours long in Paris.
		{
			// Saturday 12h; Sunday 00:00–03:00 CEST 3h, then 02:00 CET
			// again: 9h more is 11:00 CET.
			name: "paris wall 24h over autumn change", zone: "Europe/Paris", calendar: "wall",
			created: "2026-10-24T12:00:00+02:00", goal: 24 * time.Hour,
			at: "2026-10-25T10:00:00+01:00", elapsed: 23 * time.Hour, // 12 + 3 + 8
			due: "2026-10-25T11:00:00+01:00", state: StateWarning,
		},
		{
			name: "paris wall weekend of autumn change", zone: "Europe/Paris", calendar: "wall",
			created: "2026-10-24T00:00:00+02:00", goal: 50 * time.Hour,
			at: "2026-10-26T00:00:00+01:00", elapsed: 49 * time.Hour, // 24 + 25
			due: "2026-10-26T01:00:00+01:00", state: StateWarning,
		},
		{
			name: "paris business friday 19:00 over autumn change", zone: "Europe/Paris", calendar: "business",
			created: "2026-10-23T19:00:00+02:00", goal: 8 * time.Hour,
			at: "2026-10-26T09:00:00+01:00", elapsed: 2 * time.Hour,
			due: "2026-10-26T15:00:00+01:00", state: StateOK,
		},
		{
			name: "paris business goal ends friday 20:00 over autumn change", zone: "Europe/Paris", calendar: "business",
			created: "2026-10-23T12:00:00+02:00", goal: 8 * time.Hour,
			at: "2026-10-25T12:00:00+01:00", elapsed: 8 * time.Hour,
			due: "2026-10-26T08:00:00+01:00", state: StateWarning,
		},

		// US spring, Sunday 8 March is 23 hours long in New York.
		{
			// Saturday 12h; Sunday 00:00–02:00 EST 2h, then 03:00 EDT: 10h
			// more is 13:00 EDT.
			name: "new york wall 24h over spring change", zone: "America/New_York", calendar: "wall",
			created: "2026-03-07T12:00:00-05:00", goal: 24 * time.Hour,
			at: "2026-03-08T13:00:00-04:00", elapsed: 24 * time.Hour,
			due: "2026-03-08T13:00:00-04:00", state: StateWarning,
		},
		{
			name: "new york wall weekend of spring change", zone: "America/New_York", calendar: "wall",
			created: "2026-03-07T00:00:00-05:00", goal: 48 * time.Hour,
			at: "2026-03-09T00:00:00-04:00", elapsed: 47 * time.Hour,
			due: "2026-03-09T01:00:00-04:00", state: StateWarning,
		},
		{
			name: "new york business friday 19:00 over spring change", zone: "America/New_York", calendar: "business",
			created: "2026-03-06T19:00:00-05:00", goal: 8 * time.Hour,
			at: "2026-03-09T08:00:00-04:00", elapsed: time.Hour,
			due: "2026-03-09T15:00:00-04:00", state: StateOK,
		},
		{
			name: "new york business goal ends friday 20:00 over spring change", zone: "America/New_York", calendar: "business",
			created: "2026-03-06T12:00:00-05:00", goal: 8 * time.Hour,
			at: "2026-03-09T09:00:00-04:00", elapsed: 9 * time.Hour,
			due: "2026-03-09T08:00:00-04:00", state: StateBreached,
		},
		{
			// Nothing changes in New York on the EU's Sunday.
			name: "new york wall over the EU change", zone: "America/New_York", calendar: "wall",
			created: "2026-03-28T12:00:00-04:00", goal: 24 * time.Hour,
			at: "2026-03-29T00:00:00-04:00", elapsed: 12 * time.Hour,
			due: "2026-03-29T12:00:00-04:00", state: StateOK,
		},

		// US autumn, Sunday 1 November is 25 hours long in New York.
		{
			// Saturday 12h; Sunday 00:00–02:00 EDT 2h, then 01:00 EST
			// again: 10h more is 11:00 EST.
			name: "new york wall 24h over autumn change", zone: "America/New_York", calendar: "wall",
			created: "2026-10-31T12:00:00-04:00", goal: 24 * time.Hour,
			at: "2026-11-01T01:30:00-05:00", elapsed: 14*time.Hour + 30*time.Minute, // 12 + 2 + 0:30
			due: "2026-11-01T11:00:00-05:00", state: StateOK,
		},
		{
			name: "new york wall weekend of autumn change", zone: "America/New_York", calendar: "wall",
			created: "2026-10-31T00:00:00-04:00", goal: 48 * time.Hour,
			at: "2026-11-02T00:00:00-05:00", elapsed: 49 * time.Hour, // 24 + 25
			due: "2026-11-01T23:00:00-05:00", state: StateBreached,
		},
		{
			name: "new york business friday 19:00 over autumn change", zone: "America/New_York", calendar: "business",
			created: "2026-10-30T19:00:00-04:00", goal: 8 * time.Hour,
			at: "2026-11-02T15:00:00-05:00", elapsed: 8 * time.Hour,
			due: "2026-11-02T15:00:00-05:00", state: StateWarning,
		},
		{
			name: "new york business goal ends friday 20:00 over autumn change", zone: "America/New_York", calendar: "business",
			created: "2026-10-30T12:00:00-04:00", goal: 8 * time.Hour,
			at: "2026-10-31T12:00:00-04:00", elapsed: 8 * time.Hour,
			due: "2026-11-02T08:00:00-05:00", state: StateWarning,
		},

		// A Paris calendar in the customer's zone, between the US and the
		// EU changes (New York is on EDT, Paris still on CET).
		{
			// Friday 14:00–20:00 EDT 6h; Monday 08:00 EDT + 2h.
			name: "paris calendar in a new york customer's hours", zone: "Europe/Paris", calendar: "business", caseTZ: "America/New_York",
			created: "2026-03-27T14:00:00-04:00", goal: 8 * time.Hour,
			at: "2026-03-27T20:00:00-04:00", elapsed: 6 * time.Hour,
			due: "2026-03-30T10:00:00-04:00", state: StateWarning,
		},
		{
			// The same instant is Friday 19:00 CET in Paris.
			name: "paris calendar without a customer zone", zone: "Europe/Paris", calendar: "business",
			created: "2026-03-27T14:00:00-04:00", goal: 8 * time.Hour,
			at: "2026-03-27T20:00:00-04:00", elapsed: time.Hour,
			due: "2026-03-30T15:00:00+02:00", state: StateOK,
		},
		{
			// A New York wall calendar in a Paris customer's zone: the
			// Paris Sunday of the spring change has 23 hours.
			name: "new york wall calendar in a paris customer's hours", zone: "America/New_York", calendar: "wall", caseTZ: "Europe/Paris",
			created: "2026-03-28T12:00:00+01:00", goal: 24 * time.Hour,
			at: "2026-03-29T12:00:00+02:00", elapsed: 23 * time.Hour,
			due: "2026-03-29T13:00:00+02:00", state: StateWarning,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			business, wall := dstCalendars(t, tt.zone, tt.caseTZ != "")
			cal := map[string]*Calendar{"business": business, "wall": wall, "24x7": AlwaysOpen()}[tt.calendar]
			ev := oneGoalEvaluator(t, cal, tt.goal)
			c := &Case{ID: "dst", Created: rfc3339(t, tt.created), Timezone: tt.caseTZ}
			if tt.stop != "" {
				c.FirstResponse = rfc3339(t, tt.stop)
			}
			rs, err := ev.Evaluate(c, rfc3339(t, tt.at), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 {
				t.Fatalf("got %d results, want 1", len(rs))
			}
			r := rs[0]
			want := rfc3339(t, tt.due)
			if !r.HasDue || !r.DueTime().Equal(want) {
				t.Errorf("due = %s, want %s", r.DueTime().In(want.Location()).Format(time.RFC3339), tt.due)
			}
			if got := time.Duration(r.Elapsed) * time.Second; got != tt.elapsed {
				t.Errorf("elapsed = %s, want %s", got, tt.elapsed)
			}
			if r.State != tt.state {
				t.Errorf("state = %s, want %s", r.State, tt.state)
			}
		})
	}
}

// seedBusinessPolicy is the spec's example "basic" tier: Paris business
// hours Mon–Thu 08:00–20:00, Friday 08:00–12:00 and 13:00–20:00, French
// public holidays, in the customer's zone; severity 2 has 8 business hours
// to a first response.
func seedBusinessPolicy(t testing.TB) *Evaluator {
	t.Helper()
	day := []ClockRange{{8 * 60, 20 * 60}}
	biz := &Calendar{Name: "business", Location: mustLoc(t, "Europe/Paris"), CustomerTimezone: true,
		Hours:        [7][]ClockRange{time.Monday: day, time.Tuesday: day, time.Wednesday: day, time.Thursday: day, time.Friday: {{8 * 60, 12 * 60}, {13 * 60, 20 * 60}}},
		HolidayDates: []Date{{2026, 12, 25}, {2027, 1, 1}},
		Exclusions:   []Exclusion{{Weekday: time.Wednesday, Weeks: []int{1, -3, -2, -1}, Range: ClockRange{0, 6 * 60}}},
	}
	biz.Holidays = fr.Holidays
	if err := biz.Validate(); err != nil {
		t.Fatal(err)
	}
	return oneGoalEvaluator(t, biz, 8*time.Hour)
}

func TestSeedExamples(t *testing.T) {
	ev := seedBusinessPolicy(t)
	tests := []struct {
		name, created, at, due string
		elapsed                time.Duration
	}{
		// Friday 19:00–20:00 1h; Monday 08:00 + 7h.
		{"opened friday 19:00 is due monday 15:00", "2026-06-05T19:00:00+02:00", "2026-06-08T09:00:00+02:00", "2026-06-08T15:00:00+02:00", 2 * time.Hour},
		// Friday 13:00–20:00 is 7h: a 7h goal runs out at 20:00 exactly.
		{"goal runs out at friday 20:00: due monday 08:00", "2026-06-05T12:30:00+02:00", "2026-06-06T10:00:00+02:00", "2026-06-08T08:00:00+02:00", 7 * time.Hour},
		// Thursday 16:00–20:00 4h, Friday 08:00–12:00 4h: the goal runs
		// out at the lunch break, due when it ends.
		{"goal runs out at friday 12:00: due friday 13:00", "2026-06-04T16:00:00+02:00", "2026-06-05T12:30:00+02:00", "2026-06-05T13:00:00+02:00", 8 * time.Hour},
		// Thursday 14 May is Ascension Day, Monday 25 May Whit Monday.
		// Wednesday 16:00–20:00 4h, Friday 08:00–12:00 4h: due 13:00.
		{"holidays are closed", "2026-05-13T16:00:00+02:00", "2026-05-13T20:00:00+02:00", "2026-05-15T13:00:00+02:00", 4 * time.Hour},
		{"whit monday is closed", "2026-05-22T19:00:00+02:00", "2026-05-26T08:00:00+02:00", "2026-05-26T15:00:00+02:00", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Case{ID: "seed", Created: rfc3339(t, tt.created)}
			if tt.name == "goal runs out at friday 20:00: due monday 08:00" {
				// 7h goal: evaluate under a copy of the policy.
				ev := oneGoalEvaluator(t, ev.Policy.Tiers["t"].Calendar, 7*time.Hour)
				checkDue(t, ev, c, tt.at, tt.due, tt.elapsed)
				return
			}
			checkDue(t, ev, c, tt.at, tt.due, tt.elapsed)
		})
	}
}

func checkDue(t *testing.T, ev *Evaluator, c *Case, at, due string, elapsed time.Duration) {
	t.Helper()
	rs, err := ev.Evaluate(c, rfc3339(t, at), nil)
	if err != nil || len(rs) != 1 {
		t.Fatalf("Evaluate: %v, %d results", err, len(rs))
	}
	want := rfc3339(t, due)
	if !rs[0].HasDue || !rs[0].DueTime().Equal(want) {
		t.Errorf("due = %s, want %s", rs[0].DueTime().In(want.Location()).Format(time.RFC3339), due)
	}
	if got := time.Duration(rs[0].Elapsed) * time.Second; got != elapsed {
		t.Errorf("elapsed = %s, want %s", got, elapsed)
	}
}

// TestDSTHoursBoundaryInTransition: hours whose start or end falls in the
// wall-clock hour a daylight-saving change skips or repeats. The spec's
// hours are local wall-clock time, so a minute is open when the clock on
// the wall shows a time inside the hours: a skipped time never shows, and a
// repeated time shows twice. Each case counts the open time of the whole
// local day of the change.
func TestDSTHoursBoundaryInTransition(t *testing.T) {
	tests := []struct {
		name  string
		zone  string
		day   string // the Sunday of the change
		hours ClockRange
		want  time.Duration
	}{
		// New York 8 March: the clock reads 00:00–01:59:59 EST (2h), then
		// 03:00 EDT: 02:00 never shows.
		{"new york spring 00:00-02:00", "America/New_York", "2026-03-08", ClockRange{0, 120}, 2 * time.Hour},
		// 01:30–01:59:59 EST shows (30m); 02:00–02:29 never does.
		{"new york spring 01:30-02:30", "America/New_York", "2026-03-08", ClockRange{90, 150}, 30 * time.Minute},
		// 02:30–02:59 never shows; 03:00–04:00 EDT does (1h).
		{"new york spring 02:30-04:00", "America/New_York", "2026-03-08", ClockRange{150, 240}, time.Hour},
		// Paris 29 March: 02:00–02:59 never shows; 03:00–04:00 CEST (1h).
		{"paris spring 02:30-04:00", "Europe/Paris", "2026-03-29", ClockRange{150, 240}, time.Hour},
		// 01:00–01:59:59 CET (1h).
		{"paris spring 01:00-02:30", "Europe/Paris", "2026-03-29", ClockRange{60, 150}, time.Hour},
		// Paris 25 October: 00:00–01:59:59 CEST (2h); 02:00 shows twice,
		// both outside the hours.
		{"paris autumn 00:00-02:00", "Europe/Paris", "2026-10-25", ClockRange{0, 120}, 2 * time.Hour},
		// 02:00–02:29 shows twice: CEST and CET (1h).
		{"paris autumn 02:00-02:30", "Europe/Paris", "2026-10-25", ClockRange{120, 150}, time.Hour},
		// 02:00–02:59 twice (2h) and 03:00–04:00 CET (1h).
		{"paris autumn 02:00-04:00", "Europe/Paris", "2026-10-25", ClockRange{120, 240}, 3 * time.Hour},
		// New York 1 November: 01:00–01:59 shows twice, EDT and EST (2h).
		{"new york autumn 01:00-02:00", "America/New_York", "2026-11-01", ClockRange{60, 120}, 2 * time.Hour},
		// 00:00–01:29 EDT (1h30) and 01:00–01:29 EST (30m).
		{"new york autumn 00:00-01:30", "America/New_York", "2026-11-01", ClockRange{0, 90}, 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			c := &Calendar{Name: "sunday", Location: loc}
			c.Hours[time.Sunday] = []ClockRange{tt.hours}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			d := parseDate(tt.day)
			from := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
			to := time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, loc)
			if got := c.Counted("", from, to); got != tt.want {
				t.Errorf("open time on %s with hours %s = %s, want %s", tt.day, tt.hours, got, tt.want)
			}
			// The oracle's minute-by-minute reading of the wall clock
			// agrees with the hand computation.
			oc := newOracleCal(t, oCalendar{Name: "sunday", Timezone: tt.zone, Hours: map[string][]string{"sun": {tt.hours.String()}}}, nil)
			var n time.Duration
			for m := from.Unix(); m < to.Unix(); m += 60 {
				if oc.minuteOpen(loc, m) {
					n += time.Minute
				}
			}
			if n != tt.want {
				t.Fatalf("the oracle counts %s: the expected value is wrong", n)
			}
		})
	}
}

// TestCalendarAcrossLeapYearEnd compiles timelines over the turn of a leap
// year whose offsets Go computes from the zone's POSIX TZ rule rather than
// from explicit transitions: every year after 2037 with the system's zone
// files, and every year after the zone's last rule change (2007 in New York,
// 1996 in Paris) with Go's own zone database, the one the exporter embeds
// (time/tzdata) for machines without zone files. For such an instant on
// 31 December, Time.ZoneBounds reports an end before the instant; a loop
// that steps from zone bound to zone bound must not take it as its next
// position, or it never returns (go test's timeout then fails the run).
func TestCalendarAcrossLeapYearEnd(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	zip := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time", "zoneinfo.zip")
	for _, tt := range []struct{ name, zoneinfo string }{
		{"system zone files, 2040", ""},
		{"Go's zone database, 2028", zip},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.zoneinfo != "" {
				if _, err := os.Stat(tt.zoneinfo); err != nil {
					t.Skipf("no %s: Go's zone database not checked", tt.zoneinfo)
				}
			}
			leapYearCounted(t, tt.name, tt.zoneinfo)
		})
	}
}

// leapYearCounted counts a Paris Mon–Fri 08:00–20:00 calendar's open time
// over the turn of the year and compares it with the oracle.
func leapYearCounted(t *testing.T, name, zoneinfo string) {
	year := 2040
	loc := mustLoc(t, "Europe/Paris")
	if zoneinfo != "" {
		year = 2028
		z, err := zip.OpenReader(zoneinfo)
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		f, err := z.Open("Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		if loc, err = time.LoadLocationFromTZData("Europe/Paris", data); err != nil {
			t.Fatal(err)
		}
	}
	day := []ClockRange{{8 * 60, 20 * 60}}
	c := &Calendar{Name: "business", Location: loc,
		Hours: [7][]ClockRange{time.Monday: day, time.Tuesday: day, time.Wednesday: day, time.Thursday: day, time.Friday: day}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	from := time.Date(year, 12, 28, 0, 0, 0, 0, loc)
	to := time.Date(year+1, 1, 3, 0, 0, 0, 0, loc)
	got := c.Counted("", from, to)
	oc := &oracleCal{name: "business", loc: loc, holidays: map[int]bool{}, walls: newWallClocks(), memo: map[string]map[int64]*[1440]bool{}}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		oc.hours[wd] = [][2]int{{8 * 60, 20 * 60}}
	}
	var want time.Duration
	for m := from.Unix(); m < to.Unix(); m += 60 {
		if oc.minuteOpen(loc, m) {
			want += time.Minute
		}
	}
	if got != want {
		t.Fatalf("%s: counted %s over [%s, %s), want %s", name, got, from, to, want)
	}
}
