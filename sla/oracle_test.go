package sla

// The oracle: a second implementation of the SLA clock written from
// shared/spec/sla-semantics.md alone, as plainly as possible, compared with
// Evaluator.Evaluate on random cases.
//
// It walks time minute by minute. Every instant the random data holds is a
// whole minute, every calendar boundary is a whole minute and the zones used
// change their offset on whole minutes, so "is this minute counted" is
// constant within a minute and a minute walk is exact. Whether a minute is
// open is decided by reading the wall clock of its first second in the
// calendar's zone (t.In(loc)) and looking at the weekday hours, the holiday
// dates and the exclusions: no interval arithmetic at all.
//
// Where the spec is silent the oracle follows the lead's documented choices
// (see the brief in the test's doc comment below), not the engine's code.

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rickar/cal/v2/fr"
)

var (
	oracleSeed  = flag.Uint64("oracle.seed", 20260329, "seed of TestOracle's random cases")
	oracleCases = flag.Int("oracle.cases", 0, "number of random cases of TestOracle (0: the default, smaller with -short or -race)")
)

// oracleRaceDivisor divides the default number of random cases
// (oracle_race_test.go sets it under -race).
var oracleRaceDivisor = 1

// oracleN is the number of random cases to run.
func oracleN(full, short int) int {
	switch {
	case *oracleCases > 0:
		return *oracleCases
	case testing.Short():
		return short
	}
	return max(short, full/oracleRaceDivisor)
}

// ---------------------------------------------------------------------------
// The random policy, in the words of the policy file, so that a failing case
// prints readably.

type oCalendar struct {
	Name             string              `json:"name"`
	Always           bool                `json:"always,omitempty"` // the built-in 24x7
	Timezone         string              `json:"timezone,omitempty"`
	CustomerTimezone bool                `json:"customer_timezone,omitempty"`
	Hours            map[string][]string `json:"hours,omitempty"` // "mon": ["08:00-12:00", …]
	Holidays         []string            `json:"holidays,omitempty"`
	CountryFR        bool                `json:"country_fr,omitempty"`
	Exclusions       []oExclusion        `json:"exclusions,omitempty"`
}

type oExclusion struct {
	Weekday string `json:"weekday"`
	Weeks   []int  `json:"weeks,omitempty"`
	Range   string `json:"range"`
}

// oGoal is one severity's goal: "none", "best_effort" or a duration.
type oGoal struct {
	Goal     string `json:"goal"`
	Calendar string `json:"calendar"`
	Pausable bool   `json:"pausable"`
}

type oTier struct {
	Name string `json:"name"`
	// Targets by kind (first_response, resolution); a nil map: the tier has
	// no such target; a severity missing from a map: none.
	Targets [NumTargets]map[int]oGoal `json:"targets"`
}

type oPolicy struct {
	DefaultTier     string              `json:"default_tier"`
	DefaultSeverity int                 `json:"default_severity"`
	WarningRatio    float64             `json:"warning_ratio"`
	PauseStatuses   []Status            `json:"pause_statuses"`
	Calendars       []oCalendar         `json:"calendars"`
	Tiers           []oTier             `json:"tiers"`
	Exclude         []ExclusionRule     `json:"exclude,omitempty"`
	Customers       map[string]Customer `json:"customers,omitempty"`
}

var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func weekdayByName(s string) time.Weekday {
	return time.Weekday(slices.Index(weekdayNames[:], s))
}

// hhmm parses "08:30" into minutes since midnight; "24:00" is 1440.
func hhmm(s string) int {
	h, m, _ := strings.Cut(s, ":")
	hi, err1 := strconv.Atoi(h)
	mi, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil {
		panic("bad clock time " + s)
	}
	return hi*60 + mi
}

