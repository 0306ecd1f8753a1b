package sla

import "time"

// Interval is a half-open stretch of time [From, To).
type Interval struct{ From, To time.Time }

// Duration is the interval's length.
func (i Interval) Duration() time.Duration { return i.To.Sub(i.From) }

// Explanation is how one case's targets were computed, for people.
type Explanation struct {
	Case         *Case
	At           time.Time
	Tier         string
	TierFrom     string // "case", "customers table" or "policy default"
	Timezone     string // the case's time zone ("" when unknown)
	TimezoneFrom string // "case" or "customers table"
	ExcludedBy   *ExclusionRule
	Targets      []TargetExplanation
}

// TargetExplanation is one target's computation.
type TargetExplanation struct {
	Result
	GoalKind GoalKind
	// Location is the zone the calendar counted in.
	Location *time.Location
	// Counted are the stretches that counted: open in the calendar and
	// not paused, from creation to the stop instant or the explained
	// instant.
	Counted []Interval
	// Pauses are the paused stretches taken out of the clock.
	Pauses []Interval
}

// Explain evaluates a case at instant at and says how.
func (e *Evaluator) Explain(c *Case, at time.Time) (*Explanation, error) {
	ex := &Explanation{Case: c, At: at, Tier: e.Tier(c), Timezone: e.Timezone(c)}
	switch {
	case c.Tier != "":
		ex.TierFrom = "case"
	case e.Customers[c.Customer].Tier != "":
		ex.TierFrom = "customers table"
	default:
		ex.TierFrom = "policy default"
	}
	if c.Timezone != "" {
		ex.TimezoneFrom = "case"
	} else if ex.Timezone != "" {
		ex.TimezoneFrom = "customers table"
	}
	for i := range e.Policy.Exclude {
		if e.Policy.Exclude[i].Matches(c) {
			ex.ExcludedBy = &e.Policy.Exclude[i]
			break
		}
	}
	results, err := e.Evaluate(c, at, nil)
	if err != nil {
		return nil, err
	}
	tier := e.Policy.Tiers[ex.Tier]
	for _, r := range results {
		te := TargetExplanation{Result: r, GoalKind: tier.Targets[r.Target][r.Severity].Kind}
		if r.State.Measured() {
			te.Location = r.Calendar.LocationFor(ex.Timezone)
			end := at
			if r.HasStopped {
				end = r.StoppedTime()
			}
			te.Pauses, te.Counted = e.countedStretches(c, &r, ex.Timezone, end)
		}
		ex.Targets = append(ex.Targets, te)
	}
	return ex, nil
}

// countedStretches lists the pauses and the counted stretches of a
// measured target from the case's creation to end.
func (e *Evaluator) countedStretches(c *Case, r *Result, tz string, end time.Time) (paused, counted []Interval) {
	if r.Pausable {
		ps := pauses{c: c, pause: &e.Policy.pause, from: c.Created.Unix(), to: end.Unix()}
		for s, t, ok := ps.next(); ok; s, t, ok = ps.next() {
			paused = append(paused, Interval{time.Unix(s, 0).UTC(), time.Unix(t, 0).UTC()})
		}
	}
	r.Calendar.OpenStretches(tz, c.Created, end, func(from, to time.Time) bool {
		for _, p := range paused {
			if !p.To.After(from) || !p.From.Before(to) {
				continue
			}
			if p.From.After(from) {
				counted = append(counted, Interval{from, p.From})
			}
			from = p.To
			if !from.Before(to) {
				return true
			}
		}
		counted = append(counted, Interval{from, to})
		return true
	})
	return paused, counted
}
