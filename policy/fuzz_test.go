package policy

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// FuzzParse checks that Parse never panics, that it fails with located
// errors only, and that what it accepts is a policy the engine can use:
// it passes Validate, and evaluating cases under it works.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yml")
	presets, _ := filepath.Glob("presets/*.yml")
	for _, file := range append(seeds, presets...) {
		f.Add(readFile(f, file))
	}
	created := time.Date(2026, 3, 6, 18, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := Parse("fuzz.yml", data)
		if err != nil {
			var es strictyaml.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v, want strictyaml.Errors", err, err)
			}
			if ps != nil {
				t.Fatal("policies returned with errors")
			}
			return
		}
		for name, p := range ps {
			if err := p.Validate(); err != nil {
				t.Fatalf("policy %s: %v", name, err)
			}
			for cname, c := range p.Calendars {
				if err := c.Validate(); err != nil {
					t.Fatalf("policy %s: calendar %s: %v", name, cname, err)
				}
			}
			for tname, tier := range p.Tiers {
				for _, goals := range tier.Targets {
					if goals == nil {
						continue
					}
					for sev := 1; sev <= 4; sev++ {
						if g := goals[sev]; g.Kind == sla.GoalDuration && p.Calendars[g.Calendar.Name] != g.Calendar {
							t.Fatalf("policy %s: tier %s: goal %d counts in a calendar the policy does not list", name, tname, sev)
						}
					}
				}
				e := &sla.Evaluator{Policy: p}
				for sev := 0; sev <= 4; sev++ {
					c := sla.Case{ID: "C-1", Tier: tname, Severity: sev, Timezone: "Asia/Kolkata", Created: created}
					rs, err := e.Evaluate(&c, created.Add(72*time.Hour), nil)
					if err != nil {
						t.Fatalf("policy %s: tier %s: %v", name, tname, err)
					}
					for _, r := range rs {
						if r.HasDue && r.Due < created.Unix() {
							t.Fatalf("policy %s: tier %s: due %v before created", name, tname, r.DueTime())
						}
					}
				}
			}
		}
	})
}
