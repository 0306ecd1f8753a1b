package sla

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rickar/cal/v2"
)

// MinutesPerDay is the end of a day in a ClockRange ("24:00").
const MinutesPerDay = 24 * 60

// ClockRange is an open stretch of a day in local wall-clock minutes since
// midnight, half-open: [From, To). To may be MinutesPerDay.
type ClockRange struct{ From, To int }

func (r ClockRange) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", r.From/60, r.From%60, r.To/60, r.To%60)
}

// Date is a local calendar date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Exclusion is a recurring closed window, such as planned maintenance: on
// the given weekday, in the given weeks of the month (1 = first, -1 = last;
// empty = every week), from From to To local minutes.
type Exclusion struct {
	Weekday time.Weekday
	Weeks   []int
	Range   ClockRange
}

func (e Exclusion) matches(year int, month time.Month, day int, wd time.Weekday) bool {
	if wd != e.Weekday {
		return false
	}
	if len(e.Weeks) == 0 {
		return true
	}
	fromStart := (day-1)/7 + 1
	fromEnd := -((daysIn(year, month)-day)/7 + 1)
	for _, w := range e.Weeks {
		if w == fromStart || w == fromEnd {
			return true
		}
	}
	return false
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Calendar says when an SLA clock runs. Build one as a struct literal and
// call Validate, or use AlwaysOpen. A Calendar memoises its compiled
// timelines and must not be copied after first use.
type Calendar struct {
	Name string
	// Location is the calendar's time zone.
	Location *time.Location
	// CustomerTimezone: use the case's own time zone when it has one.
	CustomerTimezone bool
	// Hours holds the open stretches of each weekday, by time.Weekday,
	// sorted and not overlapping.
	Hours [7][]ClockRange
	// HolidayDates are local dates closed all day.
	HolidayDates []Date
	// Holidays are closed all day on their observed date, each year.
	Holidays []*cal.Holiday
	// Exclusions are recurring closed windows.
	Exclusions []Exclusion

	always bool
	zones  zoneCache
}

// AlwaysOpen returns the built-in 24x7 calendar: every second counts.
func AlwaysOpen() *Calendar { return &Calendar{Name: "24x7", Location: time.UTC, always: true} }

// IsAlwaysOpen reports whether the calendar never closes.
func (c *Calendar) IsAlwaysOpen() bool { return c.always }

// Validate checks the calendar's hours.
func (c *Calendar) Validate() error {
	if c.always {
		return nil
	}
	if c.Location == nil {
		return fmt.Errorf("calendar %s: no time zone", c.Name)
	}
	open := false
	for wd, rs := range c.Hours {
		for i, r := range rs {
			if r.From < 0 || r.To > MinutesPerDay || r.From >= r.To {
				return fmt.Errorf("calendar %s: %s hours %s: not a valid range", c.Name, time.Weekday(wd), r)
			}
			if i > 0 && r.From < rs[i-1].To {
				return fmt.Errorf("calendar %s: %s hours %s overlap %s", c.Name, time.Weekday(wd), r, rs[i-1])
			}
			open = true
		}
	}
	if !open {
		return fmt.Errorf("calendar %s: no open hours", c.Name)
	}
	for _, e := range c.Exclusions {
		if e.Range.From < 0 || e.Range.To > MinutesPerDay || e.Range.From >= e.Range.To {
			return fmt.Errorf("calendar %s: exclusion %s: not a valid range", c.Name, e.Range)
		}
	}
	return nil
}

// zoneFor returns the compiled timeline holder for a case time zone ("" for
// the calendar's own).
func (c *Calendar) zoneFor(tz string) *zoneTimeline {
	if !c.CustomerTimezone {
		tz = ""
	}
	return c.zones.get(c, tz)
}

// LocationFor returns the zone the calendar counts in for a case time zone.
func (c *Calendar) LocationFor(tz string) *time.Location {
	if c.always {
		return time.UTC
	}
	return c.zoneFor(tz).loc
}

// zoneCache maps a time zone name to its compiled timeline. Reads are a
// lock-free load of an immutable map; adding a zone copies it.
type zoneCache struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]*zoneTimeline]
}

