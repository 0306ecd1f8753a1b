package demo

import (
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
)

// veeamPolicy builds by hand the tiers and first-response goals of the
// veeam preset (shared/spec/seed-policies.md). With demoResolution it adds
// pausable resolution goals, which the preset does not have: without a
// pausable target no case is ever in state paused.
func veeamPolicy(t testing.TB, demoResolution bool) *sla.Policy {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	weekdays := func(from, to int) (h [7][]sla.ClockRange) {
		for d := time.Monday; d <= time.Friday; d++ {
			h[d] = []sla.ClockRange{{From: from * 60, To: to * 60}}
		}
		return h
	}
	business := &sla.Calendar{Name: "business", Location: paris, CustomerTimezone: true, Hours: weekdays(8, 20)}
	evaluation := &sla.Calendar{Name: "evaluation", Location: paris, CustomerTimezone: true, Hours: weekdays(8, 17)}
	always := sla.AlwaysOpen()
	for _, c := range []*sla.Calendar{business, evaluation} {
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	// goals takes "none", "best_effort" or a duration per severity 1..4.
	goals := func(cal *sla.Calendar, pausable bool, g ...string) *sla.Goals {
		var out sla.Goals
		for i, s := range g {
			switch s {
			case "none":
			case "best_effort":
				out[i+1].Kind = sla.GoalBestEffort
			default:
				d, err := time.ParseDuration(s)
				if err != nil {
					t.Fatal(err)
				}
				out[i+1] = sla.Goal{Kind: sla.GoalDuration, Duration: d, Calendar: cal, Pausable: pausable}
			}
		}
		return &out
	}
	tier := func(name string, cal *sla.Calendar, fr, res *sla.Goals) *sla.Tier {
		return &sla.Tier{Name: name, Calendar: cal, Targets: [sla.NumTargets]*sla.Goals{fr, res}}
	}
	var premRes, prodRes, basicRes *sla.Goals
	if demoResolution {
		premRes = goals(always, true, "4h", "8h", "24h", "72h")
		prodRes = goals(always, true, "8h", "24h", "72h", "120h")
		basicRes = goals(business, true, "12h", "36h", "72h", "120h")
	}
	p := &sla.Policy{
		Name:            "veeam",
		DefaultTier:     "basic",
		DefaultSeverity: 3,
		WarningRatio:    sla.DefaultWarningRatio,
		PauseStatuses:   []sla.Status{sla.StatusPendingCustomer},
		Calendars:       map[string]*sla.Calendar{"business": business, "evaluation": evaluation},
		Tiers: map[string]*sla.Tier{
			"premium":    tier("premium", always, goals(always, false, "30m", "30m", "30m", "30m"), premRes),
			"production": tier("production", always, goals(always, false, "1h", "3h", "6h", "8h"), prodRes),
			"basic":      tier("basic", business, goals(business, false, "2h", "8h", "12h", "24h"), basicRes),
			"evaluation": tier("evaluation", evaluation, goals(evaluation, false, "none", "8h", "12h", "24h"), nil),
			"free":       tier("free", nil, goals(nil, false, "none", "best_effort", "best_effort", "best_effort"), nil),
		},
		Exclude: []sla.ExclusionRule{{Label: "experimental"}, {Type: "feedback"}, {Type: "enquiry"}},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}