func fmtHHMM(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// hhmmRange parses "08:00-20:00".
func hhmmRange(s string) (from, to int) {
	a, b, _ := strings.Cut(s, "-")
	return hhmm(a), hhmm(b)
}

func yyyymmdd(d Date) int { return d.Year*10000 + int(d.Month)*100 + d.Day }

func parseDate(s string) Date {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return Date{d.Year(), d.Month(), d.Day()}
}

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// engine builds the engine's policy from the description.
func (p *oPolicy) engine(tb testing.TB) *Policy {
	tb.Helper()
	cals := map[string]*Calendar{}
	for _, oc := range p.Calendars {
		if oc.Always {
			cals[oc.Name] = AlwaysOpen()
			continue
		}
		c := &Calendar{Name: oc.Name, Location: mustLoc(tb, oc.Timezone), CustomerTimezone: oc.CustomerTimezone}
		for day, rs := range oc.Hours {
			for _, r := range rs {
				f, t := hhmmRange(r)
				wd := weekdayByName(day)
				c.Hours[wd] = append(c.Hours[wd], ClockRange{f, t})
			}
		}
		for _, d := range oc.Holidays {
			c.HolidayDates = append(c.HolidayDates, parseDate(d))
		}
		if oc.CountryFR {
			c.Holidays = fr.Holidays
		}
		for _, e := range oc.Exclusions {
			f, t := hhmmRange(e.Range)
			c.Exclusions = append(c.Exclusions, Exclusion{Weekday: weekdayByName(e.Weekday), Weeks: e.Weeks, Range: ClockRange{f, t}})
		}
		if err := c.Validate(); err != nil {
			tb.Fatalf("random calendar: %v", err)
		}
		cals[oc.Name] = c
	}
	pol := &Policy{
		Name:            "oracle",
		DefaultTier:     p.DefaultTier,
		DefaultSeverity: p.DefaultSeverity,
		WarningRatio:    p.WarningRatio,
		PauseStatuses:   p.PauseStatuses,
		Calendars:       cals,
		Tiers:           map[string]*Tier{},
		Exclude:         p.Exclude,
	}
	for _, ot := range p.Tiers {
		tier := &Tier{Name: ot.Name}
		for k, m := range ot.Targets {
			if m == nil {
				continue
			}
			var gs Goals
			for sev := 1; sev <= 4; sev++ {
				og, ok := m[sev]
				switch {
				case !ok || og.Goal == "none":
					gs[sev] = Goal{Kind: GoalNone}
				case og.Goal == "best_effort":
					gs[sev] = Goal{Kind: GoalBestEffort}
				default:
					d, err := time.ParseDuration(og.Goal)
					if err != nil {
						tb.Fatal(err)
					}
					gs[sev] = Goal{Kind: GoalDuration, Duration: d, Calendar: cals[og.Calendar], Pausable: og.Pausable}
				}
			}
			tier.Targets[k] = &gs
		}
		pol.Tiers[ot.Name] = tier
	}
	if err := pol.Validate(); err != nil {
		tb.Fatalf("random policy: %v", err)
	}
	return pol
}

// ---------------------------------------------------------------------------
// The oracle itself.

type oracleExcl struct {
	weekday  time.Weekday
	weeks    []int
	from, to int
}

// wallClocks remembers the wall clock of every minute of the days asked
// for, per zone: the reading of t.In(loc), done once per zone and minute
// however many calendars ask.
type wallClocks struct {
	locs map[string]*time.Location
	days map[string]map[int64]*[1440]wallMinute
}

// wallMinute is a minute's local date (yyyymmdd), minute of the day and
// weekday.
type wallMinute struct {
	date    int32
	minute  int16
	weekday time.Weekday
}

func newWallClocks() *wallClocks {
	return &wallClocks{locs: map[string]*time.Location{}, days: map[string]map[int64]*[1440]wallMinute{}}
}

// location loads a zone once.
func (w *wallClocks) location(name string) (*time.Location, error) {
	if loc, ok := w.locs[name]; ok {
		return loc, nil
	}
	loc, err := time.LoadLocation(name)
	if err == nil {
		w.locs[name] = loc
	}
	return loc, err
}

// day returns the wall clock of the minutes of UTC day number day.
func (w *wallClocks) day(loc *time.Location, day int64) *[1440]wallMinute {
	days := w.days[loc.String()]
	if days == nil {
		days = map[int64]*[1440]wallMinute{}
		w.days[loc.String()] = days
	}
	ms := days[day]
	if ms == nil {
		ms = new([1440]wallMinute)
		for i := range ms {
			t := time.Unix(day*86400+int64(i)*60, 0).In(loc)
			y, m, d := t.Date()
			hh, mm, _ := t.Clock()
			ms[i] = wallMinute{int32(yyyymmdd(Date{y, m, d})), int16(hh*60 + mm), t.Weekday()}
		}
		days[day] = ms
	}
	return ms
}

// oracleCal answers "is the minute starting at t open" by reading the wall
// clock. Answers are remembered per zone and UTC day only to keep the test
// fast; each one is computed from scratch.
type oracleCal struct {
	name       string
	always     bool
	loc        *time.Location
	customerTZ bool
	hours      [7][][2]int
	holidays   map[int]bool // by yyyymmdd
	excl       []oracleExcl
	walls      *wallClocks
	memo       map[string]map[int64]*[1440]bool // by zone name and UTC day
}

// newOracleCal builds the oracle's calendar; walls may be shared between
// calendars, or nil.
func newOracleCal(tb testing.TB, oc oCalendar, walls *wallClocks) *oracleCal {
	tb.Helper()
	if walls == nil {
		walls = newWallClocks()
	}
	c := &oracleCal{name: oc.Name, always: oc.Always, customerTZ: oc.CustomerTimezone,
		holidays: map[int]bool{}, walls: walls, memo: map[string]map[int64]*[1440]bool{}}
	if oc.Always {
		return c
	}
	var err error
	if c.loc, err = walls.location(oc.Timezone); err != nil {
		tb.Fatal(err)
	}
	for day, rs := range oc.Hours {
		for _, r := range rs {
			f, t := hhmmRange(r)
			c.hours[weekdayByName(day)] = append(c.hours[weekdayByName(day)], [2]int{f, t})
		}
	}
	for _, d := range oc.Holidays {
		c.holidays[yyyymmdd(parseDate(d))] = true
	}
	if oc.CountryFR {
		// The spec: closed on the observed date of each public holiday
		// the holiday library knows.
		for y := 2015; y <= 2035; y++ {
			for _, h := range fr.Holidays {
				if _, obs := h.Calc(y); !obs.IsZero() {
					c.holidays[yyyymmdd(Date{obs.Year(), obs.Month(), obs.Day()})] = true
				}
			}
		}
	}
	for _, e := range oc.Exclusions {
		f, t := hhmmRange(e.Range)
		c.excl = append(c.excl, oracleExcl{weekdayByName(e.Weekday), e.Weeks, f, t})
	}
	return c
}

// location is the zone the calendar counts in for a case in zone tz.
func (c *oracleCal) location(tz string) *time.Location {
	if c.always {
		return time.UTC
	}
	if c.customerTZ && tz != "" {
		if loc, err := c.walls.location(tz); err == nil {
			return loc
		}
	}
	return c.loc
}

// openAt is the definition: the wall clock of instant t in loc is inside
// the weekday's hours, not on a holiday, not in an exclusion.
func (c *oracleCal) openAt(loc *time.Location, t time.Time) bool {
	if c.always {
		return true
	}
	w := t.In(loc)
	y, m, d := w.Date()
	hh, mm, _ := w.Clock()
	return c.openWall(yyyymmdd(Date{y, m, d}), w.Weekday(), hh*60+mm)
}

// openWall says whether the wall-clock minute (local date yyyymmdd,
// weekday, minute of the day) is open.
func (c *oracleCal) openWall(date int, wd time.Weekday, minute int) bool {
	if c.holidays[date] {
		return false
	}
	in := false
	for _, r := range c.hours[wd] {
		if r[0] <= minute && minute < r[1] {
			in = true
		}
	}
	if !in {
		return false
	}
	for _, e := range c.excl {
		if e.weekday == wd && e.from <= minute && minute < e.to && nthWeekdayMatches(e.weeks, date/10000, time.Month(date/100%100), date%100) {
			return false
		}
	}
	return true
}

// nthWeekdayMatches says whether date y-m-d is one of the given occurrences
// of its weekday in its month (1 = first, -1 = last), counting them one by
// one. No weeks: every week.
func nthWeekdayMatches(weeks []int, y int, m time.Month, d int) bool {
	if len(weeks) == 0 {
		return true
	}
	last := time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
	fromStart := 0
	for k := d; k >= 1; k -= 7 {
		fromStart++
	}
	fromEnd := 0
	for k := d; k <= last; k += 7 {
		fromEnd--
	}
	return slices.Contains(weeks, fromStart) || slices.Contains(weeks, fromEnd)
}

// minuteOpen reports whether the minute starting at unix second t (a whole
// minute) is open in loc.
func (c *oracleCal) minuteOpen(loc *time.Location, t int64) bool {
	return c.cursor(loc).open(t)
}

func (c *oracleCal) cursor(loc *time.Location) *oracleCursor {
	return &oracleCursor{cal: c, loc: loc, day: math.MinInt64}
}

// oracleCursor remembers the day of the last minute it was asked about.
type oracleCursor struct {
	cal  *oracleCal
	loc  *time.Location
	day  int64
	bits *[1440]bool
}

func (k *oracleCursor) open(t int64) bool {
	c := k.cal
	if c.always {
		return true
	}
	if day := floorDiv(t, 86400); day != k.day {
		days := c.memo[k.loc.String()]
		if days == nil {
			days = map[int64]*[1440]bool{}
			c.memo[k.loc.String()] = days
		}
		bits := days[day]
		if bits == nil {
			bits = new([1440]bool)
			for i, w := range c.walls.day(k.loc, day) {
				bits[i] = c.openWall(int(w.date), w.weekday, int(w.minute))
			}
			days[day] = bits
		}
		k.day, k.bits = day, bits
	}
	return k.bits[(t-k.day*86400)/60]
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

type oracle struct {
	spec *oPolicy
	cals map[string]*oracleCal
}

func newOracle(tb testing.TB, p *oPolicy, walls *wallClocks) *oracle {
	o := &oracle{spec: p, cals: map[string]*oracleCal{}}
	for _, oc := range p.Calendars {
		o.cals[oc.Name] = newOracleCal(tb, oc, walls)
	}
	return o
}

// oResult is a target's result in comparable, printable form.
type oResult struct {
	Target   string `json:"target"`
	State    string `json:"state"`
	Tier     string `json:"tier"`
	Severity int    `json:"severity"`
	Stopped  string `json:"stopped,omitempty"`
	// Measured states only:
	Goal     int64  `json:"goal,omitempty"`
	Elapsed  int64  `json:"elapsed,omitempty"`
	Due      string `json:"due,omitempty"`
	Pausable bool   `json:"pausable,omitempty"`
	Calendar string `json:"calendar,omitempty"`
}

func fmtUnix(t int64) string { return time.Unix(t, 0).UTC().Format(time.RFC3339) }

func fromEngine(rs []Result) []oResult {
	out := []oResult{}
	for _, r := range rs {
		o := oResult{Target: r.Target.String(), State: r.State.String(), Tier: r.Tier, Severity: r.Severity}
		if r.HasStopped {
			o.Stopped = fmtUnix(r.Stopped)
		}
		if r.State.Measured() {
			o.Goal, o.Elapsed, o.Pausable = r.Goal, r.Elapsed, r.Pausable
			if r.HasDue {
				o.Due = fmtUnix(r.Due)
			}
			if r.Calendar != nil {
				o.Calendar = r.Calendar.Name
			}
		}
		out = append(out, o)
	}
	return out
}

func unixOrNone(t time.Time) (int64, bool) {
	if t.IsZero() {
		return 0, false
	}
	return t.Unix(), true
}

// statusAt is the status at instant t, per the spec (and, with no
// history, the lead's documented choice).
func oracleStatusAt(c *Case, t int64) Status {
	if len(c.StatusHistory) > 0 {
		s := StatusOpen // before the first entry
		for _, h := range c.StatusHistory {
			if h.At.Unix() <= t {
				s = h.Status
			}
		}
		return s
	}
	if r, ok := unixOrNone(c.Resolved); ok && c.Status.Done() && r > t {
		return StatusOpen
	}
	return c.Status
}

// pausedByHistory returns whether status_history puts the case in a pause
// status at t: pauses come only from the history.
func (o *oracle) pausedByHistory(c *Case) func(t int64) bool {
	type entry struct {
		at     int64
		paused bool
	}
	h := []entry{{math.MinInt64, false}} // open before the first entry
	for _, e := range c.StatusHistory {
		h = append(h, entry{e.At.Unix(), slices.Contains(o.spec.PauseStatuses, e.Status)})
	}
	return func(t int64) bool {
		if len(h) == 1 {
			return false
		}
		paused := false
		for _, e := range h {
			if e.at <= t {
				paused = e.paused
			}
		}
		return paused
	}
}

func (o *oracle) severityAt(c *Case, t int64) int {
	sev := 0
	if h := c.SeverityHistory; len(h) > 0 {
		sev = h[0].Severity // t precedes them all
		for _, e := range h {
			if e.At.Unix() <= t {
				sev = e.Severity
			}
		}
	} else {
		sev = c.Severity
	}
	if sev < 1 || sev > 4 {
		sev = o.spec.DefaultSeverity
	}
	return sev
}

// horizon bounds the walk for a due; far beyond any random goal.
const oracleHorizon = 400 * 86400

func (o *oracle) evaluate(c *Case, at int64) []oResult {
	out := []oResult{}
	created := c.Created.Unix()
	if created > at {
		return out // not created yet
	}
	p := o.spec
	tierName := c.Tier
	if tierName == "" {
		tierName = p.Customers[c.Customer].Tier
	}
	if tierName == "" {
		tierName = p.DefaultTier
	}
	tz := c.Timezone
	if tz == "" {
		tz = p.Customers[c.Customer].Timezone
	}
	excluded := false
	for _, r := range p.Exclude {
		if r == (ExclusionRule{}) {
			continue
		}
		if (r.Label == "" || slices.Contains(c.Labels, r.Label)) &&
			(r.Type == "" || r.Type == c.Type) &&
			(r.Customer == "" || r.Customer == c.Customer) {
			excluded = true
		}
	}
	var tier oTier
	for _, t := range p.Tiers {
		if t.Name == tierName {
			tier = t
		}
	}
	for k := Target(0); k < NumTargets; k++ {
		goals := tier.Targets[k]
		if goals == nil {
			continue
		}
		res := oResult{Target: k.String(), Tier: tierName}
		// The stop instant, if the target stopped by at.
		stop, stopped := int64(0), false
		if first, ok := unixOrNone(c.FirstResponse); k == FirstResponse && ok && first <= at {
			stop, stopped = first, true
		} else if r, ok := unixOrNone(c.Resolved); ok && r <= at {
			stop, stopped = r, true
		}
		end := at
		if stopped {
			stop = max(stop, created)
			end = stop
			res.Stopped = fmtUnix(stop)
		}
		res.Severity = o.severityAt(c, end)
		g, ok := goals[res.Severity]
		switch {
		case excluded:
			res.State = "excluded"
		case !ok || g.Goal == "none":
			res.State = "not_applicable"
		case g.Goal == "best_effort":
			res.State = "best_effort"
		default:
			d, _ := time.ParseDuration(g.Goal)
			goal := int64(d / time.Second)
			cal := o.cals[g.Calendar]
			open := cal.cursor(cal.location(tz))
			res.Goal, res.Pausable, res.Calendar = goal, g.Pausable, g.Calendar
			// Counted minute: open, and not paused when pausable. Pauses
			// are those of the history before end; none after it.
			paused := o.pausedByHistory(c)
			counts := func(m int64) bool {
				return open.open(m) && !(g.Pausable && m < end && paused(m))
			}
			var elapsed int64
			for m := created; m < end; m += 60 {
				if counts(m) {
					elapsed += 60
				}
			}
			res.Elapsed = elapsed
			// The due: the latest t with counted(created, t) <= goal is
			// the start of the counted minute at which the count has
			// just reached the goal.
			var due int64
			hasDue := false
			var sum int64
			for m := created; m < created+oracleHorizon; m += 60 {
				if counts(m) {
					if sum == goal {
						due, hasDue = m, true
						break
					}
					sum += 60
				}
			}
			pausedNow := !stopped && g.Pausable && slices.Contains(p.PauseStatuses, oracleStatusAt(c, at))
			switch {
			case stopped && elapsed <= goal:
				res.State = "met"
			case stopped:
				res.State = "missed"
			case elapsed > goal:
				res.State = "breached"
			case pausedNow:
				res.State = "paused"
			case float64(elapsed)/float64(goal) >= p.WarningRatio:
				res.State = "warning"
			default:
				res.State = "ok"
			}
			if hasDue && res.State != "paused" {
				res.Due = fmtUnix(due)
			}
		}
		out = append(out, res)
	}
	return out
}

// ---------------------------------------------------------------------------
// Random data.

// oracleGen draws random policies and cases.
type oracleGen struct {
	r *rand.Rand
	// transitionHours focuses on daylight-saving changes: calendar
	// boundaries often fall in the hours the changes skip or repeat, and
	// every case is near a change.
	transitionHours bool
	zones           []string
	anchors         []time.Time // instants the cases cluster around
}

var oracleZones = []string{"Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "Europe/London", "America/Los_Angeles", "Asia/Kolkata", "UTC"}

// transitionZones change their clocks at 02:00 or 03:00, at midnight
// (Santiago, Havana, Cairo: the clock goes back from 24:00 to 23:00 or
// jumps from 00:00 to 01:00) or by half an hour (Lord Howe).
var transitionZones = []string{"Europe/Paris", "America/New_York", "Australia/Sydney", "Europe/London", "America/Santiago", "America/Havana", "Africa/Cairo", "Australia/Lord_Howe"}

// zoneChanges lists the instants a zone changes its UTC offset in a year,
// read from the zone database.
func zoneChanges(tb testing.TB, zone string, year int) []time.Time {
	tb.Helper()
	loc := mustLoc(tb, zone)
	var out []time.Time
	end := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC)
	for t := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); t.Before(end); {
		_, next := t.In(loc).ZoneBounds()
		if next.IsZero() || !next.Before(end) {
			break
		}
		out = append(out, next)
		t = next
	}
	return out
}

func newOracleGen(seed uint64, transitionHours bool) *oracleGen {
	return &oracleGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), transitionHours: transitionHours}
}

