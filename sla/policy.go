package sla

import (
	"fmt"
	"time"
)

// Target is a kind of SLA target.
type Target uint8

// The target kinds.
const (
	FirstResponse Target = iota
	Resolution
	NumTargets
)

var targetNames = [NumTargets]string{"first_response", "resolution"}

func (t Target) String() string {
	if t < NumTargets {
		return targetNames[t]
	}
	return fmt.Sprintf("target(%d)", uint8(t))
}

// ParseTarget parses a target name.
func ParseTarget(s string) (Target, error) {
	for i, n := range targetNames {
		if n == s {
			return Target(i), nil
		}
	}
	return 0, fmt.Errorf("unknown target %q (want first_response or resolution)", s)
}

// PausableByDefault reports whether pauses stop the target's clock unless a
// goal says otherwise: a first response is owed even while the customer is
// away; a resolution is not.
func (t Target) PausableByDefault() bool { return t == Resolution }

// GoalKind says what a goal promises.
type GoalKind uint8

// The goal kinds. The zero value, GoalNone, is what a severity missing from a
// target's goals gets.
const (
	GoalNone       GoalKind = iota // no SLA: state not_applicable
	GoalBestEffort                 // no figure: state best_effort
	GoalDuration                   // a figure: the clock runs
)

// Goal is what a tier promises for one target and severity.
type Goal struct {
	Kind     GoalKind
	Duration time.Duration // whole seconds, > 0, for GoalDuration
	Calendar *Calendar     // the calendar the clock counts in; never nil for GoalDuration
	Pausable bool          // pauses stop the clock
}

// Goals holds a target's goals by severity; index 0 is unused.
type Goals [5]Goal

// Tier is a support tier of a policy.
type Tier struct {
	Name     string
	Calendar *Calendar
	// Targets holds the tier's goals by target kind; nil when the tier has
	// no such target.
	Targets [NumTargets]*Goals
}

// ExclusionRule matches cases that have no SLA. Every non-empty field must
// match.
type ExclusionRule struct {
	Label    string // the case has this label
	Type     string // the case has this type
	Customer string // the case is this customer's
}

// Matches reports whether the rule matches the case.
func (r ExclusionRule) Matches(c *Case) bool {
	if r.Label == "" && r.Type == "" && r.Customer == "" {
		return false
	}
	if r.Type != "" && r.Type != c.Type {
		return false
	}
	if r.Customer != "" && r.Customer != c.Customer {
		return false
	}
	if r.Label != "" {
		found := false
		for _, l := range c.Labels {
			if l == r.Label {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Defaults of a policy.
const (
	DefaultWarningRatio = 0.75
	DefaultSeverity     = 3
)

// Policy is a complete SLA policy: tiers, their calendars and goals.
type Policy struct {
	Name            string
	DefaultTier     string
	DefaultSeverity int
	WarningRatio    float64
	PauseStatuses   []Status
	Calendars       map[string]*Calendar
	Tiers           map[string]*Tier
	Exclude         []ExclusionRule

	pause [numStatuses]bool
}

// Validate checks the policy's own consistency and prepares it for
// evaluation; call it once after building a policy by hand. The policy file
// loader calls it for you.
func (p *Policy) Validate() error {
	if p.DefaultSeverity < 1 || p.DefaultSeverity > 4 {
		return fmt.Errorf("default_severity: %d is not between 1 and 4", p.DefaultSeverity)
	}
	if p.WarningRatio <= 0 || p.WarningRatio > 1 {
		return fmt.Errorf("warning_ratio: %g is not in (0, 1]", p.WarningRatio)
	}
	if p.DefaultTier != "" {
		if _, ok := p.Tiers[p.DefaultTier]; !ok {
			return fmt.Errorf("default_tier: unknown tier %q", p.DefaultTier)
		}
	}
	for name, t := range p.Tiers {
		for k, g := range t.Targets {
			if g == nil {
				continue
			}
			for sev := 1; sev <= 4; sev++ {
				if g[sev].Kind == GoalDuration && (g[sev].Duration < time.Second || g[sev].Calendar == nil) {
					return fmt.Errorf("tiers.%s.%s.%d: a duration goal needs a positive duration and a calendar", name, Target(k), sev)
				}
			}
		}
	}
	p.pause = [numStatuses]bool{}
	for _, s := range p.PauseStatuses {
		if s >= numStatuses {
			return fmt.Errorf("pause_statuses: invalid status")
		}
		p.pause[s] = true
	}
	return nil
}

// Customer is what the customers table knows about a customer.
type Customer struct {
	Tier     string
	Timezone string
}
