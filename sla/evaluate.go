package sla

import (
	"fmt"
	"time"
)

// State is the state of one target of one case.
type State uint8

// The states, in the order the spec decides them.
const (
	StateOK State = iota
	StateWarning
	StatePaused
	StateBreached
	StateMet
	StateMissed
	StateNotApplicable
	StateBestEffort
	StateExcluded
	NumStates
)

var stateNames = [NumStates]string{"ok", "warning", "paused", "breached", "met", "missed", "not_applicable", "best_effort", "excluded"}

func (s State) String() string {
	if s < NumStates {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Running reports whether the target's clock is still going.
func (s State) Running() bool { return s <= StateBreached }

// Measured reports whether the state has a goal and an elapsed time.
func (s State) Measured() bool { return s <= StateMissed }

// Result is the state of one target of one case at an instant.
// Instants are unix seconds.
type Result struct {
	Target   Target
	State    State
	Tier     string
	Severity int // the severity that sets the goal

	// For measured states only (State.Measured):
	Goal    int64 // seconds
	Elapsed int64 // counted seconds
	Due     int64 // valid when HasDue
	HasDue  bool

	Stopped    int64 // valid when HasStopped
	HasStopped bool

	// Calendar is the calendar the clock counted in, nil when not measured.
	Calendar *Calendar
	// Pausable is whether pauses stopped this target's clock.
	Pausable bool
}

// Remaining is the goal minus the elapsed time; negative once breached.
func (r *Result) Remaining() int64 { return r.Goal - r.Elapsed }

// Consumed is the elapsed share of the goal.
func (r *Result) Consumed() float64 {
	if r.Goal == 0 {
		return 0
	}
	return float64(r.Elapsed) / float64(r.Goal)
}

// DueTime is the due instant, zero when there is none.
func (r *Result) DueTime() time.Time { return unixOrZero(r.Due, r.HasDue) }

// StoppedTime is the stop instant, zero when the target runs.
func (r *Result) StoppedTime() time.Time { return unixOrZero(r.Stopped, r.HasStopped) }

// Decided is the instant that puts the outcome in a month: the stop
// instant when met, the due instant when missed or breached. ok=false for
// every other state.
func (r *Result) Decided() (t int64, ok bool) {
	switch r.State {
	case StateMet:
		return r.Stopped, r.HasStopped
	case StateMissed, StateBreached:
		return r.Due, r.HasDue
	}
	return 0, false
}

func unixOrZero(t int64, ok bool) time.Time {
	if !ok {
		return time.Time{}
	}
	return time.Unix(t, 0).UTC()
}

// Evaluator evaluates cases under one policy and customers table.
// It is safe for concurrent use.
type Evaluator struct {
	Policy    *Policy
	Customers map[string]Customer
}

// UnknownTierError says a case names a tier its policy does not have.
type UnknownTierError struct {
	Case, Tier, Policy string
}

func (e *UnknownTierError) Error() string {
	return fmt.Sprintf("case %s: tier %q is not in policy %s", e.Case, e.Tier, e.Policy)
}

// Tier is the tier that applies to the case: its own, else the customers
// table's, else the policy's default.
func (e *Evaluator) Tier(c *Case) string {
	if c.Tier != "" {
		return c.Tier
	}
	if cu, ok := e.Customers[c.Customer]; ok && cu.Tier != "" {
		return cu.Tier
	}
	return e.Policy.DefaultTier
}

// Timezone is the case's time zone: its own, else the customers table's.
func (e *Evaluator) Timezone(c *Case) string {
	if c.Timezone != "" {
		return c.Timezone
	}
	return e.Customers[c.Customer].Timezone
}

// Excluded reports whether an exclusion rule of the policy matches the case.
func (e *Evaluator) Excluded(c *Case) bool {
	for i := range e.Policy.Exclude {
		if e.Policy.Exclude[i].Matches(c) {
			return true
		}
	}
	return false
}

// Evaluate appends to dst the state at instant at of every target of the
// case's tier, in target order. A case created after at does not exist yet
// and appends nothing. It does not allocate when dst has room.
func (e *Evaluator) Evaluate(c *Case, at time.Time, dst []Result) ([]Result, error) {
	return e.evaluate(c, at.Unix(), dst)
}

func (e *Evaluator) evaluate(c *Case, at int64, dst []Result) ([]Result, error) {
	created := c.Created.Unix()
	if created > at {
		return dst, nil
	}
	p := e.Policy
	tierName := e.Tier(c)
	tier := p.Tiers[tierName]
	if tier == nil {
		return dst, &UnknownTierError{Case: c.ID, Tier: tierName, Policy: p.Name}
	}
	excluded := e.Excluded(c)
	tz := e.Timezone(c)
	// One clock per calendar per case: the zone lookup hashes tz.
	var clk clock
	var clkCal *Calendar
	for k := Target(0); k < NumTargets; k++ {
		goals := tier.Targets[k]
		if goals == nil {
			continue
		}
		r := Result{Target: k, Tier: tierName}
		end := at
		if stop, ok := stopInstant(c, k, at); ok {
			r.Stopped, r.HasStopped = max(stop, created), true
			end = r.Stopped
		}
		r.Severity = c.severityAt(end)
		if r.Severity < 1 || r.Severity > 4 {
			r.Severity = p.DefaultSeverity
		}
		g := &goals[r.Severity]
		switch {
		case excluded:
			r.State = StateExcluded
		case g.Kind == GoalNone:
			r.State = StateNotApplicable
		case g.Kind == GoalBestEffort:
			r.State = StateBestEffort
		default:
			if g.Calendar != clkCal {
				clk, clkCal = newClock(g.Calendar, tz), g.Calendar
			}
			e.measure(c, &r, g, created, end, at, &clk)
		}
		dst = append(dst, r)
	}
	return dst, nil
}

// stopInstant is when the target stopped, if it did by at. A case resolved
// without a first response stopped its first-response target then: a
// resolution is a response.
func stopInstant(c *Case, k Target, at int64) (int64, bool) {
	if k == FirstResponse && !c.FirstResponse.IsZero() {
		if t := c.FirstResponse.Unix(); t <= at {
			return t, true
		}
	}
	if !c.Resolved.IsZero() {
		if t := c.Resolved.Unix(); t <= at {
			return t, true
		}
	}
	return 0, false
}

// measure runs the clock of a target with a duration goal from created to
// end and sets the goal, elapsed, due and state.
func (e *Evaluator) measure(c *Case, r *Result, g *Goal, created, end, at int64, k *clock) {
	r.Goal = int64(g.Duration / time.Second)
	r.Calendar = g.Calendar
	r.Pausable = g.Pausable
	pause := &e.Policy.pause
	if !g.Pausable {
		pause = nil
	}
	paused := !r.HasStopped && pause != nil && pause[c.statusAt(at)]
	// One pass over the pauses gives both the elapsed time and where the
	// goal runs out, each open-seconds value read once from one snapshot.
	var tl *timeline
	var oCreated, oEnd int64
	if k.z == nil {
		oCreated, oEnd = created, end
	} else {
		var cc, ce int64
		tl, cc, ce = k.span(created, end)
		oCreated, oEnd = tl.open(cc), tl.open(ce)
	}
	elapsed := oEnd - oCreated
	rem, cur, found := r.Goal, created, false
	oCur := oCreated
	ps := pauses{c: c, pause: pause, from: created, to: end}
	for s, t, ok := ps.next(); ok; s, t, ok = ps.next() {
		os, ot := s, t
		if tl != nil {
			os, ot = tl.open(s), tl.open(t)
		}
		elapsed -= ot - os
		if !found {
			if avail := os - oCur; avail > rem {
				found = true
			} else {
				rem -= avail
				cur, oCur = t, ot
			}
		}
	}
	r.Elapsed = elapsed
	if paused && r.Elapsed <= r.Goal {
		r.State = StatePaused
		return
	}
	r.Due, r.HasDue = k.after(cur, rem), true
	if r.Due == never {
		r.HasDue = false
	}
	switch {
	case r.HasStopped && r.Elapsed <= r.Goal:
		r.State = StateMet
	case r.HasStopped:
		r.State = StateMissed
	case r.Elapsed > r.Goal:
		r.State = StateBreached
	case float64(r.Elapsed) >= e.Policy.WarningRatio*float64(r.Goal):
		r.State = StateWarning
	default:
		r.State = StateOK
	}
}

// pauses iterates over the paused stretches of a case within [from, to),
// oldest first. A nil pause set yields none.
type pauses struct {
	c        *Case
	pause    *[numStatuses]bool
	from, to int64
	i        int
}

func (p *pauses) next() (s, t int64, ok bool) {
	if p.pause == nil {
		return 0, 0, false
	}
	h := p.c.StatusHistory
	for p.i < len(h) {
		i := p.i
		p.i++
		s = h[i].At.Unix()
		if s >= p.to {
			p.i = len(h)
			return 0, 0, false
		}
		if !p.pause[h[i].Status] {
			continue
		}
		// Merge the following entries that keep the case paused.
		t = p.to
		for p.i < len(h) {
			n := h[p.i].At.Unix()
			if n >= p.to {
				break
			}
			if !p.pause[h[p.i].Status] {
				t = n
				break
			}
			p.i++
		}
		s = max(s, p.from)
		if t > s {
			return s, t, true
		}
	}
	return 0, 0, false
}