func (zc *zoneCache) get(c *Calendar, tz string) *zoneTimeline {
	if m := zc.m.Load(); m != nil {
		if z, ok := (*m)[tz]; ok {
			return z
		}
	}
	zc.mu.Lock()
	defer zc.mu.Unlock()
	old := map[string]*zoneTimeline{}
	if m := zc.m.Load(); m != nil {
		if z, ok := (*m)[tz]; ok {
			return z
		}
		old = *m
	}
	loc := c.Location
	if tz != "" {
		// Cases are validated by their source; an unknown zone that got
		// here anyway counts in the calendar's own zone.
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	z := &zoneTimeline{cal: c, loc: loc}
	next := make(map[string]*zoneTimeline, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[tz] = z
	zc.m.Store(&next)
	return z
}

// zoneTimeline holds a calendar's timeline in one zone, grown on demand.
type zoneTimeline struct {
	cal *Calendar
	loc *time.Location
	mu  sync.Mutex
	tl  atomic.Pointer[timeline]
}

// The range of years a timeline may cover.
const (
	minYear = 1970
	maxYear = 2400
)

// covering returns a timeline that covers instant t.
func (z *zoneTimeline) covering(t int64) *timeline {
	if tl := z.tl.Load(); tl != nil && tl.covers(t) {
		return tl
	}
	return z.extend(t)
}

func (z *zoneTimeline) extend(t int64) *timeline {
	z.mu.Lock()
	defer z.mu.Unlock()
	tl := z.tl.Load()
	if tl != nil && tl.covers(t) {
		return tl
	}
	y := time.Unix(t, 0).In(z.loc).Year()
	from, to := y-1, y+3
	if tl != nil {
		// Grow by at least the current span so that a long walk does
		// not rebuild again and again.
		span := tl.toYear - tl.fromYear
		from = min(from, tl.fromYear)
		to = max(to, tl.toYear)
		if y < tl.fromYear {
			from = min(from, tl.fromYear-span)
		} else {
			to = max(to, tl.toYear+span)
		}
	}
	from = max(from, minYear)
	to = min(to, maxYear)
	nt := buildTimeline(z.cal, z.loc, from, to)
	z.tl.Store(nt)
	return nt
}

// timeline is a calendar's open time in one zone over whole local years
// [fromYear, toYear): sorted, disjoint UTC intervals with the open seconds
// before each, and a per-day index into them. It is immutable.
type timeline struct {
	fromYear, toYear int
	lo, hi           int64 // unix seconds covered: [lo, hi]
	// iv are the open intervals, then a sentinel whose cum is the total
	// and whose start and end lie past hi. The three numbers of an
	// interval sit together: a look-up reads one cache line.
	iv  []interval
	day []int32 // day k: first interval with end > lo+k*86400
}

// interval is an open stretch [start, end) with the open seconds in
// [lo, start) before it.
type interval struct{ start, end, cum int64 }

// n is the number of open intervals.
func (tl *timeline) n() int { return len(tl.iv) - 1 }

func (tl *timeline) covers(t int64) bool { return t >= tl.lo && t <= tl.hi }

// open is the number of open seconds in [lo, t), for lo <= t <= hi.
func (tl *timeline) open(t int64) int64 {
	i := int(tl.day[(t-tl.lo)/86400])
	iv := tl.iv
	for iv[i].end <= t { // the sentinel ends past hi
		i++
	}
	if t <= iv[i].start {
		return iv[i].cum
	}
	return iv[i].cum + t - iv[i].start
}

// latest is the latest instant t with open(t) <= x, or ok=false when that
// is past hi. When x is used up exactly at the end of an open interval, it
// is the start of the next one.
func (tl *timeline) latest(x int64) (t int64, ok bool) {
	return tl.search(0, tl.n(), x)
}

// search finds, among intervals lo..hi-1 where the answer lies, the first
// interval j whose end is past x open seconds (cum[j+1] > x), and the
// instant in it where x is reached.
func (tl *timeline) search(lo, hi int, x int64) (int64, bool) {
	iv := tl.iv
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if iv[m+1].cum <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == tl.n() {
		return 0, false
	}
	return iv[lo].start + x - iv[lo].cum, true
}

func buildTimeline(c *Calendar, loc *time.Location, fromYear, toYear int) *timeline {
	tl := &timeline{
		fromYear: fromYear,
		toYear:   toYear,
		lo:       time.Date(fromYear, 1, 1, 0, 0, 0, 0, loc).Unix(),
		hi:       time.Date(toYear, 1, 1, 0, 0, 0, 0, loc).Unix(),
	}
	closed := make(map[Date]bool)
	for _, d := range c.HolidayDates {
		closed[d] = true
	}
	// A holiday observed on the last days of a year may belong to the next.
	for y := fromYear - 1; y <= toYear; y++ {
		for _, h := range c.Holidays {
			if _, obs := h.Calc(y); !obs.IsZero() {
				yy, mm, dd := obs.Date()
				closed[Date{yy, mm, dd}] = true
			}
		}
	}
	var scratch, next []ClockRange
	var spans []span
	for d := time.Date(fromYear, 1, 1, 12, 0, 0, 0, time.UTC); d.Year() < toYear; d = d.AddDate(0, 0, 1) {
		y, m, dd := d.Date()
		if closed[Date{y, m, dd}] {
			continue
		}
		wd := d.Weekday()
		scratch = append(scratch[:0], c.Hours[wd]...)
		for _, e := range c.Exclusions {
			if e.matches(y, m, dd, wd) {
				next = subtractRange(next[:0], scratch, e.Range)
				scratch, next = next, scratch
			}
		}
		spans = appendWallRanges(spans, y, m, dd, scratch, loc)
	}
	// A zone that moves its clock back across midnight puts instants of
	// one date after those of the next: sort before merging.
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for _, sp := range spans {
		if k := len(tl.iv) - 1; k >= 0 && tl.iv[k].end >= sp.start {
			tl.iv[k].end = max(tl.iv[k].end, sp.end)
			continue
		}
		tl.iv = append(tl.iv, interval{start: sp.start, end: sp.end})
	}
	var cum int64
	for i := range tl.iv {
		tl.iv[i].cum = cum
		cum += tl.iv[i].end - tl.iv[i].start
	}
	tl.iv = append(tl.iv, interval{start: math.MaxInt64, end: math.MaxInt64, cum: cum})
	tl.iv = slices.Clip(tl.iv)
	n := tl.n()
	days := (tl.hi-tl.lo)/86400 + 1
	tl.day = make([]int32, days)
	i := 0
	for k := range tl.day {
		ds := tl.lo + int64(k)*86400
		for i < n && tl.iv[i].end <= ds {
			i++
		}
		tl.day[k] = int32(i)
	}
	return tl
}

type span struct{ start, end int64 }

// appendWallRanges appends the instants whose local wall clock on the date
// lies in one of the ranges. Hours are wall-clock time: on a day the clock
// goes back, a range over the repeated hour holds both passes of it; on a
// day it jumps forward, the skipped wall times do not exist. So the day is
// cut into stretches of one UTC offset each, and each range is mapped
// through the offset of each stretch.
func appendWallRanges(dst []span, y int, m time.Month, d int, rs []ClockRange, loc *time.Location) []span {
	if len(rs) == 0 {
		return dst
	}
	wall := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() // the date's wall midnight, read as UTC
	// UTC offsets lie between -12h and +14h: the instants of this wall
	// date lie between these bounds.
	u, last := wall-15*3600, wall+86400+13*3600
	for u < last {
		t := time.Unix(u, 0).In(loc)
		_, off := t.Zone()
		segEnd := last
		if _, zEnd := t.ZoneBounds(); !zEnd.IsZero() && zEnd.Unix() < last {
			segEnd = zEnd.Unix()
		}
		if segEnd <= u {
			// Past a zone's last explicit transition, ZoneBounds can
			// end before t (seen on 31 December of leap years): find
			// the next change of offset ourselves, or the loop would
			// never move on.
			segEnd = nextOffsetChange(loc, u, off, last)
		}
		for _, r := range rs {
			s := max(wall+int64(r.From)*60-int64(off), u)
			e := min(wall+int64(r.To)*60-int64(off), segEnd)
			if e > s {
				dst = append(dst, span{s, e})
			}
		}
		u = segEnd
	}
	return dst
}

// subtractRange appends to dst the parts of rs outside cut.
func subtractRange(dst, rs []ClockRange, cut ClockRange) []ClockRange {
	for _, r := range rs {
		if r.To <= cut.From || r.From >= cut.To {
			dst = append(dst, r)
			continue
		}
		if r.From < cut.From {
			dst = append(dst, ClockRange{r.From, cut.From})
		}
		if r.To > cut.To {
			dst = append(dst, ClockRange{cut.To, r.To})
		}
	}
	return dst
}

// nextOffsetChange is the first instant in (u, last] whose UTC offset is not
// off, or last when there is none: an offset changes at most once in a span
// of two days.
func nextOffsetChange(loc *time.Location, u int64, off int, last int64) int64 {
	if _, o := time.Unix(last, 0).In(loc).Zone(); o == off {
		return last
	}
	lo, hi := u, last
	for hi-lo > 1 {
		m := lo + (hi-lo)/2
		if _, o := time.Unix(m, 0).In(loc).Zone(); o == off {
			lo = m
		} else {
			hi = m
		}
	}
	return hi
}

// latestFrom is latest(x) for an x reached at or after instant t: it gallops
// from t's interval instead of searching the whole timeline, as a due is
// almost always days, not years, away.
func (tl *timeline) latestFrom(t, x int64) (int64, bool) {
	n := tl.n()
	i := int(tl.day[(t-tl.lo)/86400])
	if i >= n || tl.iv[i].cum > x {
		return tl.latest(x)
	}
	// cum[i] <= x: widen the window until it holds the answer.
	step := 1
	for i+step < n && tl.iv[i+step].cum <= x {
		i += step
		step *= 2
	}
	return tl.search(i, min(i+step, n), x)
}