func (g *oracleGen) pick(n int) int        { return g.r.IntN(n) }
func (g *oracleGen) chance(p float64) bool { return g.r.Float64() < p }
func (g *oracleGen) zone() string          { return g.zones[g.pick(len(g.zones))] }

// boundary draws a clock time for an hours range. Focused on transitions,
// half of them fall in 22:00–03:00, where zones change their clocks.
func (g *oracleGen) boundary() int {
	if g.transitionHours {
		switch x := g.r.Float64(); {
		case x < 0.35:
			return g.pick(181) // 00:00 to 03:00
		case x < 0.5:
			return 22*60 + g.pick(121) // 22:00 to 24:00
		}
	}
	switch g.pick(4) {
	case 0:
		return g.pick(25) * 60 // whole hours, 00:00 to 24:00
	case 1, 2:
		return g.pick(97) * 15
	}
	return g.pick(1441)
}

// ranges draws n sorted, disjoint ranges; sometimes two of them touch.
func (g *oracleGen) ranges(n int) []string {
	set := map[int]bool{}
	for len(set) < 2*n {
		set[g.boundary()] = true
	}
	bs := make([]int, 0, 2*n)
	for b := range set {
		bs = append(bs, b)
	}
	slices.Sort(bs)
	var out []string
	for i := 0; i < len(bs); i += 2 {
		f, t := bs[i], bs[i+1]
		if mid := (f + t) / 2; t-f >= 2 && g.chance(0.1) {
			out = append(out, fmtHHMM(f)+"-"+fmtHHMM(mid), fmtHHMM(mid)+"-"+fmtHHMM(t))
			continue
		}
		out = append(out, fmtHHMM(f)+"-"+fmtHHMM(t))
	}
	return out
}

