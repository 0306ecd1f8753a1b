package sla

import "math"

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
