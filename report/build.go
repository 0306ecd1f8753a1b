package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
)

// Source is one source's cases, as its Window returned them, with the
// evaluator of its policy.
type Source struct {
	Name      string
	Evaluator *sla.Evaluator
	Cases     []sla.Case
}

// Input is what a report is computed from: every configured source's
// cases for the months reported (a Window from the first month of the
// trend to the end of the month).
type Input struct {
	Sources []Source
}

// Month is a calendar month, taken in a report's time zone.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth parses "2026-03".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if m := (Month{t.Year(), t.Month()}); err == nil && m.valid() {
		return m, nil
	}
	return Month{}, fmt.Errorf("%q is not a month: write it YYYY-MM, e.g. 2026-03", s)
}

// MonthOf is the month instant t falls in, in loc.
func MonthOf(t time.Time, loc *time.Location) Month {
	y, m, _ := t.In(loc).Date()
	return Month{y, m}
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Add is the month n months later (earlier when n is negative).
func (m Month) Add(n int) Month {
	t := time.Date(m.Year, m.Month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return Month{t.Year(), t.Month()}
}

// Bounds are the month's first instant and the next month's, in loc.
func (m Month) Bounds(loc *time.Location) (from, to time.Time) {
	return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, loc), time.Date(m.Year, m.Month+1, 1, 0, 0, 0, 0, loc)
}

func (m Month) valid() bool { return m.Year >= 1 && m.Year <= 9999 && m.Month >= 1 && m.Month <= 12 }

// Options say which report to build.
type Options struct {
	Month Month
	// Location is the time zone months are taken in; nil is UTC.
	Location *time.Location
	// Now is the generation instant: a month not over yet is evaluated as
	// of Now.
	Now time.Time
	// ByCustomer adds the figures per customer (Report.Customers).
	ByCustomer bool
	// Customer, when set, keeps only that customer's cases.
	Customer string
	// Months is the number of months before Month in the trend; 0: none.
	Months int
	// Objectives are the compliance objectives by tier.
	Objectives map[string]float64
}

// maxTrend bounds --months: ten years of monthly evaluations.
const maxTrend = 120

// Build computes the report of o.Month from the cases of in. It reads
// nothing and writes nothing: the same input gives the same report.
//
// A target counts in the month when its outcome was decided in it (met by
// its stop instant, missed and breached by their due, as of the month's
// last second, or of Now for the current month); excluded, not_applicable
// and best_effort targets count when their case was created in it. Cases
// whose tier their policy lacks are left out, as the metrics leave them out.
//
// Order: Rows by source, tier, severity, target; Tiers and Customers by
// name; Cases by source, case id (numbers in ids compared as numbers, so
// C-2 comes before C-10), target; Worst by elapsed / goal, the largest
// first, then as Cases. With ByCustomer, Customers is non-nil even when
// empty, so that renderers keep their customer columns.
func Build(in Input, o Options) (*Report, error) {
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	switch {
	case !o.Month.valid():
		return nil, fmt.Errorf("month %d-%02d is not a month", o.Month.Year, int(o.Month.Month))
	case o.Now.IsZero():
		return nil, errors.New("no generation instant")
	case o.Months < 0 || o.Months > maxTrend:
		return nil, fmt.Errorf("months: %d is not between 0 and %d", o.Months, maxTrend)
	}
	for tier, v := range o.Objectives {
		if !(v > 0 && v <= 1) {
			return nil, fmt.Errorf("objective of tier %s: %g is not in (0, 1]", tier, v)
		}
	}
	for _, s := range in.Sources {
		if s.Evaluator == nil || s.Evaluator.Policy == nil {
			return nil, fmt.Errorf("source %s: no evaluator", s.Name)
		}
	}
	now := o.Now.Truncate(time.Second)
	from, to := o.Month.Bounds(loc)
	if now.Before(from) {
		return nil, fmt.Errorf("month %s has not begun: it starts %s", o.Month, from.Format(time.RFC3339))
	}
	w := window{from: from, to: to, asOf: asOf(to, now)}
	r := &Report{
		Month:     o.Month.String(),
		Timezone:  loc.String(),
		From:      from,
		To:        to,
		AsOf:      w.asOf.In(loc),
		Generated: now.In(loc),
		Partial:   now.Before(to),
		Customer:  o.Customer,
	}
	c := count(in, w, o, true)
	r.Rows = c.all.rows()
	r.Tiers = tierSummaries(r.Rows, o.Objectives)
	r.Totals = c.all.totals
	r.Cases = c.lines
	if r.Cases == nil {
		r.Cases = []CaseLine{}
	}
	slices.SortStableFunc(r.Cases, compareLines)
	r.Worst = worst(r.Cases, 10)
	if o.ByCustomer {
		r.Customers = []CustomerReport{}
		for _, name := range sortedKeys(c.customers) {
			g := c.customers[name]
			rows := g.rows()
			r.Customers = append(r.Customers, CustomerReport{
				Customer: name, Rows: rows, Tiers: tierSummaries(rows, o.Objectives), Totals: g.totals,
			})
		}
	}
	if o.Months > 0 {
		for i := o.Months; i >= 1; i-- {
			m := o.Month.Add(-i)
			mFrom, mTo := m.Bounds(loc)
			rows := count(in, window{from: mFrom, to: mTo, asOf: asOf(mTo, now)}, o, false).all.rows()
			r.Trend = append(r.Trend, MonthSummary{Month: m.String(), Tiers: tierSummaries(rows, o.Objectives)})
		}
		r.Trend = append(r.Trend, MonthSummary{Month: r.Month, Tiers: r.Tiers})
	}
	return r, nil
}

// asOf is the instant a month ending at to is evaluated at: its last
// second (instants are whole seconds), or now while it runs.
func asOf(to, now time.Time) time.Time {
	last := to.Add(-time.Second)
	if now.Before(last) {
		return now
	}
	return last
}

// window is one month being counted: [from, to), evaluated as of asOf.
type window struct {
	from, to, asOf time.Time
}

// key is a row.
type key struct {
	source   string
	tier     string
	severity int
	target   sla.Target
}

// tally is one row's counts.
type tally struct {
	met, missed, breached               int
	excluded, notApplicable, bestEffort int
	elapsed                             []int64 // of the met and missed targets
}

// group is the rows and totals of all cases, or of one customer's.
type group struct {
	tallies map[key]*tally
	totals  Totals
}

func newGroup() *group { return &group{tallies: map[key]*tally{}} }

func (g *group) tally(k key) *tally {
	t := g.tallies[k]
	if t == nil {
		t = &tally{}
		g.tallies[k] = t
	}
	return t
}

// counted is one month's counts.
type counted struct {
	all       *group
	customers map[string]*group // with Options.ByCustomer
	lines     []CaseLine        // when asked for
}

// count evaluates every case of in as of w.asOf and counts what belongs
// to the month.
func count(in Input, w window, o Options, withLines bool) *counted {
	c := &counted{all: newGroup()}
	byCustomer := o.ByCustomer && withLines
	if byCustomer {
		c.customers = map[string]*group{}
	}
	from, to, at := w.from.Unix(), w.to.Unix(), w.asOf.Unix()
	var res []sla.Result
	var err error
	for _, s := range in.Sources {
		for i := range s.Cases {
			cs := &s.Cases[i]
			if o.Customer != "" && cs.Customer != o.Customer {
				continue
			}
			created := cs.Created.Unix()
			// Not yet created, or resolved before the month: nothing of
			// it can count (a target stops at the resolution at the
			// latest, and its due precedes a missed stop).
			if created > at || !cs.Resolved.IsZero() && cs.Resolved.Unix() < from {
				continue
			}
			if res, err = s.Evaluator.Evaluate(cs, w.asOf, res[:0]); err != nil {
				continue // a tier the policy lacks: left out, as in the metrics
			}
			groups := []*group{c.all}
			if byCustomer {
				g := c.customers[cs.Customer]
				if g == nil {
					g = newGroup()
					c.customers[cs.Customer] = g
				}
				groups = append(groups, g)
			}
			createdIn := created >= from && created < to
			resolved := cs.Resolved.Unix()
			resolvedIn := !cs.Resolved.IsZero() && resolved >= from && resolved < to && resolved <= at
			open := cs.Open(w.asOf)
			for _, g := range groups {
				g.totals.Opened += b2i(createdIn)
				g.totals.Resolved += b2i(resolvedIn)
				g.totals.Backlog += b2i(open)
			}
			for j := range res {
				r := &res[j]
				if !counts(r, createdIn, from, to) {
					continue
				}
				k := key{s.Name, r.Tier, r.Severity, r.Target}
				for _, g := range groups {
					g.tally(k).add(r)
				}
				if withLines {
					c.lines = append(c.lines, newCaseLine(s.Name, cs, r))
				}
			}
		}
	}
	return c
}

// counts says whether target r counts in the month [from, to).
func counts(r *sla.Result, createdIn bool, from, to int64) bool {
	if t, ok := r.Decided(); ok {
		return t >= from && t < to
	}
	switch r.State {
	case sla.StateExcluded, sla.StateNotApplicable, sla.StateBestEffort:
		return createdIn
	}
	return false
}

func (t *tally) add(r *sla.Result) {
	switch r.State {
	case sla.StateMet:
		t.met++
		t.elapsed = append(t.elapsed, r.Elapsed)
	case sla.StateMissed:
		t.missed++
		t.elapsed = append(t.elapsed, r.Elapsed)
	case sla.StateBreached:
		t.breached++
	case sla.StateExcluded:
		t.excluded++
	case sla.StateNotApplicable:
		t.notApplicable++
	case sla.StateBestEffort:
		t.bestEffort++
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func newCaseLine(source string, c *sla.Case, r *sla.Result) CaseLine {
	l := CaseLine{
		Source: source, Case: c.ID, Key: c.Key, URL: c.URL, Customer: c.Customer,
		Tier: r.Tier, Severity: r.Severity, Target: r.Target.String(), State: r.State.String(),
		Created: c.Created.UTC(),
	}
	if r.State.Measured() {
		goal, elapsed := r.Goal, r.Elapsed
		l.GoalSeconds, l.ElapsedSeconds = &goal, &elapsed
		if r.HasDue {
			t := r.DueTime()
			l.Due = &t
		}
	}
	if r.HasStopped {
		t := r.StoppedTime()
		l.Stopped = &t
	}
	return l
}

// rows turns the tallies into sorted rows.
func (g *group) rows() []Row {
	keys := make([]key, 0, len(g.tallies))
	for k := range g.tallies {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.source, b.source); c != 0 {
			return c
		}
		if c := strings.Compare(a.tier, b.tier); c != 0 {
			return c
		}
		if a.severity != b.severity {
			return a.severity - b.severity
		}
		return int(a.target) - int(b.target)
	})
	rows := make([]Row, 0, len(keys))
	for _, k := range keys {
		t := g.tallies[k]
		r := Row{
			Source: k.source, Tier: k.tier, Severity: k.severity, Target: k.target.String(),
			Decided: t.met + t.missed + t.breached, Met: t.met, Missed: t.missed, Breached: t.breached,
			Excluded: t.excluded, NotApplicable: t.notApplicable, BestEffort: t.bestEffort,
		}
		r.Compliance = ratio(r.Met, r.Decided)
		if len(t.elapsed) > 0 {
			slices.Sort(t.elapsed)
			r.MedianElapsed = nearestRank(t.elapsed, 1, 2)
			r.P90Elapsed = nearestRank(t.elapsed, 9, 10)
		}
		rows = append(rows, r)
	}
	return rows
}

// nearestRank is the ceil(p·n)-th smallest of sorted, p = num/den,
// worked out in integers so that 0.9·10 is 9, not 9.000000000000002.
func nearestRank(sorted []int64, num, den int) *int64 {
	n := len(sorted)
	if n == 0 {
		return nil
	}
	rank := max((num*n+den-1)/den, 1)
	v := sorted[rank-1]
	return &v
}

func ratio(met, decided int) *float64 {
	if decided == 0 {
		return nil
	}
	v := float64(met) / float64(decided)
	return &v
}

// tierSummaries sums rows per tier, over sources, severities and targets.
func tierSummaries(rows []Row, objectives map[string]float64) []TierSummary {
	byTier := map[string]*TierSummary{}
	for _, r := range rows {
		s := byTier[r.Tier]
		if s == nil {
			s = &TierSummary{Tier: r.Tier}
			if v, ok := objectives[r.Tier]; ok {
				s.Objective = &v
			}
			byTier[r.Tier] = s
		}
		s.Decided += r.Decided
		s.Met += r.Met
		if r.Severity >= 1 && r.Severity <= len(s.Breaches) {
			s.Breaches[r.Severity-1] += r.Missed + r.Breached
		}
	}
	out := make([]TierSummary, 0, len(byTier))
	for _, name := range sortedKeys(byTier) {
		s := byTier[name]
		s.Compliance = ratio(s.Met, s.Decided)
		out = append(out, *s)
	}
	return out
}

// worst are the n missed and breached targets of lines that overran
// their goal the most.
func worst(lines []CaseLine, n int) []CaseLine {
	out := []CaseLine{}
	for _, l := range lines {
		if (l.State == "missed" || l.State == "breached") && l.GoalSeconds != nil && *l.GoalSeconds > 0 {
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(a, b CaseLine) int {
		// elapsed_a / goal_a against elapsed_b / goal_b, without rounding:
		// a few years of seconds times a goal stays far below 2^63.
		ea, ga, eb, gb := *a.ElapsedSeconds, *a.GoalSeconds, *b.ElapsedSeconds, *b.GoalSeconds
		x, y := ea*gb, eb*ga
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return compareLines(a, b)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func compareLines(a, b CaseLine) int {
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	if c := naturalCompare(a.Case, b.Case); c != 0 {
		return c
	}
	return strings.Compare(a.Target, b.Target)
}

// naturalCompare orders strings with their runs of digits compared as
// numbers: C-2 before C-10, as people read ticket ids. Strings equal that
// way (C-01, C-1) fall back to byte order, so the order is total.
func naturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			x, y := strings.TrimLeft(a[si:i], "0"), strings.TrimLeft(b[sj:j], "0")
			if len(x) != len(y) {
				return len(x) - len(y)
			}
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
			continue
		}
		if a[i] != b[j] {
			return int(a[i]) - int(b[j])
		}
		i++
		j++
	}
	if c := (len(a) - i) - (len(b) - j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