func (g *oracleGen) calendar(name string) oCalendar {
	oc := oCalendar{Name: name, Timezone: g.zone(), CustomerTimezone: g.chance(0.5), Hours: map[string][]string{}}
	kind := g.pick(4)
	if g.transitionHours {
		kind = 2 // random hours
	}
	for wd, day := range weekdayNames {
		weekend := wd == 0 || wd == 6
		switch {
		case kind == 0: // every day, all day: a wall-clock 24/7
			oc.Hours[day] = []string{"00:00-24:00"}
		case kind == 1 && weekend: // business days
		case kind == 1:
			if g.chance(0.3) {
				oc.Hours[day] = []string{"08:00-12:00", "13:00-20:00"}
			} else {
				oc.Hours[day] = []string{"08:00-20:00"}
			}
		case g.chance(0.2):
		case g.chance(0.1):
			oc.Hours[day] = []string{"00:00-24:00"}
		default:
			oc.Hours[day] = g.ranges(1 + g.pick(3))
		}
	}
	if len(oc.Hours) == 0 {
		oc.Hours["wed"] = g.ranges(1)
	}
	for range g.pick(4) {
		d := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, g.pick(365))
		if g.chance(0.5) { // next to a daylight-saving change
			d = g.anchors[g.pick(len(g.anchors))].AddDate(0, 0, g.pick(7)-3)
		}
		oc.Holidays = append(oc.Holidays, d.Format(time.DateOnly))
	}
	oc.CountryFR = g.chance(0.3)
	for range g.pick(3) {
		e := oExclusion{Weekday: weekdayNames[g.pick(7)]}
		if g.chance(0.5) {
			e.Range = "00:00-06:00"
			e.Weeks = []int{1, -3, -2, -1}
		} else {
			e.Range = g.ranges(1)[0]
			for _, w := range []int{1, 2, 3, 4, 5, -1, -2, -3, -4, -5} {
				if g.chance(0.25) {
					e.Weeks = append(e.Weeks, w)
				}
			}
		}
		oc.Exclusions = append(oc.Exclusions, e)
	}
	return oc
}

