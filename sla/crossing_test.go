package sla

import (
	"testing"
	"time"
)

// TestReaches checks the crossing instants against Evaluate: at the instant
// the target is in warning (breached), one second before it is not.
func TestReaches(t *testing.T) {
	p := testPolicy(t)
	e := &Evaluator{Policy: p, Customers: map[string]Customer{"acme": {Timezone: "Europe/Paris"}}}
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		c      Case
		at     string
		target Target
	}{
		{"premium first response, always open", Case{ID: "1", Tier: "premium", Severity: 2, Created: ts("2026-03-02T07:30:00Z")}, "2026-03-02T07:31:00Z", FirstResponse},
		{"premium resolution after a pause", Case{ID: "2", Tier: "premium", Severity: 2, Created: ts("2026-03-02T07:30:00Z"),
			FirstResponse: ts("2026-03-02T07:40:00Z"),
			StatusHistory: []StatusChange{{At: ts("2026-03-02T08:00:00Z"), Status: StatusPendingCustomer}, {At: ts("2026-03-02T09:00:00Z"), Status: StatusOpen}}},
			"2026-03-02T09:10:00Z", Resolution},
		{"premium resolution, warning before a pause", Case{ID: "3", Tier: "premium", Severity: 2, Created: ts("2026-03-02T07:30:00Z"),
			StatusHistory: []StatusChange{{At: ts("2026-03-02T11:00:00Z"), Status: StatusPendingCustomer}, {At: ts("2026-03-02T13:00:00Z"), Status: StatusOpen}}},
			"2026-03-02T13:05:00Z", Resolution},
		{"basic first response over a night", Case{ID: "4", Customer: "acme", Tier: "basic", Severity: 2, Created: ts("2026-03-02T18:00:00Z")}, "2026-03-02T18:30:00Z", FirstResponse},
		{"basic first response over a weekend and a lunch", Case{ID: "5", Customer: "acme", Tier: "basic", Severity: 3, Created: ts("2026-03-06T08:00:00Z")}, "2026-03-06T09:00:00Z", FirstResponse},
		{"breached already", Case{ID: "6", Tier: "premium", Severity: 1, Created: ts("2026-03-02T07:30:00Z")}, "2026-03-02T12:00:00Z", FirstResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := ts(tt.at)
			rs, err := e.Evaluate(&tt.c, at, nil)
			if err != nil {
				t.Fatal(err)
			}
			var r *Result
			for i := range rs {
				if rs[i].Target == tt.target {
					r = &rs[i]
				}
			}
			if r == nil || !r.State.Running() || r.State == StatePaused {
				t.Fatalf("target not running at %s: %+v", tt.at, r)
			}
			state := func(when time.Time) State {
				rs, err := e.Evaluate(&tt.c, when, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range rs {
					if x.Target == tt.target {
						return x.State
					}
				}
				t.Fatal("target missing")
				return 0
			}
			w, ok := e.Reaches(&tt.c, at, tt.target, p.WarningElapsed(r.Goal))
			if !ok {
				t.Fatal("no warning crossing")
			}
			if s := state(w); s != StateWarning {
				t.Errorf("warning crossing %s: state %s there", w, s)
			}
			if s := state(w.Add(-time.Second)); s != StateOK && s != StatePaused {
				t.Errorf("warning crossing %s: state %s one second before", w, s)
			}
			b, ok := e.Reaches(&tt.c, at, tt.target, r.Goal+1)
			if !ok {
				t.Fatal("no breach crossing")
			}
			if s := state(b); s != StateBreached {
				t.Errorf("breach %s: state %s there", b, s)
			}
			if s := state(b.Add(-time.Second)); s == StateBreached {
				t.Errorf("breach %s: already breached one second before", b)
			}
			if want := r.DueTime().Add(time.Second); !b.Equal(want) {
				t.Errorf("breach %s, want due + 1s = %s", b, want)
			}
		})
	}
}

func TestReachesNotRunning(t *testing.T) {
	p := testPolicy(t)
	e := &Evaluator{Policy: p}
	created := time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC)
	paused := Case{ID: "p", Tier: "premium", Severity: 2, Created: created,
		StatusHistory: []StatusChange{{At: created.Add(time.Minute), Status: StatusPendingCustomer}}}
	if _, ok := e.Reaches(&paused, created.Add(time.Hour), Resolution, 100); ok {
		t.Error("a paused target has a crossing")
	}
	met := Case{ID: "m", Tier: "premium", Severity: 2, Created: created, FirstResponse: created.Add(time.Minute)}
	if _, ok := e.Reaches(&met, created.Add(time.Hour), FirstResponse, 100); ok {
		t.Error("a stopped target has a crossing")
	}
}

func TestWarningElapsed(t *testing.T) {
	for _, tt := range []struct {
		ratio      float64
		goal, want int64
	}{{0.75, 1800, 1350}, {0.75, 7, 6}, {1, 60, 60}, {0.1, 3, 1}, {0.7, 10, 7}} {
		p := &Policy{WarningRatio: tt.ratio}
		if got := p.WarningElapsed(tt.goal); got != tt.want {
			t.Errorf("ratio %g goal %d: %d, want %d", tt.ratio, tt.goal, got, tt.want)
		}
	}
}
