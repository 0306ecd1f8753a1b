package sla

import (
	"math"
	"time"
)

// never stands for +∞: a due that no calendar time reaches.
const never = math.MaxInt64

// clock counts a calendar's open seconds in one zone. The zero origin is
// arbitrary: only differences of open() mean anything.
type clock struct {
	z  *zoneTimeline // nil: always open
	tl *timeline
}

func newClock(c *Calendar, tz string) clock {
	if c.always {
		return clock{}
	}
	return clock{z: c.zoneFor(tz)}
}

// open is the number of open seconds before t, from the clock's origin.
func (k *clock) open(t int64) int64 {
	if k.z == nil {
		return t
	}
	if k.tl == nil || !k.tl.covers(t) {
		k.tl = k.z.covering(t)
	}
	return k.tl.open(t)
}

// counted is the number of open seconds in [a, b).
func (k *clock) counted(a, b int64) int64 {
	if b <= a {
		return 0
	}
	return k.open(b) - k.open(a)
}

// latest is the latest instant t with open(t) <= x, searching from
// instant from on (open(from) <= x), or never.
func (k *clock) latest(from, x int64) int64 {
	if k.z == nil {
		return x
	}
	k.open(from) // make sure the timeline covers from: its origin must not move
	for {
		if t, ok := k.tl.latest(x); ok {
			return t
		}
		if k.tl.toYear >= maxYear {
			return never
		}
		// Grow forward: one past the end is outside the timeline.
		k.tl = k.z.extend(k.tl.hi + 1)
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
	f := from.Unix()
	t := k.latest(f, k.open(f)+int64(d/time.Second))
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
	for i := int(tl.day[(au-tl.lo)/86400]); i < len(tl.start) && tl.start[i] < bu; i++ {
		if tl.end[i] <= au {
			continue
		}
		if !fn(time.Unix(max(tl.start[i], au), 0).UTC(), time.Unix(min(tl.end[i], bu), 0).UTC()) {
			return
		}
	}
}