// goalDuration draws a goal between 30 minutes and 3 days, log-uniformly,
// in whole minutes.
func (g *oracleGen) goalDuration() time.Duration {
	lo, hi := math.Log(30), math.Log(3*24*60)
	return time.Duration(math.Round(math.Exp(lo+g.r.Float64()*(hi-lo)))) * time.Minute
}

func (g *oracleGen) policy() *oPolicy {
	p := &oPolicy{
		DefaultSeverity: 1 + g.pick(4),
		WarningRatio:    []float64{0.75, 0.5, 0.8, 0.9, 1, 1.0 / 3}[g.pick(6)],
		PauseStatuses:   [][]Status{{StatusPendingCustomer}, {StatusPendingCustomer}, {StatusPendingCustomer, StatusOnHold}, {StatusOnHold}, nil}[g.pick(5)],
		Calendars:       []oCalendar{{Name: "24x7", Always: true}},
		Customers: map[string]Customer{
			"acme":    {Timezone: g.zone()},
			"initech": {},
		},
	}
	for i := range 1 + g.pick(2) {
		p.Calendars = append(p.Calendars, g.calendar(fmt.Sprintf("cal%d", i+1)))
	}
	for i := range 2 + g.pick(2) {
		t := oTier{Name: fmt.Sprintf("tier%d", i+1)}
		tierCal := p.Calendars[g.pick(len(p.Calendars))].Name
		for k := range NumTargets {
			if g.chance(0.15) {
				continue // the tier has no such target
			}
			m := map[int]oGoal{}
			for sev := 1; sev <= 4; sev++ {
				og := oGoal{Calendar: tierCal, Pausable: Target(k).PausableByDefault()}
				if g.chance(0.2) {
					og.Calendar = p.Calendars[g.pick(len(p.Calendars))].Name
				}
				if g.chance(0.2) {
					og.Pausable = !og.Pausable
				}
				switch x := g.r.Float64(); {
				case x < 0.05:
					continue // missing: none
				case x < 0.12:
					og.Goal = "none"
				case x < 0.2:
					og.Goal = "best_effort"
				default:
					og.Goal = g.goalDuration().String()
				}
				m[sev] = og
			}
			t.Targets[k] = m
		}
		p.Tiers = append(p.Tiers, t)
	}
	p.DefaultTier = p.Tiers[g.pick(len(p.Tiers))].Name
	p.Customers["globex"] = Customer{Tier: p.Tiers[g.pick(len(p.Tiers))].Name, Timezone: g.zone()}
	p.Exclude = []ExclusionRule{{Label: "experimental"}, {Type: "feedback"}, {Label: "beta", Customer: "globex"}}
	return p
}

