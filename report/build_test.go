package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/policy"
	"github.com/support-sla/support_sla_exporter/sla"
)

// loadInput reads testdata/build-cases.json under testdata/build-policy.yml,
// one source per distinct `source` field, in order of appearance.
func loadInput(t *testing.T) Input {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "build-policy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	pols, err := policy.Parse("build-policy.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	ev := &sla.Evaluator{Policy: pols["report"]}
	data, err = os.ReadFile(filepath.Join("testdata", "build-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []sla.Case
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	var in Input
	for _, c := range cases {
		c.Normalize()
		if err := c.Validate(); err != nil {
			t.Fatalf("case %s: %v", c.ID, err)
		}
		i := slices.IndexFunc(in.Sources, func(s Source) bool { return s.Name == c.Source })
		if i < 0 {
			in.Sources = append(in.Sources, Source{Name: c.Source, Evaluator: ev})
			i = len(in.Sources) - 1
		}
		in.Sources[i].Cases = append(in.Sources[i].Cases, c)
	}
	return in
}

var objectives = map[string]float64{"premium": 0.99, "production": 0.97, "basic": 0.95}

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// rowString writes a row on one line, every field, for hand-worked
// expectations.
func rowString(r Row) string {
	return fmt.Sprintf("%s %s %d %s decided=%d met=%d missed=%d breached=%d compliance=%s median=%s p90=%s excluded=%d not_applicable=%d best_effort=%d",
		r.Source, r.Tier, r.Severity, r.Target, r.Decided, r.Met, r.Missed, r.Breached,
		dashIfEmpty(ratioCell(r.Compliance)), dashIfEmpty(secondsCell(r.MedianElapsed)), dashIfEmpty(secondsCell(r.P90Elapsed)),
		r.Excluded, r.NotApplicable, r.BestEffort)
}

func tierString(s TierSummary) string {
	obj := "-"
	if s.Objective != nil {
		obj = fmt.Sprint(*s.Objective)
	}
	return fmt.Sprintf("%s decided=%d met=%d compliance=%s objective=%s breaches=%v",
		s.Tier, s.Decided, s.Met, dashIfEmpty(ratioCell(s.Compliance)), obj, s.Breaches)
}

func lineString(l CaseLine) string {
	return fmt.Sprintf("%s %s %s %s", l.Source, l.Case, l.Target, l.State)
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mapStrings[T any](s []T, f func(T) string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

// The rows of source beta (the office-hours tier) are the same in every
// March report: its cases are all decided early in the month.
var betaMarch = []string{
	// B-1: created Friday 16:00, answered Monday 10:00: 1h on Friday and
	// 1h on Monday counted, not the 66h between. A single value is both
	// percentiles.
	"beta basic 2 first_response decided=1 met=1 missed=0 breached=0 compliance=1.0000 median=7200 p90=7200 excluded=0 not_applicable=0 best_effort=0",
	// B-2 met in 3h; B-3 answered Friday 12:00 after 8h on Wednesday, 8h
	// on Thursday, 3h on Friday: 19h of 16h. Two values: the median is
	// the 1st (ceil(0.5·2)), p90 the 2nd (ceil(0.9·2)).
	"beta basic 3 first_response decided=2 met=1 missed=1 breached=0 compliance=0.5000 median=10800 p90=68400 excluded=0 not_applicable=0 best_effort=0",
	// B-10..B-19 answered after 50, 10, 100, 30, 90, 20, 70, 40, 80, 60
	// minutes: the median is the 5th smallest (50m), p90 the 9th (90m).
	"beta basic 4 first_response decided=10 met=10 missed=0 breached=0 compliance=1.0000 median=3000 p90=5400 excluded=0 not_applicable=0 best_effort=0",
}

var (
	freeNA = "alpha free 1 first_response decided=0 met=0 missed=0 breached=0 compliance=- median=- p90=- excluded=0 not_applicable=1 best_effort=0"
	freeBE = "alpha free 3 first_response decided=0 met=0 missed=0 breached=0 compliance=- median=- p90=- excluded=0 not_applicable=0 best_effort=1"
	// X-1 is excluded (label experimental): both its targets, apart.
	excludedRows = []string{
		"alpha premium 3 first_response decided=0 met=0 missed=0 breached=0 compliance=- median=- p90=- excluded=1 not_applicable=0 best_effort=0",
		"alpha premium 3 resolution decided=0 met=0 missed=0 breached=0 compliance=- median=- p90=- excluded=1 not_applicable=0 best_effort=0",
	}
)

func join(parts ...[]string) []string { return slices.Concat(parts...) }

func TestBuild(t *testing.T) {
	in := loadInput(t)
	after := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC) // every month below is over
	march := Month{2026, time.March}
	tests := []struct {
		name      string
		o         Options
		asOf      string
		partial   bool
		rows      []string
		tiers     []string
		totals    Totals
		worst     []string
		cases     []string // nil: not checked
		customers map[string][]string
		trend     []string
	}{{
		name: "march UTC",
		o:    Options{Month: march, Now: after},
		asOf: "2026-03-31T23:59:59Z",
		rows: join([]string{freeNA, freeBE,
			// A-2 created 03-31 23:20, answered 23:40 (met, 20m, counted
			// by its stop although due in April); A-4 created 03-31 20:00, unanswered
			// at the month's last second: breached, due 21:00, and
			// counted although answered on April 1st. A-1's response
			// (Feb 28) is February's.
			"alpha premium 1 first_response decided=2 met=1 missed=0 breached=1 compliance=0.5000 median=1200 p90=1200 excluded=0 not_applicable=0 best_effort=0",
			// A-1 created Feb 28 22:50, resolved Mar 2 10:00: 35h10m of
			// 24h, due Mar 1 22:50: March's.
			"alpha premium 1 resolution decided=1 met=0 missed=1 breached=0 compliance=0.0000 median=126600 p90=126600 excluded=0 not_applicable=0 best_effort=0",
			// A-3 is never answered. A-5's late response was due in
			// February: not here.
			"alpha premium 2 first_response decided=1 met=0 missed=0 breached=1 compliance=0.0000 median=- p90=- excluded=0 not_applicable=0 best_effort=0",
			// A-5 resolved Mar 1 12:00 after 40h of 48h; A-3 breached.
			"alpha premium 2 resolution decided=2 met=1 missed=0 breached=1 compliance=0.5000 median=144000 p90=144000 excluded=0 not_applicable=0 best_effort=0",
		}, excludedRows, betaMarch),
		tiers: []string{
			"basic decided=13 met=12 compliance=0.9231 objective=0.95 breaches=[0 0 1 0]",
			"free decided=0 met=0 compliance=- objective=- breaches=[0 0 0 0]",
			"premium decided=6 met=2 compliance=0.3333 objective=0.99 breaches=[2 2 0 0]",
		},
		// Opened, F-1, F-2 and the 13 of beta; U-1's
		// tier "gold" is not in the policy, so it is left out everywhere.
		// Resolved: and beta's. Open at the end: A-2 (resolved
		// in April), A-3, A-4, F-1, F-2, F-3.
		totals: Totals{Opened: 19, Resolved: 16, Backlog: 6},
		// 1871999s of 2h, then of 48h; A-4 14399s of 1h; A-1 126600s
		// of 24h; B-3 19h of 16h.
		worst: []string{"alpha A-3 first_response breached", "alpha A-3 resolution breached", "alpha A-4 first_response breached",
			"alpha A-1 resolution missed", "beta B-3 first_response missed"},
		cases: []string{
			"alpha A-1 resolution missed", "alpha A-2 first_response met", "alpha A-3 first_response breached", "alpha A-3 resolution breached",
			"alpha A-4 first_response breached", "alpha A-5 resolution met", "alpha F-1 first_response not_applicable",
			"alpha F-2 first_response best_effort", "alpha X-1 first_response excluded", "alpha X-1 resolution excluded",
			"beta B-1 first_response met", "beta B-2 first_response met", "beta B-3 first_response missed",
			"beta B-10 first_response met", "beta B-11 first_response met", "beta B-12 first_response met", "beta B-13 first_response met",
			"beta B-14 first_response met", "beta B-15 first_response met", "beta B-16 first_response met", "beta B-17 first_response met",
			"beta B-18 first_response met", "beta B-19 first_response met",
		},
	}, {
		// March in Paris is [Feb 28 23:00Z, Mar 31 22:00Z): A-1's response
		// at Feb 28 23:30Z (00:30 in Paris) is now March's; A-2, created at
		// Mar 31 23:20Z (01:20 in Paris), is April's and not yet there as
		// of 21:59:59Z; A-4 has breached for 7199s.
		name: "march Europe/Paris",
		o:    Options{Month: march, Now: after, Location: paris(t)},
		asOf: "2026-03-31T23:59:59+02:00",
		rows: join([]string{freeNA, freeBE,
			"alpha premium 1 first_response decided=2 met=1 missed=0 breached=1 compliance=0.5000 median=2400 p90=2400 excluded=0 not_applicable=0 best_effort=0",
			"alpha premium 1 resolution decided=1 met=0 missed=1 breached=0 compliance=0.0000 median=126600 p90=126600 excluded=0 not_applicable=0 best_effort=0",
			"alpha premium 2 first_response decided=1 met=0 missed=0 breached=1 compliance=0.0000 median=- p90=- excluded=0 not_applicable=0 best_effort=0",
			"alpha premium 2 resolution decided=2 met=1 missed=0 breached=1 compliance=0.5000 median=144000 p90=144000 excluded=0 not_applicable=0 best_effort=0",
		}, excludedRows, betaMarch),
		tiers: []string{
			"basic decided=13 met=12 compliance=0.9231 objective=0.95 breaches=[0 0 1 0]",
			"free decided=0 met=0 compliance=- objective=- breaches=[0 0 0 0]",
			"premium decided=6 met=2 compliance=0.3333 objective=0.99 breaches=[2 2 0 0]",
		},
		totals: Totals{Opened: 18, Resolved: 16, Backlog: 5},
		worst: []string{"alpha A-3 first_response breached", "alpha A-3 resolution breached", "alpha A-4 first_response breached",
			"alpha A-1 resolution missed", "beta B-3 first_response missed"},
	}, {
		// February as of Feb 28 23:59:59: A-1 answered in time; A-5 not
		// answered yet (it is on Mar 1): breached, due Feb 27 22:00; F-3
		// created in February.
		name: "february",
		o:    Options{Month: Month{2026, time.February}, Now: after},
		asOf: "2026-02-28T23:59:59Z",
		rows: []string{
			freeBE,
			"alpha premium 1 first_response decided=1 met=1 missed=0 breached=0 compliance=1.0000 median=2400 p90=2400 excluded=0 not_applicable=0 best_effort=0",
			"alpha premium 2 first_response decided=1 met=0 missed=0 breached=1 compliance=0.0000 median=- p90=- excluded=0 not_applicable=0 best_effort=0",
		},
		tiers: []string{
			"free decided=0 met=0 compliance=- objective=- breaches=[0 0 0 0]",
			"premium decided=2 met=1 compliance=0.5000 objective=0.99 breaches=[0 1 0 0]",
		},
		totals: Totals{Opened: 3, Resolved: 0, Backlog: 3},
		worst:  []string{"alpha A-5 first_response breached"},
	}, {
		// The current month: as of now, Mar 20 12:00. do not
		// exist yet; A-3 has run 10d4h.
		name:    "current month",
		o:       Options{Month: march, Now: time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)},
		asOf:    "2026-03-20T12:00:00Z",
		partial: true,
		rows: join([]string{freeNA, freeBE,
			"alpha premium 1 resolution decided=1 met=0 missed=1 breached=0 compliance=0.0000 median=126600 p90=126600 excluded=0 not_applicable=0 best_effort=0",
			"alpha premium 2 first_response decided=1 met=0 missed=0 breached=1 compliance=0.0000 median=- p90=- excluded=0 not_applicable=0 best_effort=0",
			"alpha premium 2 resolution decided=2 met=1 missed=0 breached=1 compliance=0.5000 median=144000 p90=144000 excluded=0 not_applicable=0 best_effort=0",
		}, excludedRows, betaMarch),
		tiers: []string{
			"basic decided=13 met=12 compliance=0.9231 objective=0.95 breaches=[0 0 1 0]",
			"free decided=0 met=0 compliance=- objective=- breaches=[0 0 0 0]",
			"premium decided=4 met=1 compliance=0.2500 objective=0.99 breaches=[1 2 0 0]",
		},
		totals: Totals{Opened: 17, Resolved: 16, Backlog: 4},
		worst:  []string{"alpha A-3 first_response breached", "alpha A-3 resolution breached", "alpha A-1 resolution missed", "beta B-3 first_response missed"},
	}, {
		name: "one customer",
		o:    Options{Month: march, Now: after, Customer: "acme"},
		asOf: "2026-03-31T23:59:59Z",
		rows: []string{
			"alpha premium 1 first_response decided=1 met=1 missed=0 breached=0 compliance=1.0000 median=1200 p90=1200 excluded=0 not_applicable=0 best_effort=0",
			"alpha premium 1 resolution decided=1 met=0 missed=1 breached=0 compliance=0.0000 median=126600 p90=126600 excluded=0 not_applicable=0 best_effort=0",
			"alpha premium 2 first_response decided=1 met=0 missed=0 breached=1 compliance=0.0000 median=- p90=- excluded=0 not_applicable=0 best_effort=0",
			"alpha premium 2 resolution decided=1 met=0 missed=0 breached=1 compliance=0.0000 median=- p90=- excluded=0 not_applicable=0 best_effort=0",
			betaMarch[0],
		},
		tiers: []string{
			"basic decided=1 met=1 compliance=1.0000 objective=0.95 breaches=[0 0 0 0]",
			"premium decided=4 met=1 compliance=0.2500 objective=0.99 breaches=[1 2 0 0]",
		},
		totals: Totals{Opened: 3, Resolved: 2, Backlog: 2},
		worst:  []string{"alpha A-3 first_response breached", "alpha A-3 resolution breached", "alpha A-1 resolution missed"},
	}, {
		name: "by customer",
		o:    Options{Month: march, Now: after, ByCustomer: true},
		asOf: "2026-03-31T23:59:59Z",
		customers: map[string][]string{
			"": join(excludedRows, []string{"totals {1 1 0}"}),
			"acme": {
				"alpha premium 1 first_response decided=1 met=1 missed=0 breached=0 compliance=1.0000 median=1200 p90=1200 excluded=0 not_applicable=0 best_effort=0",
				"alpha premium 1 resolution decided=1 met=0 missed=1 breached=0 compliance=0.0000 median=126600 p90=126600 excluded=0 not_applicable=0 best_effort=0",
				"alpha premium 2 first_response decided=1 met=0 missed=0 breached=1 compliance=0.0000 median=- p90=- excluded=0 not_applicable=0 best_effort=0",
				"alpha premium 2 resolution decided=1 met=0 missed=0 breached=1 compliance=0.0000 median=- p90=- excluded=0 not_applicable=0 best_effort=0",
				betaMarch[0],
				"totals {3 2 2}",
			},
			"globex": {
				freeNA, freeBE,
				"alpha premium 1 first_response decided=1 met=0 missed=0 breached=1 compliance=0.0000 median=- p90=- excluded=0 not_applicable=0 best_effort=0",
				"alpha premium 2 resolution decided=1 met=1 missed=0 breached=0 compliance=1.0000 median=144000 p90=144000 excluded=0 not_applicable=0 best_effort=0",
				"totals {3 1 4}",
			},
			"initech": join(betaMarch[1:], []string{"totals {12 12 0}"}),
		},
	}, {
		// Two months before March, each as of its own end: January has
		// nothing, February is the "february" case above.
		name: "trend",
		o:    Options{Month: march, Now: after, Months: 2},
		asOf: "2026-03-31T23:59:59Z",
		trend: []string{
			"2026-01",
			"2026-02 free decided=0 met=0 compliance=- objective=- breaches=[0 0 0 0]",
			"2026-02 premium decided=2 met=1 compliance=0.5000 objective=0.99 breaches=[0 1 0 0]",
			"2026-03 basic decided=13 met=12 compliance=0.9231 objective=0.95 breaches=[0 0 1 0]",
			"2026-03 free decided=0 met=0 compliance=- objective=- breaches=[0 0 0 0]",
			"2026-03 premium decided=6 met=2 compliance=0.3333 objective=0.99 breaches=[2 2 0 0]",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Objectives = objectives
			r, err := Build(in, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.AsOf.Format(time.RFC3339); got != tt.asOf {
				t.Errorf("as of %s, want %s", got, tt.asOf)
			}
			if r.Partial != tt.partial {
				t.Errorf("partial %v, want %v", r.Partial, tt.partial)
			}
			if r.Month != tt.o.Month.String() || r.Customer != tt.o.Customer {
				t.Errorf("month %q customer %q", r.Month, r.Customer)
			}
			check := func(what string, got, want []string) {
				t.Helper()
				if want != nil && !slices.Equal(got, want) {
					t.Errorf("%s:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
			}
			check("rows", mapStrings(r.Rows, rowString), tt.rows)
			check("tiers", mapStrings(r.Tiers, tierString), tt.tiers)
			check("worst", mapStrings(r.Worst, lineString), tt.worst)
			check("cases", mapStrings(r.Cases, lineString), tt.cases)
			if tt.rows != nil && r.Totals != tt.totals {
				t.Errorf("totals %+v, want %+v", r.Totals, tt.totals)
			}
			if tt.customers != nil {
				var names []string
				for _, c := range r.Customers {
					names = append(names, c.Customer)
					check("customer "+c.Customer, append(mapStrings(c.Rows, rowString), fmt.Sprintf("totals %v", c.Totals)), tt.customers[c.Customer])
				}
				want := sortedKeys(tt.customers)
				check("customers", names, want)
			} else if r.Customers != nil {
				t.Errorf("customers without ByCustomer: %v", r.Customers)
			}
			var trend []string
			for _, m := range r.Trend {
				if len(m.Tiers) == 0 {
					trend = append(trend, m.Month)
				}
				for _, s := range m.Tiers {
					trend = append(trend, m.Month+" "+tierString(s))
				}
			}
			if tt.trend != nil || trend != nil {
				check("trend", trend, tt.trend)
			}
			// Every row keeps decided = met + missed + breached and its
			// ratio unrounded.
			for _, row := range r.Rows {
				if row.Decided != row.Met+row.Missed+row.Breached {
					t.Errorf("%s: decided is not the sum", rowString(row))
				}
				if row.Decided > 0 && *row.Compliance != float64(row.Met)/float64(row.Decided) {
					t.Errorf("%s: compliance %v", rowString(row), *row.Compliance)
				}
			}
		})
	}
}

// The worst list keeps 10, by how far they overran, ties by source and
// case.
func TestWorst(t *testing.T) {
	mk := func(src, id string, elapsed, goal int64) CaseLine {
		return CaseLine{Source: src, Case: id, Target: "first_response", State: "missed", ElapsedSeconds: &elapsed, GoalSeconds: &goal}
	}
	lines := []CaseLine{mk("b", "C-1", 200, 100), mk("a", "C-2", 400, 200), mk("a", "C-10", 2, 1), mk("a", "C-3", 300, 100)}
	for i := range 10 {
		lines = append(lines, mk("z", fmt.Sprint("D-", i), 101, 100))
	}
	got := mapStrings(worst(lines, 10), func(l CaseLine) string { return l.Source + " " + l.Case })
	want := []string{"a C-3", "a C-2", "a C-10", "b C-1", "z D-0", "z D-1", "z D-2", "z D-3", "z D-4", "z D-5"}
	if !slices.Equal(got, want) {
		t.Errorf("worst = %v, want %v", got, want)
	}
}

func TestNearestRank(t *testing.T) {
	seq := func(n int) []int64 {
		s := make([]int64, n)
		for i := range s {
			s[i] = int64(i+1) * 10
		}
		return s
	}
	for _, tt := range []struct {
		n           int
		median, p90 string
	}{
		{0, "-", "-"},
		{1, "10", "10"},
		{2, "10", "20"},  // ceil(1) = 1st, ceil(1.8) = 2nd
		{3, "20", "30"},  // ceil(1.5) = 2nd, ceil(2.7) = 3rd
		{10, "50", "90"}, // ceil(5) = 5th, ceil(9) = 9th: not 10th from 9.000000000000002
		{11, "60", "100"},
		{20, "100", "180"},
	} {
		s := seq(tt.n)
		if m, p := dashIfEmpty(secondsCell(nearestRank(s, 1, 2))), dashIfEmpty(secondsCell(nearestRank(s, 9, 10))); m != tt.median || p != tt.p90 {
			t.Errorf("n=%d: median %s p90 %s, want %s %s", tt.n, m, p, tt.median, tt.p90)
		}
	}
}

func TestNaturalCompare(t *testing.T) {
	got := []string{"C-10", "C-2", "B-1", "C-01", "C-1", "10", "9", "C-1a", "C-", ""}
	slices.SortFunc(got, naturalCompare)
	want := []string{"", "9", "10", "B-1", "C-", "C-01", "C-1", "C-1a", "C-2", "C-10"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted %q, want %q", got, want)
	}
}

func TestBuildErrors(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		o    Options
		want string
	}{
		{"future month", Options{Month: Month{2026, time.April}, Now: now}, "month 2026-04 has not begun: it starts 2026-04-01T00:00:00Z"},
		{"no month", Options{Now: now}, "month 0-00 is not a month"},
		{"no now", Options{Month: Month{2026, time.March}}, "no generation instant"},
		{"negative trend", Options{Month: Month{2026, time.March}, Now: now, Months: -1}, "months: -1 is not between 0 and 120"},
		{"bad objective", Options{Month: Month{2026, time.March}, Now: now, Objectives: map[string]float64{"gold": 1.5}}, "objective of tier gold: 1.5 is not in (0, 1]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(Input{}, tt.o)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestMonth(t *testing.T) {
	m, err := ParseMonth("2026-03")
	if err != nil || m != (Month{2026, time.March}) || m.String() != "2026-03" {
		t.Fatalf("ParseMonth = %v, %v", m, err)
	}
	if got := m.Add(-3).String(); got != "2025-12" {
		t.Errorf("three months before: %s", got)
	}
	from, to := m.Bounds(paris(t))
	if from.UTC().Format(time.RFC3339) != "2026-02-28T23:00:00Z" || to.UTC().Format(time.RFC3339) != "2026-03-31T22:00:00Z" {
		t.Errorf("March in Paris is [%s, %s)", from.UTC(), to.UTC())
	}
	for _, bad := range []string{"2026-13", "2026-3", "march", "2026-03-01", "0000-01", ""} {
		if _, err := ParseMonth(bad); err == nil {
			t.Errorf("ParseMonth(%q) succeeded", bad)
		}
	}
}
