package policy

import (
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
)

func instant(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPresetClock checks the presets' calendars through the engine: the
// dues and states that their cases get.
func TestPresetClock(t *testing.T) {
	overrides := string(readFile(t, "testdata/good/overrides.yml"))
	tests := []struct {
		name   string
		policy string // a preset, or a policy of testdata/good/overrides.yml
		c      sla.Case
		at     string // default: an hour after created
		target sla.Target
		state  sla.State
		sev    int    // the severity that set the goal, when not the case's
		due    string // RFC 3339; "" when there is none
	}{
		// Business hours are the customer's: 19:00–20:00 on Friday, then
		// 08:00–15:00 on Monday, Paris time (UTC+1 in March).
		{name: "veeam basic sev 2 from Friday evening", policy: "veeam",
			c:      sla.Case{Tier: "basic", Severity: 2, Timezone: "Europe/Paris", Created: time.Date(2026, 3, 6, 18, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, due: "2026-03-09T15:00:00+01:00"},
		// A case with no zone counts in UTC.
		{name: "veeam basic sev 1 before opening, UTC", policy: "veeam",
			c:      sla.Case{Tier: "basic", Severity: 1, Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, due: "2026-03-09T10:00:00Z"},
		{name: "veeam basic sev 1 in Tokyo", policy: "veeam",
			c:      sla.Case{Tier: "basic", Severity: 1, Timezone: "Asia/Tokyo", Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, due: "2026-03-09T18:00:00+09:00"},
		// Without a severity a case is severity 3: 12 business hours.
		{name: "veeam default severity", policy: "veeam",
			c:      sla.Case{Timezone: "Europe/Paris", Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, sev: 3, due: "2026-03-10T08:00:00+01:00"},
		{name: "veeam evaluation sev 1", policy: "veeam",
			c:      sla.Case{Tier: "evaluation", Severity: 1, Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateNotApplicable},
		{name: "veeam evaluation sev 2, 08:00–17:00", policy: "veeam",
			c:      sla.Case{Tier: "evaluation", Severity: 2, Created: time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, due: "2026-03-10T15:00:00Z"},
		{name: "veeam free sev 1", policy: "veeam",
			c:      sla.Case{Tier: "free", Severity: 1, Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateNotApplicable},
		{name: "veeam free sev 3", policy: "veeam",
			c:      sla.Case{Tier: "free", Severity: 3, Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateBestEffort},
		{name: "veeam premium sev 4 on a Sunday, warning", policy: "veeam",
			c:      sla.Case{Tier: "premium", Severity: 4, Timezone: "Europe/Paris", Created: time.Date(2026, 3, 8, 3, 0, 0, 0, time.UTC)},
			at:     "2026-03-08T03:23:00Z",
			target: sla.FirstResponse, state: sla.StateWarning, due: "2026-03-08T03:30:00Z"},
		{name: "veeam production sev 2, breached", policy: "veeam",
			c:      sla.Case{Tier: "production", Severity: 2, Created: time.Date(2026, 3, 8, 3, 0, 0, 0, time.UTC)},
			at:     "2026-03-08T06:00:01Z",
			target: sla.FirstResponse, state: sla.StateBreached, due: "2026-03-08T06:00:00Z"},
		{name: "veeam experimental", policy: "veeam",
			c:      sla.Case{Tier: "premium", Severity: 1, Labels: []string{"x", "experimental"}, Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateExcluded},
		{name: "veeam website feedback", policy: "veeam",
			c:      sla.Case{Tier: "premium", Severity: 1, Type: "feedback", Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateExcluded},
		{name: "veeam-vcsp general enquiry", policy: "veeam-vcsp",
			c:      sla.Case{Tier: "production", Severity: 1, Type: "enquiry", Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateExcluded},
		{name: "veeam-vcsp basic by default", policy: "veeam-vcsp",
			c:      sla.Case{Severity: 1, Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, due: "2026-03-09T10:00:00Z"},
		// Kasten: "1 business day" on premium is 9 hours of Mon–Fri
		// 08:00–17:00 local: 16:00–17:00 Friday, 08:00–16:00 Monday.
		{name: "kasten premium P4 from Friday", policy: "kasten",
			c:      sla.Case{Tier: "premium", Severity: 4, Timezone: "Europe/Paris", Created: time.Date(2026, 3, 6, 15, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, due: "2026-03-09T16:00:00+01:00"},
		{name: "kasten premium P1 on a Sunday", policy: "kasten",
			c:      sla.Case{Tier: "premium", Severity: 1, Timezone: "Europe/Paris", Created: time.Date(2026, 3, 8, 3, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateBreached, at: "2026-03-08T04:00:01Z", due: "2026-03-08T04:00:00Z"},
		// A business day used up at 17:00 is due at the next opening.
		{name: "kasten basic P3, one business day", policy: "kasten",
			c:      sla.Case{Tier: "basic", Severity: 3, Created: time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, due: "2026-03-10T08:00:00Z"},
		{name: "kasten basic P4, two business days", policy: "kasten",
			c:      sla.Case{Tier: "basic", Severity: 4, Created: time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, due: "2026-03-16T12:00:00Z"},
		{name: "kasten evaluation", policy: "kasten",
			c:      sla.Case{Tier: "evaluation", Severity: 1, Created: time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateNotApplicable},
		// Cloud Avenue: 2026-04-01 is the 1st Wednesday of April, closed
		// 00:00–06:00 Paris (UTC+2): 23:00–24:00 Tuesday, then 06:00–09:00.
		{name: "cloud-avenue gold P1 before a maintenance night", policy: "cloud-avenue",
			c:      sla.Case{Tier: "gold", Severity: 1, Timezone: "Asia/Tokyo", Created: time.Date(2026, 3, 31, 21, 0, 0, 0, time.UTC)},
			target: sla.Resolution, state: sla.StateOK, due: "2026-04-01T09:00:00+02:00"},
		// April 2026 has five Wednesdays: the 2nd (8th) is no maintenance.
		{name: "cloud-avenue gold P1 before the 2nd Wednesday", policy: "cloud-avenue",
			c:      sla.Case{Tier: "gold", Severity: 1, Created: time.Date(2026, 4, 7, 21, 0, 0, 0, time.UTC)},
			target: sla.Resolution, state: sla.StateOK, due: "2026-04-08T03:00:00+02:00"},
		// ...but the 4th (22nd) is one of the last three.
		{name: "cloud-avenue bronze P1 before the 4th Wednesday", policy: "cloud-avenue",
			c:      sla.Case{Tier: "bronze", Severity: 1, Created: time.Date(2026, 4, 21, 18, 0, 0, 0, time.UTC)},
			target: sla.Resolution, state: sla.StateOK, due: "2026-04-22T10:00:00+02:00"},
		{name: "cloud-avenue standard P1", policy: "cloud-avenue",
			c:      sla.Case{Severity: 1, Created: time.Date(2026, 4, 7, 21, 0, 0, 0, time.UTC)},
			target: sla.Resolution, state: sla.StateNotApplicable},
		{name: "cloud-avenue silver P2", policy: "cloud-avenue",
			c:      sla.Case{Tier: "silver", Severity: 2, Created: time.Date(2026, 4, 7, 21, 0, 0, 0, time.UTC)},
			target: sla.Resolution, state: sla.StateNotApplicable},
		{name: "cloud-avenue beta feature", policy: "cloud-avenue",
			c:      sla.Case{Tier: "gold", Severity: 1, Labels: []string{"beta"}, Created: time.Date(2026, 4, 7, 21, 0, 0, 0, time.UTC)},
			target: sla.Resolution, state: sla.StateExcluded},
		// GTR is a resolution target: waiting for the customer pauses it.
		{name: "cloud-avenue gold P1 pending customer", policy: "cloud-avenue",
			c: sla.Case{Tier: "gold", Severity: 1, Created: time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC),
				StatusHistory: []sla.StatusChange{{At: time.Date(2026, 4, 7, 10, 30, 0, 0, time.UTC), Status: sla.StatusPendingCustomer}}},
			target: sla.Resolution, state: sla.StatePaused},
		{name: "cloud-avenue gold P1 resolved in time", policy: "cloud-avenue",
			c: sla.Case{Tier: "gold", Severity: 1, Status: sla.StatusResolved, Created: time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC),
				Resolved: time.Date(2026, 4, 7, 13, 0, 0, 0, time.UTC)},
			at:     "2026-04-08T00:00:00Z",
			target: sla.Resolution, state: sla.StateMet, due: "2026-04-07T14:00:00Z"},
		// A calendar replaced in a policy that starts from veeam: Paris
		// 09:00–18:00 with French holidays; Friday 1 May 2026 is one.
		{name: "veeam with French holidays", policy: "veeam-calendar",
			c:      sla.Case{Tier: "basic", Severity: 2, Created: time.Date(2026, 4, 30, 15, 0, 0, 0, time.UTC)},
			target: sla.FirstResponse, state: sla.StateOK, due: "2026-05-04T16:00:00+02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *sla.Policy
			if p = mustParse(t, overrides)[tt.policy]; p == nil {
				p = preset(t, tt.policy)
			}
			c := tt.c
			c.ID = "C-1"
			c.Normalize()
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			at := c.Created.Add(time.Hour)
			if tt.at != "" {
				at = instant(t, tt.at)
			}
			e := &sla.Evaluator{Policy: p}
			rs, err := e.Evaluate(&c, at, nil)
			if err != nil {
				t.Fatal(err)
			}
			var r *sla.Result
			for i := range rs {
				if rs[i].Target == tt.target {
					r = &rs[i]
				}
			}
			if len(rs) != 1 || r == nil {
				t.Fatalf("results %+v, want one %s", rs, tt.target)
			}
			if r.State != tt.state {
				t.Errorf("state %s, want %s", r.State, tt.state)
			}
			sev := tt.sev
			if sev == 0 {
				sev = c.Severity
			}
			if r.Severity != sev {
				t.Errorf("severity %d, want %d", r.Severity, sev)
			}
			switch {
			case tt.due == "" && r.HasDue:
				t.Errorf("due %s, want none", r.DueTime().Format(time.RFC3339))
			case tt.due != "" && !r.DueTime().Equal(instant(t, tt.due)):
				t.Errorf("due %s, want %s", r.DueTime().Format(time.RFC3339), tt.due)
			}
		})
	}
}
