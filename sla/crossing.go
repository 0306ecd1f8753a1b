package sla

import (
	"math"
	"time"
)

// WarningElapsed is the least elapsed time, in seconds, at which a
// running target with this goal is in warning: float64(elapsed) >=
// WarningRatio × goal, as Evaluate decides it.
func (p *Policy) WarningElapsed(goal int64) int64 {
	w := p.WarningRatio * float64(goal)
	a := int64(math.Ceil(w))
	for a > 0 && float64(a-1) >= w {
		a--
	}
	for float64(a) < w {
		a++
	}
	return a
}

// Reaches is the first instant at which target k of the case, running and
// not paused at instant at, has counted elapsed seconds: the instant from
// which Evaluate gives an Elapsed of at least elapsed, if the case does not
// change after at. It may be before at. ok is false when the target is not
// running unpaused with a duration goal at at, or when its calendar never
// counts that much. The warning crossing is Reaches(WarningElapsed(goal)),
// the breach Reaches(goal+1): one second after the due, when the remaining
// time turns negative.
func (e *Evaluator) Reaches(c *Case, at time.Time, k Target, elapsed int64) (time.Time, bool) {
	var buf [NumTargets]Result
	rs, err := e.evaluate(c, at.Unix(), buf[:0])
	if err != nil {
		return time.Time{}, false
	}
	var r *Result
	for i := range rs {
		if rs[i].Target == k {
			r = &rs[i]
		}
	}
	if r == nil || !r.State.Measured() || !r.State.Running() || r.State == StatePaused {
		return time.Time{}, false
	}
	created := c.Created.Unix()
	if elapsed <= 0 {
		return time.Unix(created, 0).UTC(), true
	}
	clk := newClock(r.Calendar, e.Timezone(c))
	pause := &e.Policy.pause
	if !r.Pausable {
		pause = nil
	}
	// The latest instant with elapsed-1 counted seconds, as measure finds
	// the due; the next second counts, so it reaches elapsed one second on.
	end := at.Unix()
	rem, cur := elapsed-1, created
	var tl *timeline
	oCur := created
	if clk.z != nil {
		var cc int64
		tl, cc, _ = clk.span(created, end)
		oCur = tl.open(cc)
	}
	ps := pauses{c: c, pause: pause, from: created, to: end}
	for s, t, ok := ps.next(); ok; s, t, ok = ps.next() {
		os, ot := s, t
		if tl != nil {
			os, ot = tl.open(s), tl.open(t)
		}
		if avail := os - oCur; avail > rem {
			break
		} else {
			rem -= avail
			cur, oCur = t, ot
		}
	}
	t := clk.after(cur, rem)
	if t == never {
		return time.Time{}, false
	}
	return time.Unix(t+1, 0).UTC(), true
}
