package demo

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// newSim is a simulator with the default configuration but the seed, its
// clock stopped at now.
func newSim(t testing.TB, seed int64, p *sla.Policy, now time.Time) *Simulator {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Seed = seed
	return NewSimulator(cfg, p, func() time.Time { return now })
}

func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cutBack is what a case seen at some instant looked like at the earlier
// instant at: what happened later is taken out.
func cutBack(c sla.Case, at time.Time) sla.Case {
	if c.FirstResponse.After(at) {
		c.FirstResponse = time.Time{}
	}
	if c.Resolved.After(at) {
		c.Resolved = time.Time{}
	}
	var sh []sla.StatusChange
	for _, h := range c.StatusHistory {
		if !h.At.After(at) {
			sh = append(sh, h)
		}
	}
	c.StatusHistory = sh
	c.Status = sla.StatusOpen
	if len(sh) > 0 {
		c.Status = sh[len(sh)-1].Status
	}
	var vh []sla.SeverityChange
	for _, h := range c.SeverityHistory {
		if !h.At.After(at) {
			vh = append(vh, h)
		}
	}
	// A history of the initial severity alone is no change at all.
	if len(vh) > 0 {
		c.Severity = vh[len(vh)-1].Severity
	}
	if len(vh) < 2 {
		vh = nil
	}
	c.SeverityHistory = vh
	return c
}

// states evaluates every case at at and counts the states.
func states(t testing.TB, p *sla.Policy, cases []sla.Case, at time.Time) [sla.NumStates]int {
	t.Helper()
	ev := &sla.Evaluator{Policy: p}
	var counts [sla.NumStates]int
	var buf []sla.Result
	for i := range cases {
		var err error
		buf, err = ev.Evaluate(&cases[i], at, buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range buf {
			counts[r.State]++
		}
	}
	return counts
}
