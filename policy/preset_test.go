package policy

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// preset compiles a built-in preset or fails.
func preset(t *testing.T, name string) *sla.Policy {
	t.Helper()
	p, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPresetNames(t *testing.T) {
	want := []string{"cloud-avenue", "kasten", "veeam", "veeam-vcsp"}
	if got := PresetNames(); !slices.Equal(got, want) {
		t.Errorf("PresetNames() = %v, want %v", got, want)
	}
	if _, err := Preset("veam"); err == nil || !strings.Contains(err.Error(), `unknown preset "veam"`) {
		t.Errorf(`Preset("veam") error = %v, want unknown preset`, err)
	}
	for _, name := range []string{"", "../decode", "presets/veeam", "VEEAM"} {
		if _, err := Preset(name); err == nil {
			t.Errorf("Preset(%q) succeeded", name)
		}
	}
}

// cell is one cell of a goals table of seed-policies.md: the goal of a
// preset's tier for a target and a severity.
type cell struct {
	preset, tier string
	target       sla.Target
	sev          int
	goal         string // "none", "best_effort" or a duration
	calendar     string // the calendar a duration goal counts in
}

// row expands one row of a seed table, a tier's goals for severities 1 to
// 4, into cells. A goal may name its own calendar after an @.
func row(preset, tier string, target sla.Target, calendar string, goals ...string) []cell {
	cells := make([]cell, len(goals))
	for i, g := range goals {
		c := calendar
		if goal, override, ok := strings.Cut(g, "@"); ok {
			g, c = goal, override
		}
		cells[i] = cell{preset, tier, target, i + 1, g, c}
	}
	return cells
}

// seedCells is every goal cell of seed-policies.md.
func seedCells() [][]cell {
	fr, res := sla.FirstResponse, sla.Resolution
	return [][]cell{
		// veeam: "Target for the initial response", by tier column.
		row("veeam", "premium", fr, "24x7", "30m", "30m", "30m", "30m"),
		row("veeam", "production", fr, "24x7", "1h", "3h", "6h", "8h"),
		row("veeam", "basic", fr, "basic", "2h", "8h", "12h", "24h"),
		row("veeam", "evaluation", fr, "evaluation", "none", "8h", "12h", "24h"),
		row("veeam", "free", fr, "24x7", "none", "best_effort", "best_effort", "best_effort"),
		// veeam-vcsp: the same targets as the matching columns.
		row("veeam-vcsp", "production", fr, "24x7", "1h", "3h", "6h", "8h"),
		row("veeam-vcsp", "basic", fr, "basic", "2h", "8h", "12h", "24h"),
		row("veeam-vcsp", "evaluation", fr, "evaluation", "none", "8h", "12h", "24h"),
		// kasten: P1..P4; a business day is 9 hours of 08:00–17:00.
		row("kasten", "premium", fr, "24x7", "1h", "2h", "6h", "9h@basic"),
		row("kasten", "basic", fr, "basic", "2h", "4h", "9h", "18h"),
		row("kasten", "evaluation", fr, "24x7", "none", "none", "none", "none"),
		// cloud-avenue: GTR, a resolution target of P1 tickets only.
		row("cloud-avenue", "standard", res, "platform", "none", "none", "none", "none"),
		row("cloud-avenue", "bronze", res, "platform", "8h", "none", "none", "none"),
		row("cloud-avenue", "silver", res, "platform", "8h", "none", "none", "none"),
		row("cloud-avenue", "gold", res, "platform", "4h", "none", "none", "none"),
	}
}

// TestPresetGoals checks every goal cell of seed-policies.md against the
// compiled presets.
func TestPresetGoals(t *testing.T) {
	for _, r := range seedCells() {
		for _, c := range r {
			t.Run(c.preset+"/"+c.tier+"/"+c.target.String()+"/"+string(rune('0'+c.sev)), func(t *testing.T) {
				p := preset(t, c.preset)
				tier := p.Tiers[c.tier]
				if tier == nil {
					t.Fatalf("no tier %s", c.tier)
				}
				goals := tier.Targets[c.target]
				if goals == nil {
					t.Fatalf("tier %s has no %s target", c.tier, c.target)
				}
				g := goals[c.sev]
				if g.Pausable != c.target.PausableByDefault() {
					t.Errorf("pausable = %v, want the target's default", g.Pausable)
				}
				switch c.goal {
				case "none":
					if g.Kind != sla.GoalNone {
						t.Errorf("goal = %+v, want none", g)
					}
				case "best_effort":
					if g.Kind != sla.GoalBestEffort {
						t.Errorf("goal = %+v, want best effort", g)
					}
				default:
					want, err := strictyaml.ParseDuration(c.goal)
					if err != nil {
						t.Fatal(err)
					}
					if g.Kind != sla.GoalDuration || g.Duration != want {
						t.Errorf("goal = %v (kind %d), want %v", g.Duration, g.Kind, want)
					}
					if g.Calendar == nil || g.Calendar != p.Calendars[c.calendar] || g.Calendar.Name != c.calendar {
						t.Errorf("goal counts in %v, want calendar %s of the policy", g.Calendar, c.calendar)
					}
				}
			})
		}
	}
}

// TestPresetShape checks what the preset holds besides its goals: its
// tiers and their targets, calendars and defaults, and its exclusion rules.
func TestPresetShape(t *testing.T) {
	tiers := map[string][]string{}
	targets := map[string]sla.Target{}
	for _, r := range seedCells() {
		tiers[r[0].preset] = append(tiers[r[0].preset], r[0].tier)
		targets[r[0].preset] = r[0].target
	}
	experimental := []sla.ExclusionRule{{Label: "experimental"}, {Type: "enquiry"}, {Type: "feedback"}}
	tests := []struct {
		preset      string
		defaultTier string
		tierCal     map[string]string // tier → its calendar
		exclude     []sla.ExclusionRule
	}{
		{"veeam", "basic", map[string]string{"premium": "24x7", "production": "24x7", "basic": "basic", "evaluation": "evaluation", "free": "24x7"}, experimental},
		{"veeam-vcsp", "basic", map[string]string{"production": "24x7", "basic": "basic", "evaluation": "evaluation"}, experimental},
		{"kasten", "basic", map[string]string{"premium": "24x7", "basic": "basic", "evaluation": "24x7"}, nil},
		{"cloud-avenue", "standard", map[string]string{"standard": "platform", "bronze": "platform", "silver": "platform", "gold": "platform"}, []sla.ExclusionRule{{Label: "beta"}}},
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			p := preset(t, tt.preset)
			if p.Name != tt.preset {
				t.Errorf("Name = %q", p.Name)
			}
			if p.DefaultTier != tt.defaultTier {
				t.Errorf("DefaultTier = %q, want %q", p.DefaultTier, tt.defaultTier)
			}
			// Cases without a severity are severity 3 (e-mail cases, in the French summary).
			if p.DefaultSeverity != 3 || p.WarningRatio != 0.75 {
				t.Errorf("DefaultSeverity %d, WarningRatio %g; want 3 and 0.75", p.DefaultSeverity, p.WarningRatio)
			}
			if !slices.Equal(p.PauseStatuses, []sla.Status{sla.StatusPendingCustomer}) {
				t.Errorf("PauseStatuses = %v", p.PauseStatuses)
			}
			if got := slices.Sorted(maps.Keys(p.Tiers)); !slices.Equal(got, slices.Sorted(slices.Values(tiers[tt.preset]))) {
				t.Errorf("tiers %v, want %v", got, tiers[tt.preset])
			}
			for name, tier := range p.Tiers {
				if tier.Name != name {
					t.Errorf("tier %s is named %q", name, tier.Name)
				}
				if tier.Calendar != p.Calendars[tt.tierCal[name]] {
					t.Errorf("tier %s counts in %s, want %s", name, tier.Calendar.Name, tt.tierCal[name])
				}
				// Only the target that the seed tables give.
				for k := sla.Target(0); k < sla.NumTargets; k++ {
					if has := tier.Targets[k] != nil; has != (k == targets[tt.preset]) {
						t.Errorf("tier %s: has a %s target: %v", name, k, has)
					}
				}
			}
			if !slices.Equal(p.Exclude, tt.exclude) {
				t.Errorf("Exclude = %v, want %v", p.Exclude, tt.exclude)
			}
			if err := p.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func weekdays8to(end string) map[time.Weekday][]string {
	h := map[time.Weekday][]string{}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		h[wd] = []string{"08:00-" + end}
	}
	return h
}

// TestPresetCalendars checks every calendar of the presets: support hours by
// weekday, time zone, customer's time zone, holidays and exclusions.
func TestPresetCalendars(t *testing.T) {
	allWeek := map[time.Weekday][]string{}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		allWeek[wd] = []string{"00:00-24:00"}
	}
	tests := []struct {
		preset, calendar string
		zone             string
		customerZone     bool
		hours            map[time.Weekday][]string
		exclusions       []sla.Exclusion
	}{
		{"veeam", "basic", "UTC", true, weekdays8to("20:00"), nil},
		{"veeam", "evaluation", "UTC", true, weekdays8to("17:00"), nil},
		{"veeam-vcsp", "basic", "UTC", true, weekdays8to("20:00"), nil},
		{"veeam-vcsp", "evaluation", "UTC", true, weekdays8to("17:00"), nil},
		{"kasten", "basic", "UTC", true, weekdays8to("17:00"), nil},
		// The 1st and the last 3 Wednesdays of each month, 00:00–06:00 Paris.
		{"cloud-avenue", "platform", "Europe/Paris", false, allWeek, []sla.Exclusion{
			{Weekday: time.Wednesday, Weeks: []int{1, -3, -2, -1}, Range: sla.ClockRange{From: 0, To: 6 * 60}},
		}},
	}
	byPreset := map[string][]string{}
	for _, tt := range tests {
		byPreset[tt.preset] = append(byPreset[tt.preset], tt.calendar)
		t.Run(tt.preset+"/"+tt.calendar, func(t *testing.T) {
			c := preset(t, tt.preset).Calendars[tt.calendar]
			if c == nil {
				t.Fatalf("no calendar %s", tt.calendar)
			}
			if c.Name != tt.calendar || c.Location.String() != tt.zone || c.CustomerTimezone != tt.customerZone {
				t.Errorf("name %q zone %v customer_timezone %v, want %s %s %v", c.Name, c.Location, c.CustomerTimezone, tt.calendar, tt.zone, tt.customerZone)
			}
			checkHours(t, c, tt.hours)
			checkExclusions(t, c, tt.exclusions)
			if len(c.Holidays) != 0 || len(c.HolidayDates) != 0 {
				t.Errorf("holidays %v %v, want none", c.Holidays, c.HolidayDates)
			}
		})
	}
	for preset, cals := range byPreset {
		p, _ := Preset(preset)
		want := slices.Sorted(slices.Values(append(cals, "24x7")))
		if got := slices.Sorted(maps.Keys(p.Calendars)); !slices.Equal(got, want) {
			t.Errorf("%s: calendars %v, want %v", preset, got, want)
		}
	}
}

// TestPresetFresh checks that each call compiles a policy of its own:
// calendars memoise, so two policies must never share one.
func TestPresetFresh(t *testing.T) {
	for _, name := range PresetNames() {
		a, b := preset(t, name), preset(t, name)
		if a == b {
			t.Fatalf("%s: same policy twice", name)
		}
		for cname, c := range a.Calendars {
			if b.Calendars[cname] == c {
				t.Errorf("%s: calendar %s shared by two calls", name, cname)
			}
		}
		for tname, tier := range a.Tiers {
			if b.Tiers[tname] == tier {
				t.Errorf("%s: tier %s shared by two calls", name, tname)
			}
			for k, g := range tier.Targets {
				if g != nil && b.Tiers[tname].Targets[k] == g {
					t.Errorf("%s: tier %s: %s goals shared by two calls", name, tname, sla.Target(k))
				}
			}
		}
	}
}

// TestPresetFiles checks that each embedded file defines exactly the policy
// it is named after.
func TestPresetFiles(t *testing.T) {
	for _, name := range PresetNames() {
		data, err := presetFS.ReadFile(presetFile(name))
		if err != nil {
			t.Fatal(err)
		}
		ps, err := Parse(name+".yml", data)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Collect(maps.Keys(ps)); !slices.Equal(got, []string{name}) {
			t.Errorf("%s.yml defines %v", name, got)
		}
	}
}

// TestPresetOverride checks how a policy's own keys override its preset's.
func TestPresetOverride(t *testing.T) {
	ps := mustParse(t, string(readFile(t, "testdata/good/overrides.yml")))
	veeam := preset(t, "veeam")

	t.Run("tier", func(t *testing.T) {
		p := ps["veeam-tier"]
		basic := p.Tiers["basic"]
		if !basic.Calendar.IsAlwaysOpen() {
			t.Errorf("basic counts in %s, want 24x7", basic.Calendar.Name)
		}
		fr := basic.Targets[sla.FirstResponse]
		// Replaced entirely: the preset's goals for 2 to 4 are gone.
		if fr[1].Kind != sla.GoalDuration || fr[1].Duration != time.Hour || fr[2].Kind != sla.GoalNone || fr[4].Kind != sla.GoalNone {
			t.Errorf("basic first_response = %+v", fr)
		}
		if len(p.Tiers) != len(veeam.Tiers) || p.Tiers["premium"].Targets[sla.FirstResponse][1].Duration != 30*time.Minute {
			t.Errorf("other tiers changed: %v", slices.Sorted(maps.Keys(p.Tiers)))
		}
		if p.Name != "veeam-tier" || p.DefaultTier != "basic" || !slices.Equal(p.Exclude, veeam.Exclude) {
			t.Errorf("name %q, default tier %q, exclude %v: want the preset's", p.Name, p.DefaultTier, p.Exclude)
		}
	})

	t.Run("calendar", func(t *testing.T) {
		p := ps["veeam-calendar"]
		c := p.Calendars["basic"]
		if c.Location.String() != "Europe/Paris" || len(c.Holidays) == 0 {
			t.Errorf("basic: zone %v, %d holidays; want the override's", c.Location, len(c.Holidays))
		}
		checkHours(t, c, map[time.Weekday][]string{
			time.Monday: {"09:00-18:00"}, time.Tuesday: {"09:00-18:00"}, time.Wednesday: {"09:00-18:00"},
			time.Thursday: {"09:00-18:00"}, time.Friday: {"09:00-18:00"},
		})
		// The preset's basic tier counts in the new calendar.
		basic := p.Tiers["basic"]
		if basic.Calendar != c || basic.Targets[sla.FirstResponse][2].Calendar != c {
			t.Errorf("tier basic counts in %p, want the override %p", basic.Calendar, c)
		}
		if basic.Targets[sla.FirstResponse][2].Duration != 8*time.Hour {
			t.Errorf("tier basic goals changed: %+v", basic.Targets[sla.FirstResponse])
		}
		checkHours(t, p.Calendars["evaluation"], weekdays8to("17:00"))
	})

	t.Run("scalars", func(t *testing.T) {
		p := ps["veeam-scalars"]
		if p.DefaultTier != "gold" || p.DefaultSeverity != 2 || p.WarningRatio != 0.5 {
			t.Errorf("tier %q severity %d ratio %g", p.DefaultTier, p.DefaultSeverity, p.WarningRatio)
		}
		if !slices.Equal(p.PauseStatuses, []sla.Status{sla.StatusPendingCustomer, sla.StatusOnHold}) {
			t.Errorf("PauseStatuses = %v", p.PauseStatuses)
		}
		if len(p.Exclude) != 0 {
			t.Errorf("Exclude = %v, want none", p.Exclude)
		}
		gold := p.Tiers["gold"]
		if gold == nil || gold.Calendar != p.Calendars["evaluation"] {
			t.Fatalf("tier gold = %+v, want it in the preset's evaluation calendar", gold)
		}
		fr, res := gold.Targets[sla.FirstResponse], gold.Targets[sla.Resolution]
		if fr[1].Duration != 15*time.Minute || fr[1].Calendar != gold.Calendar || !fr[2].Calendar.IsAlwaysOpen() {
			t.Errorf("gold first_response = %+v", fr)
		}
		if res[1].Duration != 24*time.Hour || res[1].Pausable {
			t.Errorf("gold resolution 1 = %+v, want 1d not pausable", res[1])
		}
		if len(p.Tiers) != len(veeam.Tiers)+1 {
			t.Errorf("tiers %v", slices.Sorted(maps.Keys(p.Tiers)))
		}
	})

	t.Run("not shared", func(t *testing.T) {
		a, b := ps["veeam-tier"], ps["veeam-scalars"]
		for name, c := range a.Calendars {
			if b.Calendars[name] == c {
				t.Errorf("calendar %s shared by two policies", name)
			}
		}
	})
}
