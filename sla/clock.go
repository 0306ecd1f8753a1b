package sla

import (
	"math"
	"time"
)

// never stands for +∞: a due that no calendar time reaches.
const never = math.MaxInt64

// clock counts a calendar's open seconds in one zone. Open-second values
// are relative to the start of the timeline they come from, and a timeline
// may be replaced by a larger one at any time, so every computation takes
// all its values from one timeline snapshot.
type clock struct {
	z  *zoneTimeline // nil: always open
	tl *timeline     // the last snapshot used
}

func newClock(c *Calendar, tz string) clock {
	if c.always {
		return clock{}
	}
	return clock{z: c.zoneFor(tz)}
}

// span returns a timeline snapshot covering [a, b], a <= b. Instants past
// the years a timeline may cover are clamped to its ends.
func (k *clock) span(a, b int64) (tl *timeline, ca, cb int64) {
	tl = k.tl
	if tl == nil || !tl.covers(a) || !tl.covers(b) {
		tl = k.z.covering(a)
		if !tl.covers(b) {
			tl = k.z.covering(b) // timelines only grow: it covers a too
		}
		k.tl = tl
	}
	return tl, min(max(a, tl.lo), tl.hi), min(max(b, tl.lo), tl.hi)
}

// counted is the number of open seconds in [a, b).
func (k *clock) counted(a, b int64) int64 {
	if b <= a {
		return 0
	}
	if k.z == nil {
		return b - a
	}
	tl, ca, cb := k.span(a, b)
	return tl.open(cb) - tl.open(ca)
}

// after is the latest instant t with counted(from, t) <= d, or never.
func (k *clock) after(from, d int64) int64 {
	if k.z == nil {
		return from + d
	}
	tl, cf, _ := k.span(from, from)
	for {
		if t, ok := tl.latestFrom(cf, tl.open(cf)+d); ok {
			return max(t, from)
		}
		if tl.toYear >= maxYear {
			return never
		}
		tl = k.z.extend(tl.hi + 1)
		k.tl = tl
	}
}

// Counted is the calendar's open time in [a, b) for a case time zone.
func (c *Calendar) Counted(tz string, a, b time.Time) time.Duration {
	k := newClock(c, tz)
	return time.Duration(k.counted(a.Unix(), b.Unix())) * time.Second
}

// Deadline is the latest instant t with Counted(tz, from, t) <= d: when d
// runs out at the end of an open stretch, the start of the next one. It is
// the zero time when the calendar never reaches d.
func (c *Calendar) Deadline(tz string, from time.Time, d time.Duration) time.Time {
	k := newClock(c, tz)
	t := k.after(from.Unix(), int64(d/time.Second))
	if t == never {
		return time.Time{}
	}
	return time.Unix(t, 0).UTC()
}

// OpenStretches calls fn with each open stretch of the calendar that
// overlaps [a, b), clipped to it, oldest first, until fn returns false.
func (c *Calendar) OpenStretches(tz string, a, b time.Time, fn func(from, to time.Time) bool) {
	au, bu := a.Unix(), b.Unix()
	if au >= bu {
		return
	}
	if c.always {
		fn(a, b)
		return
	}
	z := c.zoneFor(tz)
	z.covering(au)
	tl := z.covering(bu) // timelines only grow: this one covers au too
	for i := int(tl.day[(au-tl.lo)/86400]); i < tl.n() && tl.iv[i].start < bu; i++ {
		iv := tl.iv[i]
		if iv.end <= au {
			continue
		}
		if !fn(time.Unix(max(iv.start, au), 0).UTC(), time.Unix(min(iv.end, bu), 0).UTC()) {
			return
		}
	}
}