// minute draws a whole-minute instant in [a, b].
func (g *oracleGen) minute(a, b time.Time) time.Time {
	if b.Before(a) {
		a, b = b, a
	}
	n := int64(b.Sub(a) / time.Minute)
	return a.Add(time.Duration(g.r.Int64N(n+1)) * time.Minute)
}

func (g *oracleGen) status() Status {
	x := g.r.Float64()
	switch {
	case x < 0.3:
		return StatusPendingCustomer
	case x < 0.45:
		return StatusOnHold
	case x < 0.8:
		return StatusOpen
	case x < 0.95:
		return StatusResolved
	}
	return StatusClosed
}

// anchor draws an instant of 2026, half of them within days of a
// daylight-saving change.
func (g *oracleGen) anchor() time.Time {
	if g.transitionHours || g.chance(0.5) {
		a := g.anchors[g.pick(len(g.anchors))]
		return g.minute(a.Add(-4*24*time.Hour), a.Add(4*24*time.Hour))
	}
	return g.minute(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC))
}

func (g *oracleGen) tierName(p *oPolicy) string { return p.Tiers[g.pick(len(p.Tiers))].Name }

// kase draws a case and the instant to evaluate it at.
func (g *oracleGen) kase(p *oPolicy, id int) (*Case, time.Time) {
	day := 24 * time.Hour
	at := g.anchor()
	var created time.Time
	switch x := g.r.Float64(); {
	case x < 0.03:
		created = g.minute(at, at.Add(day)) // not created yet
	case x < 0.25:
		created = g.minute(at.Add(-day), at)
	default:
		created = g.minute(at.Add(-10*day), at)
	}
	c := &Case{
		ID:       strconv.Itoa(id),
		Created:  created,
		Severity: []int{0, 1, 2, 3, 4}[g.pick(5)],
		Status:   g.status(),
		Customer: []string{"", "acme", "globex", "initech"}[g.pick(4)],
	}
	if g.chance(0.5) {
		c.Tier = g.tierName(p)
	}
	if g.chance(0.5) {
		c.Timezone = g.zone()
	}
	if g.chance(0.06) {
		c.Labels = []string{"experimental"}
	}
	if g.chance(0.04) {
		c.Labels = append(c.Labels, "beta")
	}
	if g.chance(0.05) {
		c.Type = "feedback"
	}
	// Entries and stops before created, at created, before at and after at.
	instant := func() time.Time {
		switch x := g.r.Float64(); {
		case x < 0.05:
			return created
		case x < 0.1:
			return at
		case x < 0.15:
			return g.minute(created.Add(-2*time.Hour), created)
		case x < 0.75:
			return g.minute(created, at.Add(time.Minute))
		default:
			return g.minute(created, at.Add(4*day))
		}
	}
	if g.chance(0.3) {
		for range 1 + g.pick(3) {
			c.SeverityHistory = append(c.SeverityHistory, SeverityChange{At: instant(), Severity: 1 + g.pick(4)})
		}
	}
	if g.chance(0.7) {
		for range 1 + g.pick(7) {
			c.StatusHistory = append(c.StatusHistory, StatusChange{At: instant(), Status: g.status()})
		}
	}
	if g.chance(0.5) {
		c.FirstResponse = instant()
	}
	if g.chance(0.4) {
		c.Resolved = instant()
	}
	slices.SortStableFunc(c.StatusHistory, func(a, b StatusChange) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(c.SeverityHistory, func(a, b SeverityChange) int { return a.At.Compare(b.At) })
	return c, at
}

// ---------------------------------------------------------------------------
// The tests.

// TestOracle compares Evaluate with the oracle on random policies and cases,
// each evaluated at a random instant and then again at the instants where
// states change: one minute before the due, at it and one minute after, and
// at each stop instant.
//
// The choices the spec leaves open, as the lead documented them: the
// severity at t is that of the last history entry at or before t, else of
// the first entry, else Severity, else the policy default; the goal's
// severity is that at the stop instant when stopped by at, else at at; the
// first-response stop is first_response if <= at, else resolved if <= at;
// a stop before created counts as created; with an empty status history
// the status is the case's Status (open before a later Resolved); pauses
// come only from the status history, clipped to [created, end); paused
// only when running, pausable, paused at at and not breached; no due when
// paused; warning iff consumed >= warning_ratio.
func TestOracle(t *testing.T) {
	runOracle(t, *oracleSeed, oracleN(3000, 300), false)
}

// TestOracleDSTTransitionHours is TestOracle focused on daylight-saving
// changes: zones that change at 02:00, at midnight or by half an hour,
// calendar hours that begin or end in the wall-clock hours the changes skip
// or repeat, and cases around the changes.
func TestOracleDSTTransitionHours(t *testing.T) {
	runOracle(t, *oracleSeed+1, oracleN(1200, 200), true)
}

func runOracle(t *testing.T, seed uint64, n int, transitionHours bool) {
	g := newOracleGen(seed, transitionHours)
	g.zones = oracleZones
	if transitionHours {
		g.zones = transitionZones
	}
	// Half the cases (all when focused) are within days of a change of
	// one of the zones.
	for _, z := range g.zones {
		g.anchors = append(g.anchors, zoneChanges(t, z, 2026)...)
	}
	const casesPerPolicy = 50
	walls := newWallClocks()
	var (
		dst        []Result
		evaluated  int
		mismatches int
		states     = map[string]int{}
	)
	for i := 0; i < n; i += casesPerPolicy {
		spec := g.policy()
		if transitionHours {
			spec.Calendars = spec.Calendars[:1]
			spec.Calendars = append(spec.Calendars, g.calendar("cal1"))
			for ti := range spec.Tiers {
				for k := range spec.Tiers[ti].Targets {
					for sev, og := range spec.Tiers[ti].Targets[k] {
						if og.Calendar != "24x7" {
							og.Calendar = "cal1"
							spec.Tiers[ti].Targets[k][sev] = og
						}
					}
				}
			}
		}
		ev := &Evaluator{Policy: spec.engine(t), Customers: spec.Customers}
		or := newOracle(t, spec, walls)
		for j := i; j < min(n, i+casesPerPolicy); j++ {
			c, at := g.kase(spec, j)
			type probe struct {
				c  *Case
				at int64
			}
			probes := []probe{{c, at.Unix()}}
			for k := 0; k < len(probes); k++ {
				c, at := probes[k].c, probes[k].at
				want := or.evaluate(c, at)
				var err error
				dst, err = ev.Evaluate(c, time.Unix(at, 0), dst[:0])
				if err != nil {
					t.Fatalf("case %s: %v", c.ID, err)
				}
				got := fromEngine(dst)
				evaluated++
				for _, r := range want {
					states[r.State]++
				}
				if !slices.Equal(got, want) {
					mismatches++
					if mismatches <= 3 {
						t.Errorf("mismatch (seed %d, case %s):\n%s", seed, c.ID, oracleReport(spec, c, at, got, want))
					}
				}
				if k > 0 {
					continue
				}
				// The instants where the state changes: a minute before the
				// due, at it, a minute after; the same case stopped at the
				// due and a minute after it; the stop instants.
				for _, r := range want {
					if r.Due != "" {
						d, _ := time.Parse(time.RFC3339, r.Due)
						probes = append(probes, probe{c, d.Unix() - 60}, probe{c, d.Unix()}, probe{c, d.Unix() + 60})
						for _, stop := range []time.Time{d, d.Add(time.Minute)} {
							sc := *c
							if r.Target == FirstResponse.String() {
								sc.FirstResponse = stop
							} else {
								sc.Resolved = stop
							}
							probes = append(probes, probe{&sc, d.Unix() + 120})
						}
						// A pause that starts exactly when the goal runs out.
						if len(spec.PauseStatuses) > 0 {
							pc := *c
							pc.StatusHistory = nil
							for _, h := range c.StatusHistory {
								if h.At.Before(d) {
									pc.StatusHistory = append(pc.StatusHistory, h)
								}
							}
							back := d.Add(time.Duration(1+g.pick(600)) * time.Minute)
							pc.StatusHistory = append(pc.StatusHistory,
								StatusChange{At: d, Status: spec.PauseStatuses[0]}, StatusChange{At: back, Status: StatusOpen})
							probes = append(probes, probe{&pc, back.Unix() + 60}, probe{&pc, back.Unix() + 24*3600})
						}
					}
					if r.Stopped != "" {
						s, _ := time.Parse(time.RFC3339, r.Stopped)
						probes = append(probes, probe{c, s.Unix() - 60}, probe{c, s.Unix()})
					}
				}
			}
		}
	}
	t.Logf("seed %d: %d evaluations, states %v", seed, evaluated, states)
	if mismatches > 0 {
		t.Errorf("%d of %d evaluations differ from the oracle", mismatches, evaluated)
	}
	// The random data must reach every state, or the comparison proves little.
	if !transitionHours && !testing.Short() && *oracleCases == 0 {
		for _, s := range stateNames {
			if states[s] == 0 {
				t.Errorf("no random case reached state %s", s)
			}
		}
	}
}

// oracleReport prints a failing case: the targets that differ, then the
// case and the policy as JSON.
func oracleReport(p *oPolicy, c *Case, at int64, got, want []oResult) string {
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			return err.Error()
		}
		return string(b)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "at %s\n", fmtUnix(at))
	for i := range max(len(got), len(want)) {
		var g, w any = "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			fmt.Fprintf(&b, "  engine: %s\n  oracle: %s\n", js(g), js(w))
		}
	}
	fmt.Fprintf(&b, "case: %s\npolicy: %s", js(c), js(p))
	return b.String()
}

