package sla

// Benchmarks of Evaluate over a million open cases, and a baseline: the same
// business-hours computation written the straightforward way with
// github.com/rickar/cal/v2's BusinessCalendar.
//
//	go test -run '^$' -bench . -benchtime 3x -count 5 ./sla | tee bench.txt
//	go tool benchstat bench.txt
//
// ns/case and allocs/case are per case; ns/op is per pass over all cases.

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/fr"
)

const benchCaseCount = 1_000_000

// benchAt is the instant every case is evaluated at: a Wednesday in June,
// far from any daylight-saving change of the zones used.
var benchAt = time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)

var benchZones = []string{"Europe/Paris", "Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata"}

// benchHolidayDates are explicit holidays on top of the French ones.
var benchHolidayDates = []Date{{2026, 6, 12}, {2026, 6, 15}, {2026, 12, 24}, {2026, 12, 31}}

// The goals of the benchmark tier, by severity.
var (
	benchFirstResponse = [5]time.Duration{0, 2 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	benchResolution    = [5]time.Duration{0, 24 * time.Hour, 40 * time.Hour, 80 * time.Hour, 120 * time.Hour}
)

// benchEvaluator has one tier with first-response (not pausable) and
// resolution (pausable) goals in cal.
func benchEvaluator(tb testing.TB, cal *Calendar) *Evaluator {
	tb.Helper()
	var frg, res Goals
	for sev := 1; sev <= 4; sev++ {
		frg[sev] = Goal{Kind: GoalDuration, Duration: benchFirstResponse[sev], Calendar: cal}
		res[sev] = Goal{Kind: GoalDuration, Duration: benchResolution[sev], Calendar: cal, Pausable: true}
	}
	p := &Policy{Name: "bench", DefaultTier: "basic", DefaultSeverity: 3, WarningRatio: 0.75,
		PauseStatuses: []Status{StatusPendingCustomer},
		Tiers:         map[string]*Tier{"basic": {Name: "basic", Calendar: cal, Targets: [NumTargets]*Goals{&frg, &res}}},
		Exclude:       []ExclusionRule{{Label: "experimental"}, {Type: "feedback"}},
	}
	if err := p.Validate(); err != nil {
		tb.Fatal(err)
	}
	return &Evaluator{Policy: p}
}

// benchBusinessCalendar is Mon–Fri 08:00–20:00 in Paris, in the customer's
// zone, closed on French public holidays and a few dates.
func benchBusinessCalendar(tb testing.TB) *Calendar {
	tb.Helper()
	day := []ClockRange{{8 * 60, 20 * 60}}
	c := &Calendar{Name: "business", Location: mustLoc(tb, "Europe/Paris"), CustomerTimezone: true,
		Hours:        [7][]ClockRange{time.Monday: day, time.Tuesday: day, time.Wednesday: day, time.Thursday: day, time.Friday: day},
		HolidayDates: benchHolidayDates,
		Holidays:     fr.Holidays,
	}
	if err := c.Validate(); err != nil {
		tb.Fatal(err)
	}
	return c
}

var benchCases = sync.OnceValue(func() []Case { return makeBenchCases(benchCaseCount, 1) })

// makeBenchCases makes n open cases spread over benchZones.
func makeBenchCases(n int, seed uint64) []Case {
	r := rand.New(rand.NewPCG(seed, 2))
	cases := make([]Case, n)
	// One backing array for all the histories, as a source that decodes a
	// page of cases would have them.
	hist := make([]StatusChange, 5*n)
	at := benchAt.Unix()
	for i := range cases {
		// Created in the ten days before at; two past pauses:
		// open → pending_customer → open → pending_customer → open.
		created := at - 60 - r.Int64N(10*86400)
		var ts [4]int64
		for j := range ts {
			ts[j] = created + 1 + r.Int64N(at-created)
		}
		sortInt64s(ts[:])
		h := hist[5*i : 5*i+5 : 5*i+5]
		h[0] = StatusChange{At: time.Unix(created, 0).UTC(), Status: StatusOpen}
		for j, s := range []Status{StatusPendingCustomer, StatusOpen, StatusPendingCustomer, StatusOpen} {
			h[j+1] = StatusChange{At: time.Unix(ts[j], 0).UTC(), Status: s}
		}
		c := Case{
			ID:            strconv.Itoa(i),
			Severity:      1 + r.IntN(4),
			Status:        StatusOpen,
			Created:       time.Unix(created, 0).UTC(),
			StatusHistory: h,
			Timezone:      benchZones[r.IntN(len(benchZones))],
		}
		if r.IntN(2) == 0 {
			c.FirstResponse = time.Unix(created+r.Int64N(at-created+1), 0).UTC()
		}
		cases[i] = c
	}
	return cases
}

func sortInt64s(s []int64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// benchEvaluate evaluates every case at benchAt, b.N times, and reports the
// time and the allocations per case.
func benchEvaluate(b *testing.B, ev *Evaluator) {
	cases := benchCases()
	dst := make([]Result, 0, NumTargets)
	var err error
	// Warm up: the first evaluation in a zone compiles its timeline.
	for i := range cases {
		if dst, err = ev.Evaluate(&cases[i], benchAt, dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
	var states [NumStates]int
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range cases {
			dst, _ = ev.Evaluate(&cases[i], benchAt, dst[:0])
			for j := range dst {
				states[dst[j].State]++
			}
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N) * float64(len(cases))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/case")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/case")
	if states[StateOK]+states[StateWarning]+states[StateBreached] == 0 {
		b.Fatalf("no running target: states %v", states)
	}
}

func BenchmarkEvaluateBusiness(b *testing.B) {
	benchEvaluate(b, benchEvaluator(b, benchBusinessCalendar(b)))
}

func BenchmarkEvaluate24x7(b *testing.B) {
	benchEvaluate(b, benchEvaluator(b, AlwaysOpen()))
}

// rickarBaseline computes the business-hours elapsed time and due of the
// benchmark's targets with rickar/cal's BusinessCalendar, the
// straightforward way.
type rickarBaseline struct {
	bc   *cal.BusinessCalendar
	locs map[string]*time.Location
}

func newRickarBaseline(tb testing.TB, cacheable bool) *rickarBaseline {
	tb.Helper()
	bc := cal.NewBusinessCalendar()
	bc.SetWorkHours(8*time.Hour, 20*time.Hour)
	bc.AddHoliday(fr.Holidays...)
	for _, d := range benchHolidayDates {
		bc.AddHoliday(&cal.Holiday{Name: d.String(), Type: cal.ObservancePublic, Month: d.Month, Day: d.Day,
			StartYear: d.Year, EndYear: d.Year, Func: cal.CalcDayOfMonth})
	}
	bc.Cacheable = cacheable
	rb := &rickarBaseline{bc: bc, locs: map[string]*time.Location{}}
	for _, z := range benchZones {
		rb.locs[z] = mustLoc(tb, z)
	}
	return rb
}

// baselineResult is one target's elapsed time and due.
type baselineResult struct {
	elapsed time.Duration
	due     time.Time
}

// evaluate returns the first-response and resolution results of a case at
// instant at.
func (rb *rickarBaseline) evaluate(c *Case, at time.Time) [NumTargets]baselineResult {
	loc := rb.locs[c.Timezone]
	created := c.Created.In(loc)
	var out [NumTargets]baselineResult
	for k := range NumTargets {
		end := at
		if k == FirstResponse && !c.FirstResponse.IsZero() && !c.FirstResponse.After(at) {
			end = c.FirstResponse
		}
		goal := benchFirstResponse[c.Severity]
		if k == Resolution {
			goal = benchResolution[c.Severity]
		}
		elapsed := rb.bc.WorkHoursInRange(created, end.In(loc))
		rem, cur := goal, created
		dueFound := false
		if k == Resolution {
			// Pauses: from each pending_customer entry to the next entry.
			h := c.StatusHistory
			for i := 0; i < len(h); i++ {
				if h[i].Status != StatusPendingCustomer || !h[i].At.Before(end) {
					continue
				}
				s, t := h[i].At, end
				if i+1 < len(h) && h[i+1].At.Before(end) {
					t = h[i+1].At
				}
				elapsed -= rb.bc.WorkHoursInRange(s.In(loc), t.In(loc))
				if !dueFound {
					if avail := rb.bc.WorkHoursInRange(cur, s.In(loc)); avail > rem {
						dueFound = true
					} else {
						rem -= avail
						cur = t.In(loc)
					}
				}
			}
		}
		out[k] = baselineResult{elapsed: elapsed, due: rb.bc.AddWorkHours(cur, rem)}
	}
	return out
}

const benchBaselineCases = 10_000

func BenchmarkBaselineRickarCal(b *testing.B) {
	for _, cacheable := range []bool{false, true} {
		b.Run("cacheable="+strconv.FormatBool(cacheable), func(b *testing.B) {
			rb := newRickarBaseline(b, cacheable)
			cases := benchCases()[:benchBaselineCases]
			var sink time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for i := range cases {
					r := rb.evaluate(&cases[i], benchAt)
					sink += r[0].elapsed + r[1].elapsed
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cases)), "ns/case")
			if sink == 0 {
				b.Fatal("no elapsed time at all")
			}
		})
	}
}

// TestBaselineRickarCalAgrees checks that the baseline computes what the
// engine does, so that their timings compare like with like: the same
// elapsed time, and dues that are the same instant or the two ends of a
// closed stretch (rickar/cal gives the end of the day the goal runs out
// in, the engine the start of the next open stretch).
func TestBaselineRickarCalAgrees(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 300
	}
	bizCal := benchBusinessCalendar(t)
	ev := benchEvaluator(t, bizCal)
	rb := newRickarBaseline(t, false)
	cases := makeBenchCases(n, 3)
	for i := range cases {
		c := &cases[i]
		got, err := ev.Evaluate(c, benchAt, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := rb.evaluate(c, benchAt)
		for _, res := range got {
			w := want[res.Target]
			if e := time.Duration(res.Elapsed) * time.Second; e != w.elapsed {
				t.Errorf("case %s %s: elapsed %s, rickar/cal %s", c.ID, res.Target, e, w.elapsed)
			}
			if !res.HasDue {
				continue // paused
			}
			lo, hi := res.DueTime(), w.due
			if hi.Before(lo) {
				lo, hi = hi, lo
			}
			if gap := bizCal.Counted(c.Timezone, lo, hi); gap != 0 {
				t.Errorf("case %s %s: due %s, rickar/cal %s: %s of open time apart", c.ID, res.Target, res.DueTime().Format(time.RFC3339), w.due.Format(time.RFC3339), gap)
			}
		}
	}
}

// BenchmarkReadCasesFloor only reads what any evaluation of a case must
// read (its instants, tier, customer, zone, labels, type, severity and status
// history), with no SLA arithmetic: the floor under Evaluate24x7 on this
// machine, set by memory traffic.
func BenchmarkReadCasesFloor(b *testing.B) {
	cases := benchCases()
	var sink int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range cases {
			c := &cases[i]
			sink += c.Created.Unix() + c.FirstResponse.Unix() + c.Resolved.Unix() + int64(c.Severity+len(c.Tier)+len(c.Customer)+len(c.Timezone)+len(c.Labels)+len(c.Type))
			for j := range c.StatusHistory {
				sink += c.StatusHistory[j].At.Unix() + int64(c.StatusHistory[j].Status)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*float64(len(cases))), "ns/case")
	if sink == 0 {
		b.Fatal("nothing read")
	}
}
