package sla

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPolicy is a small policy exercising every kind of rule. Its business
// calendar is Europe/Paris Mon–Fri 08:00–20:00 (Friday with a lunch break
// 12:00–13:00), holiday Monday 2026-03-16, in the customer's zone.
func testPolicy(t testing.TB) *Policy {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	day := []ClockRange{{8 * 60, 20 * 60}}
	biz := &Calendar{Name: "business", Location: paris, CustomerTimezone: true,
		Hours:        [7][]ClockRange{time.Monday: day, time.Tuesday: day, time.Wednesday: day, time.Thursday: day, time.Friday: {{8 * 60, 12 * 60}, {13 * 60, 20 * 60}}},
		HolidayDates: []Date{{2026, 3, 16}},
	}
	allDay := []ClockRange{{0, MinutesPerDay}}
	ops := &Calendar{Name: "ops", Location: paris,
		Hours:      [7][]ClockRange{allDay, allDay, allDay, allDay, allDay, allDay, allDay},
		Exclusions: []Exclusion{{Weekday: time.Wednesday, Weeks: []int{1, -3, -2, -1}, Range: ClockRange{0, 6 * 60}}},
	}
	always := AlwaysOpen()
	for _, c := range []*Calendar{biz, ops} {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	dur := func(d time.Duration, c *Calendar, pausable bool) Goal {
		return Goal{Kind: GoalDuration, Duration: d, Calendar: c, Pausable: pausable}
	}
	h := time.Hour
	p := &Policy{
		Name: "test", DefaultTier: "basic", DefaultSeverity: 3, WarningRatio: 0.75,
		PauseStatuses: []Status{StatusPendingCustomer},
		Tiers: map[string]*Tier{
			"premium": {Name: "premium", Calendar: always, Targets: [NumTargets]*Goals{
				{{}, dur(30*time.Minute, always, false), dur(30*time.Minute, always, false), dur(30*time.Minute, always, false), dur(30*time.Minute, always, false)},
				{{}, dur(4*h, always, true), dur(4*h, always, true), dur(4*h, always, true), dur(4*h, always, true)},
			}},
			"basic": {Name: "basic", Calendar: biz, Targets: [NumTargets]*Goals{
				{{}, dur(2*h, biz, false), dur(8*h, biz, false), dur(12*h, biz, false), dur(24*h, biz, false)},
				{{}, dur(8*h, always, true)},
			}},
			"free": {Name: "free", Calendar: always, Targets: [NumTargets]*Goals{
				{{}, {Kind: GoalNone}, {Kind: GoalBestEffort}, {Kind: GoalBestEffort}, {Kind: GoalBestEffort}},
			}},
			"ops": {Name: "ops", Calendar: ops, Targets: [NumTargets]*Goals{
				Resolution: {{}, dur(4*h, ops, true)},
			}},
		},
		Exclude: []ExclusionRule{{Label: "experimental"}, {Type: "feedback"}},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

// want is the expected result of one target, in the units of `cases
// --format json`.
type want struct {
	Target   string `json:"target"`
	Tier     string `json:"tier"`
	State    string `json:"state"`
	Severity int    `json:"severity"`
	Goal     int64  `json:"goal_seconds"`
	Elapsed  int64  `json:"elapsed_seconds"`
	Due      string `json:"due"`     // RFC 3339 UTC or ""
	Stopped  string `json:"stopped"` // RFC 3339 UTC or ""
}

// ruleCase is one row of testdata/rules.json: a case, an instant and what
// every target must show then. The expected values are worked out by hand;
// the "why" of each row says how.
type ruleCase struct {
	Name string    `json:"name"`
	Why  string    `json:"why"`
	At   time.Time `json:"at"`
	Case Case      `json:"case"`
	Want []want    `json:"want"`
	Err  string    `json:"err"`
}

func TestRules(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []ruleCase
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	e := &Evaluator{Policy: testPolicy(t), Customers: map[string]Customer{
		"acme":   {Tier: "premium"},
		"globex": {Timezone: "America/New_York"},
	}}
	for _, row := range rows {
		t.Run(row.Name, func(t *testing.T) {
			c := row.Case
			c.Normalize()
			if err := c.Validate(); err != nil {
				t.Fatalf("fixture: %v", err)
			}
			got, err := e.Evaluate(&c, row.At, nil)
			if row.Err != "" {
				if err == nil || !strings.Contains(err.Error(), row.Err) {
					t.Fatalf("error = %v, want one containing %q", err, row.Err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(row.Want) {
				t.Fatalf("%d results, want %d: %+v", len(got), len(row.Want), got)
			}
			for i, w := range row.Want {
				r := got[i]
				g := want{Target: r.Target.String(), Tier: r.Tier, State: r.State.String(), Severity: r.Severity, Goal: r.Goal, Elapsed: r.Elapsed}
				if r.HasDue {
					g.Due = r.DueTime().Format(time.RFC3339)
				}
				if r.HasStopped {
					g.Stopped = r.StoppedTime().Format(time.RFC3339)
				}
				if g != w {
					t.Errorf("%s:\n got %+v\nwant %+v\n(%s)", w.Target, g, w, row.Why)
				}
			}
		})
	}
}

func TestUnknownTierIsTyped(t *testing.T) {
	e := &Evaluator{Policy: testPolicy(t)}
	c := &Case{ID: "X-1", Tier: "platinum", Created: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	_, err := e.Evaluate(c, c.Created.Add(time.Hour), nil)
	var ute *UnknownTierError
	if !errors.As(err, &ute) || ute.Case != "X-1" || ute.Tier != "platinum" {
		t.Fatalf("err = %v, want an UnknownTierError naming X-1 and platinum", err)
	}
}

// The invariants the spec states for due: stop <= due ⟺ met, and at > due
// ⟺ breached, at every instant around a due at the end of an open stretch.
func TestDueInvariantsAroundClosedHours(t *testing.T) {
	e := &Evaluator{Policy: testPolicy(t)}
	created := time.Date(2026, 3, 6, 17, 0, 0, 0, time.UTC) // Fri 18:00 Paris, 2h goal runs out at 20:00
	due := time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)      // Mon 08:00 Paris
	for _, at := range []time.Time{
		created.Add(2 * time.Hour), created.Add(2*time.Hour + time.Second), due.Add(-time.Second), due, due.Add(time.Second),
	} {
		c := &Case{ID: "D", Tier: "basic", Severity: 1, Created: created}
		rs, err := e.Evaluate(c, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		fr := rs[0]
		if got := fr.DueTime(); !got.Equal(due) {
			t.Fatalf("at %s: due %s, want %s", at, got, due)
		}
		if breached := fr.State == StateBreached; breached != at.After(due) {
			t.Errorf("at %s: state %s, but at > due is %v", at, fr.State, at.After(due))
		}
		c.FirstResponse = at
		rs, _ = e.Evaluate(c, at, nil)
		if met := rs[0].State == StateMet; met != !at.After(due) {
			t.Errorf("reply at %s: state %s, but reply <= due is %v", at, rs[0].State, !at.After(due))
		}
	}
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	e := &Evaluator{Policy: testPolicy(t)}
	created := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	c := &Case{ID: "A", Tier: "basic", Severity: 2, Timezone: "Asia/Tokyo", Created: created,
		StatusHistory: []StatusChange{{created.Add(time.Hour), StatusPendingCustomer}, {created.Add(2 * time.Hour), StatusOpen}}}
	at := created.Add(50 * time.Hour)
	buf := make([]Result, 0, 4)
	if _, err := e.Evaluate(c, at, buf); err != nil { // warm the timeline caches
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = e.Evaluate(c, at, buf[:0])
	})
	if allocs != 0 {
		t.Fatalf("Evaluate allocates %.1f times per case, want 0", allocs)
	}
}