// TestEvaluateConcurrent evaluates random cases spread over 2017–2029 from
// several goroutines at once, each in its own order, on a policy whose
// calendars start empty: their timelines are compiled and grown, forwards
// and backwards, while other goroutines read them. Every result must equal
// the one a single goroutine gets, and -race must find nothing.
func TestEvaluateConcurrent(t *testing.T) {
	n := 1200
	if testing.Short() {
		n = 300
	}
	g := newOracleGen(*oracleSeed+2, false)
	g.zones = oracleZones
	for _, z := range g.zones {
		g.anchors = append(g.anchors, zoneChanges(t, z, 2026)...)
	}
	spec := g.policy()
	type job struct {
		c  *Case
		at time.Time
	}
	jobs := make([]job, n)
	for i := range jobs {
		c, at := g.kase(spec, i)
		// Move the case to a random year: timelines must grow both ways.
		shift := time.Duration(g.pick(8)-4) * 365 * 24 * time.Hour
		c.Created = c.Created.Add(shift)
		if !c.FirstResponse.IsZero() {
			c.FirstResponse = c.FirstResponse.Add(shift)
		}
		if !c.Resolved.IsZero() {
			c.Resolved = c.Resolved.Add(shift)
		}
		for j := range c.StatusHistory {
			c.StatusHistory[j].At = c.StatusHistory[j].At.Add(shift)
		}
		for j := range c.SeverityHistory {
			c.SeverityHistory[j].At = c.SeverityHistory[j].At.Add(shift)
		}
		if g.chance(0.2) {
			// An old case, opened years before: one computation spans
			// several timelines' worth of years.
			c.Created = c.Created.Add(-time.Duration(1+g.pick(5*365)) * 24 * time.Hour)
		}
		jobs[i] = job{c, at.Add(shift)}
	}
	// Alone, in order and in reverse order: the order the timelines grow in
	// must not matter.
	sequential := &Evaluator{Policy: spec.engine(t), Customers: spec.Customers}
	reverse := &Evaluator{Policy: spec.engine(t), Customers: spec.Customers}
	want := make([][]oResult, n)
	for i, j := range jobs {
		rs, err := sequential.Evaluate(j.c, j.at, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = fromEngine(rs)
	}
	for i := n - 1; i >= 0; i-- {
		rs, err := reverse.Evaluate(jobs[i].c, jobs[i].at, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := fromEngine(rs); !slices.Equal(got, want[i]) {
			t.Fatalf("case %s at %s: %v in reverse order, %v in order", jobs[i].c.ID, jobs[i].at.Format(time.RFC3339), got, want[i])
		}
	}
	concurrent := &Evaluator{Policy: spec.engine(t), Customers: spec.Customers}
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var dst []Result
			for k := range n {
				i := (w*n/workers + k) % n
				if w%2 == 1 {
					i = n - 1 - i // backwards
				}
				var err error
				dst, err = concurrent.Evaluate(jobs[i].c, jobs[i].at, dst[:0])
				if err != nil {
					t.Error(err)
					return
				}
				if got := fromEngine(dst); !slices.Equal(got, want[i]) {
					t.Errorf("case %s at %s, worker %d: %v, alone %v", jobs[i].c.ID, jobs[i].at.Format(time.RFC3339), w, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}
