package demo

import (
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/policy"
	"github.com/support-sla/support_sla_exporter/sla"
)

// TestEveryStateUnderPreset runs the demo as a first run does, under the
// built-in veeam preset: every state shows, except paused when the preset
// has no pausable target.
func TestEveryStateUnderPreset(t *testing.T) {
	p, err := policy.Preset("veeam")
	if err != nil {
		t.Fatal(err)
	}
	pausable := false
	for _, tier := range p.Tiers {
		for _, goals := range tier.Targets {
			for sev := 1; goals != nil && sev <= 4; sev++ {
				pausable = pausable || (goals[sev].Kind == sla.GoalDuration && goals[sev].Pausable)
			}
		}
	}
	for _, s := range instants {
		now := mustTime(t, s)
		counts := states(t, p, NewSimulator(DefaultConfig(), p, func() time.Time { return now }).CasesAt(now), now)
		t.Logf("at %s: %v", s, counts)
		for st := range sla.NumStates {
			if counts[st] == 0 && (st != sla.StatePaused || pausable) {
				t.Errorf("at %s: no target %s; all: %v", s, st, counts)
			}
		}
	}
}
