package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Instants the tests look at: a weekday morning, a weekend night, a Monday
// as Paris starts work.
var instants = []string{
	"2026-03-04T10:00:00Z",
	"2026-03-07T03:00:00Z",
	"2026-03-09T08:30:00+01:00",
	"2026-10-26T16:45:00Z", // the day after Europe left summer time
}

func TestDeterminism(t *testing.T) {
	p := veeamPolicy(t, true)
	tests := []struct {
		name         string
		seedA, seedB int64
		same         bool
	}{
		{"same seed", 1, 1, true},
		{"other seed", 1, 2, false},
		{"seeds far apart", 7, 1 << 40, false},
	}
	for _, tt := range tests {
		for _, s := range instants {
			t.Run(tt.name+"/"+s, func(t *testing.T) {
				at := mustTime(t, s)
				a := toJSON(t, newSim(t, tt.seedA, p, at).CasesAt(at))
				b := toJSON(t, newSim(t, tt.seedB, p, at).CasesAt(at))
				if (a == b) != tt.same {
					t.Errorf("seeds %d and %d: identical cases = %v, want %v", tt.seedA, tt.seedB, a == b, tt.same)
				}
			})
		}
	}
}

// TestCasesAsOfNow checks that a Sync shows each case as a ticket system
// would at now, and only the cases it should.
func TestCasesAsOfNow(t *testing.T) {
	p := veeamPolicy(t, true)
	for _, s := range instants {
		t.Run(s, func(t *testing.T) {
			now := mustTime(t, s)
			sim := newSim(t, 1, p, now)
			cases := sim.CasesAt(now)
			if len(cases) < 1000 {
				t.Fatalf("%d cases, want about 2,000", len(cases))
			}
			since := now.Add(-sim.Config().History)
			prevMonth := time.Date(now.UTC().Year(), now.UTC().Month()-1, 1, 0, 0, 0, 0, time.UTC)
			seen := map[string]bool{}
			for i := range cases {
				c := &cases[i]
				where := c.ID
				if err := c.Validate(); err != nil {
					t.Fatalf("%s: %v", where, err)
				}
				if seen[c.ID] {
					t.Fatalf("%s: twice", where)
				}
				seen[c.ID] = true
				if i > 0 && c.Created.Before(cases[i-1].Created) {
					t.Errorf("%s: created before the case listed before it", where)
				}
				if c.Source != "demo" || c.Key != c.ID || c.URL != "https://support.example.com/cases/"+c.ID || !strings.HasPrefix(c.ID, "DEMO-") {
					t.Errorf("%s: source %q key %q url %q", where, c.Source, c.Key, c.URL)
				}
				if c.Created.After(now) || c.FirstResponse.After(now) || c.Resolved.After(now) {
					t.Errorf("%s: an event after now: %s", where, toJSON(t, c))
				}
				if c.Created.Before(since) && !c.Open(now) && c.Resolved.Before(prevMonth) {
					t.Errorf("%s: created before the history, no longer open and resolved before the previous month", where)
				}
				for j, h := range c.StatusHistory {
					if h.At.After(now) || h.At.Before(c.Created) || (j > 0 && !h.At.After(c.StatusHistory[j-1].At)) {
						t.Errorf("%s: status_history[%d] at %s out of place", where, j, h.At)
					}
				}
				for j, h := range c.SeverityHistory {
					if h.At.After(now) || h.At.Before(c.Created) || (j > 0 && !h.At.After(c.SeverityHistory[j-1].At)) {
						t.Errorf("%s: severity_history[%d] at %s out of place", where, j, h.At)
					}
				}
				if c.Status != c.StatusAt(now) {
					t.Errorf("%s: status %s, its history says %s", where, c.Status, c.StatusAt(now))
				}
				if c.Status.Done() != !c.Resolved.IsZero() {
					t.Errorf("%s: status %s with resolved %v", where, c.Status, c.Resolved)
				}
				if !c.FirstResponse.IsZero() && !c.Resolved.IsZero() && c.Resolved.Before(c.FirstResponse) {
					t.Errorf("%s: resolved before its first response", where)
				}
				if len(c.SeverityHistory) > 0 && c.Severity != c.SeverityAt(now) {
					t.Errorf("%s: severity %d, its history says %d", where, c.Severity, c.SeverityAt(now))
				}
				if !c.Resolved.IsZero() && c.Resolved.Sub(c.Created) > maxLife {
					t.Errorf("%s: lived longer than %s", where, maxLife)
				}
			}
		})
	}
}

// TestCaseFeatures checks that the stream has each kind of case a real
// ticket system has.
func TestCaseFeatures(t *testing.T) {
	p := veeamPolicy(t, true)
	now := mustTime(t, "2026-03-04T10:00:00Z")
	cases := newSim(t, 1, p, now).CasesAt(now)
	features := []struct {
		name string
		has  func(c *sla.Case) bool
	}{
		{"open, not answered", func(c *sla.Case) bool { return c.FirstResponse.IsZero() && c.Resolved.IsZero() }},
		{"resolved without a response", func(c *sla.Case) bool { return c.FirstResponse.IsZero() && !c.Resolved.IsZero() }},
		{"answered, still open", func(c *sla.Case) bool { return !c.FirstResponse.IsZero() && c.Resolved.IsZero() }},
		{"pending customer now", func(c *sla.Case) bool { return c.Status == sla.StatusPendingCustomer }},
		{"on hold now", func(c *sla.Case) bool { return c.Status == sla.StatusOnHold }},
		{"paused twice", func(c *sla.Case) bool {
			n := 0
			for _, h := range c.StatusHistory {
				if h.Status == sla.StatusPendingCustomer {
					n++
				}
			}
			return n == 2
		}},
		{"resolved", func(c *sla.Case) bool { return c.Status == sla.StatusResolved }},
		{"closed", func(c *sla.Case) bool { return c.Status == sla.StatusClosed }},
		{"severity changed", func(c *sla.Case) bool { return len(c.SeverityHistory) == 2 }},
		{"no severity", func(c *sla.Case) bool { return c.Severity == 0 }},
		{"experimental", func(c *sla.Case) bool { return len(c.Labels) == 1 && c.Labels[0] == "experimental" }},
		{"feedback", func(c *sla.Case) bool { return c.Type == "feedback" }},
		{"enquiry", func(c *sla.Case) bool { return c.Type == "enquiry" }},
		{"open for over three weeks", func(c *sla.Case) bool { return c.Resolved.IsZero() && now.Sub(c.Created) > 21*24*time.Hour }},
	}
	for _, f := range features {
		n := 0
		for i := range cases {
			if f.has(&cases[i]) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no case is %s", f.name)
		}
	}
}

// TestFirstResponseInSupportHours: business-hours tiers answer within
// their business hours, in the customer's zone.
func TestFirstResponseInSupportHours(t *testing.T) {
	p := veeamPolicy(t, true)
	now := mustTime(t, "2026-03-04T10:00:00Z")
	checked := 0
	for _, c := range newSim(t, 1, p, now).CasesAt(now) {
		cal := p.Tiers[c.Tier].Calendar
		if c.FirstResponse.IsZero() || cal == nil || cal.IsAlwaysOpen() {
			continue
		}
		// Open at that second, or at the start of an open stretch.
		fr := c.FirstResponse
		if cal.Counted(c.Timezone, fr, fr.Add(time.Second)) == 0 {
			t.Errorf("%s (%s, %s): first response %s is outside support hours", c.ID, c.Tier, c.Timezone, fr.In(cal.LocationFor(c.Timezone)))
		}
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d business-hours responses", checked)
	}
}

// TestCasesKeepArriving moves now forward: new cases come, and no case's
// past changes.
func TestCasesKeepArriving(t *testing.T) {
	p := veeamPolicy(t, true)
	t1 := mustTime(t, "2026-03-04T10:00:00Z")
	for _, later := range []time.Duration{time.Second, 10 * time.Minute, 3 * time.Hour, 2 * 24 * time.Hour, 30 * 24 * time.Hour} {
		t.Run(later.String(), func(t *testing.T) {
			t2 := t1.Add(later)
			// One simulator whose clock moves, as in a running exporter.
			now := t1
			sim := NewSimulator(DefaultConfig(), p, func() time.Time { return now })
			b1, err := sim.Sync(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			now = t2
			b2, err := sim.Sync(context.Background(), b1.Cursor)
			if err != nil {
				t.Fatal(err)
			}
			at2 := map[string]sla.Case{}
			newer := 0
			for _, c := range b2.Cases {
				at2[c.ID] = c
				if c.Created.After(t1) {
					newer++
				}
			}
			if later >= 3*time.Hour && newer == 0 {
				t.Errorf("no case created in the %s after t1", later)
			}
			since2 := t2.Add(-sim.Config().History)
			compared := 0
			for _, c1 := range b1.Cases {
				c2, ok := at2[c1.ID]
				if !ok {
					if !c1.Created.Before(since2) {
						t.Errorf("%s: gone at t2 though created in its history", c1.ID)
					}
					if c, ok := sim.Case(caseNumber(t, c1.ID), t2); !ok || c.Open(t2) {
						t.Errorf("%s: gone at t2 though still open", c1.ID)
					}
					continue
				}
				if a, b := toJSON(t, c1), toJSON(t, cutBack(c2, t1)); a != b {
					t.Fatalf("%s changed its past:\nat t1:            %s\nat t2, cut to t1: %s", c1.ID, a, b)
				}
				compared++
			}
			if compared == 0 {
				t.Error("no case to compare")
			}
		})
	}
}

func caseNumber(t testing.TB, id string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscanf(id, "DEMO-%d", &n); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return n
}

// TestEveryState: at any instant, the demo shows every state.
func TestEveryState(t *testing.T) {
	at := make([]time.Time, 0, len(instants)+50)
	for _, s := range instants {
		at = append(at, mustTime(t, s))
	}
	r := rand.New(rand.NewPCG(2026, 1))
	start := mustTime(t, "2026-01-01T00:00:00Z")
	for range 50 {
		at = append(at, start.Add(time.Duration(r.Int64N(365*24*3600))*time.Second))
	}
	fixed := at[:len(instants)]
	tests := []struct {
		name   string
		policy *sla.Policy
		seed   int64
		at     []time.Time
		absent []sla.State
	}{
		{"veeam with resolution goals", veeamPolicy(t, true), 1, at, nil},
		{"veeam with resolution goals", veeamPolicy(t, true), 2, fixed, nil},
		{"veeam with resolution goals", veeamPolicy(t, true), 3, fixed, nil},
		// The preset has no pausable target: paused cannot happen.
		{"veeam", veeamPolicy(t, false), 1, at, []sla.State{sla.StatePaused}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/seed %d", tt.name, tt.seed), func(t *testing.T) {
			for _, now := range tt.at {
				counts := states(t, tt.policy, newSim(t, tt.seed, tt.policy, now).CasesAt(now), now)
				for s := range sla.NumStates {
					want := true
					for _, a := range tt.absent {
						want = want && s != a
					}
					if (counts[s] > 0) != want {
						t.Errorf("at %s (%s): %d targets %s; all: %v", now.Format(time.RFC3339), now.Weekday(), counts[s], s, counts)
					}
				}
			}
		})
	}
}

func TestWindow(t *testing.T) {
	p := veeamPolicy(t, true)
	now := mustTime(t, "2026-03-10T12:00:00Z")
	tests := []struct {
		name     string
		from, to string
		none     bool
	}{
		{"past month", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", false},
		{"one past hour", "2026-03-05T09:00:00Z", "2026-03-05T10:00:00Z", false},
		{"reaching past now", "2026-03-09T00:00:00Z", "2026-03-12T00:00:00Z", false},
		{"empty", "2026-03-05T09:00:00Z", "2026-03-05T09:00:00Z", true},
		{"backwards", "2026-03-05T09:00:00Z", "2026-03-04T09:00:00Z", true},
		// As of now, the cases open now are not resolved before April.
		{"future", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := mustTime(t, tt.from), mustTime(t, tt.to)
			sim := newSim(t, 1, p, now)
			got, err := sim.Window(context.Background(), from, to)
			if err != nil {
				t.Fatal(err)
			}
			if tt.none != (len(got) == 0) {
				t.Fatalf("%d cases", len(got))
			}
			view := to
			if now.Before(to) {
				view = now
			}
			// Every case of every slot that could overlap, one by one.
			var want []sla.Case
			lo := floorDiv(from.Add(-maxLife).UnixMilli(), sim.slotMs)
			hi := floorDiv(view.UnixMilli(), sim.slotMs)
			for n := lo; n <= hi && from.Before(to); n++ {
				c, ok := sim.Case(n, view)
				if ok && c.Created.Before(to) && (c.Resolved.IsZero() || !c.Resolved.Before(from)) {
					want = append(want, c)
				}
			}
			if a, b := toJSON(t, got), toJSON(t, want); a != b {
				t.Errorf("Window gave %d cases, want %d", len(got), len(want))
			}
			for _, c := range got {
				if !c.Created.Before(to) || c.Created.After(view) {
					t.Errorf("%s created %s, outside the window", c.ID, c.Created)
				}
				if !c.Resolved.IsZero() && c.Resolved.Before(from) {
					t.Errorf("%s resolved %s, before the window", c.ID, c.Resolved)
				}
				if c.Resolved.After(view) || c.FirstResponse.After(view) {
					t.Errorf("%s: an event after %s", c.ID, view)
				}
				if now.Before(from) && !c.Open(now) {
					t.Errorf("%s: resolved by now, yet in a window after now", c.ID)
				}
			}
		})
	}
}

func TestSync(t *testing.T) {
	p := veeamPolicy(t, true)
	now := mustTime(t, "2026-03-04T10:00:00+01:00")
	src := newSim(t, 1, p, now)
	src.cfg.Name = "lab"
	b, err := src.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Full || b.Cursor != "2026-03-04T09:00:00Z" || len(b.Deleted) != 0 || len(b.Problems) != 0 {
		t.Errorf("batch: full %v, cursor %q, %d deleted, %d problems", b.Full, b.Cursor, len(b.Deleted), len(b.Problems))
	}
	if a, w := toJSON(t, b.Cases), toJSON(t, src.CasesAt(now)); a != w {
		t.Error("Sync and CasesAt differ")
	}
	for _, c := range b.Cases {
		if c.Source != "lab" {
			t.Fatalf("%s: source %q", c.ID, c.Source)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Sync(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("Sync with a cancelled context: %v", err)
	}
	if _, err := src.Window(ctx, now.Add(-time.Hour), now); !errors.Is(err, context.Canceled) {
		t.Errorf("Window with a cancelled context: %v", err)
	}
}

func TestNew(t *testing.T) {
	p := veeamPolicy(t, true)
	def := DefaultConfig()
	def.Name = "demo-eu"
	tests := []struct {
		name string
		yaml string
		want Config
		err  string
	}{
		{"defaults", "type: demo", def, ""},
		{"every key", "type: demo\nname: demo-eu\nseed: 42\ncustomers: 5\ncases_per_hour: 2.5\nhistory: 14d12h",
			Config{Name: "demo-eu", Seed: 42, Customers: 5, CasesPerHour: 2.5, History: (14*24 + 12) * time.Hour}, ""},
		{"unknown key", "type: demo\nseeds: 4", Config{}, `cfg.yml:2: sources[0]: unknown field "seeds"`},
		{"seed not a number", "seed: one", Config{}, `cfg.yml:1: sources[0].seed: must be a whole number, not "one"`},
		{"no customers", "customers: 0", Config{}, "cfg.yml:1: sources[0].customers: must be between 1 and 10000, not 0"},
		{"negative rate", "cases_per_hour: -1", Config{}, "cfg.yml:1: sources[0].cases_per_hour: must be more than 0 and at most 100, not -1"},
		{"rate too high", "cases_per_hour: 1e6", Config{}, "sources[0].cases_per_hour: must be more than 0 and at most 100, not 1e6"},
		{"bad history", "history: 3w", Config{}, `cfg.yml:1: sources[0].history: bad duration "3w"`},
		{"history too long", "history: 400d", Config{}, "cfg.yml:1: sources[0].history: must be at most 92d, not 400d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &strictyaml.Decoder{File: "cfg.yml"}
			n := d.Parse([]byte(tt.yaml))
			src := New(d, n, "sources[0]", sources.Env{Name: "demo-eu", Policy: p})
			err := d.Err()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := src.(*Simulator).Config(); got != tt.want {
				t.Errorf("config %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("no policy", func(t *testing.T) {
		d := &strictyaml.Decoder{File: "cfg.yml"}
		New(d, d.Parse([]byte("type: demo")), "sources[0]", sources.Env{Name: "demo"})
		if err := d.Err(); err == nil || !strings.Contains(err.Error(), "needs a policy") {
			t.Errorf("error %v", err)
		}
	})
	var _ sources.Factory = New
}

func TestCustomers(t *testing.T) {
	p := veeamPolicy(t, true)
	tests := []struct {
		n         int
		everyTier bool
	}{{1, false}, {4, false}, {5, true}, {36, true}, {100, true}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Customers = tt.n
			cus := NewSimulator(cfg, p, nil).Customers()
			if len(cus) != tt.n {
				t.Fatalf("%d customers", len(cus))
			}
			names, tiers := map[string]bool{}, map[string]int{}
			for _, c := range cus {
				if names[c.Name] || c.Name == "" {
					t.Errorf("name %q twice or empty", c.Name)
				}
				names[c.Name] = true
				if p.Tiers[c.Tier] == nil {
					t.Errorf("%s: tier %q not in the policy", c.Name, c.Tier)
				}
				tiers[c.Tier]++
				if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
					t.Errorf("%s: time zone %q", c.Name, c.Timezone)
				}
			}
			if tt.everyTier && len(tiers) != len(p.Tiers) {
				t.Errorf("tiers %v, want every tier of the policy", tiers)
			}
			if tt.n >= 36 && !(tiers["basic"]+tiers["production"] > tt.n/2 && tiers["free"] < tiers["premium"]) {
				t.Errorf("tiers %v: want mostly basic and production, fewer free than premium", tiers)
			}
		})
	}
	t.Run("seeded", func(t *testing.T) {
		a := toJSON(t, newSim(t, 1, p, time.Now()).Customers())
		if b := toJSON(t, newSim(t, 1, p, time.Now()).Customers()); a != b {
			t.Error("same seed, other customers")
		}
		if b := toJSON(t, newSim(t, 2, p, time.Now()).Customers()); a == b {
			t.Error("other seed, same customers")
		}
	})
}

// TestRealism checks the shape of four weeks of cases.
func TestRealism(t *testing.T) {
	p := veeamPolicy(t, true)
	now := mustTime(t, "2026-03-02T00:00:00Z") // a Monday: four whole weeks
	cfg := DefaultConfig()
	cfg.History = 28 * 24 * time.Hour
	sim := NewSimulator(cfg, p, func() time.Time { return now })
	var cases []sla.Case
	for _, c := range sim.CasesAt(now) {
		if !c.Created.Before(now.Add(-cfg.History)) {
			cases = append(cases, c)
		}
	}
	hours := cfg.History.Hours()
	if rate := float64(len(cases)) / hours; rate < 0.85*cfg.CasesPerHour || rate > 1.15*cfg.CasesPerHour {
		t.Errorf("%.2f cases per hour, want about %g", rate, cfg.CasesPerHour)
	}
	// Arrivals per hour by local time: working hours, nights, weekends.
	var work, night, weekend int
	var sev [5]int
	var excluded, frLate, frCounted int
	ev := &sla.Evaluator{Policy: p}
	for i := range cases {
		c := &cases[i]
		loc, _ := time.LoadLocation(c.Timezone)
		lt := c.Created.In(loc)
		switch h := lt.Hour(); {
		case lt.Weekday() == time.Saturday || lt.Weekday() == time.Sunday:
			weekend++
		case h >= 9 && h < 17:
			work++
		case h < 6:
			night++
		}
		sev[c.SeverityAt(c.Created)]++
		if ev.Excluded(c) {
			excluded++
			continue
		}
		rs, _ := ev.Evaluate(c, now, nil)
		if len(rs) > 0 && (rs[0].State == sla.StateMet || rs[0].State == sla.StateMissed) {
			frCounted++
			if rs[0].State == sla.StateMissed {
				frLate++
			}
		}
	}
	// Per hour of each kind in four weeks: 4*5*8 working, 4*5*6 night
	// hours, 4*2*24 weekend hours.
	workRate, nightRate, weekendRate := float64(work)/160, float64(night)/120, float64(weekend)/192
	if workRate < 4*nightRate || workRate < 3*weekendRate {
		t.Errorf("cases per hour: %.1f in working hours, %.1f at night, %.1f on weekends", workRate, nightRate, weekendRate)
	}
	n := float64(len(cases))
	if float64(sev[3]+sev[4]) < 0.6*n || float64(sev[1]) > 0.1*n || sev[0] == 0 {
		t.Errorf("severities (none, 1..4): %v", sev)
	}
	if share := float64(excluded) / n; share < 0.04 || share > 0.11 {
		t.Errorf("%.1f%% of cases excluded, want about 7%%", 100*share)
	}
	if share := float64(frLate) / float64(frCounted); share < 0.1 || share > 0.3 {
		t.Errorf("%.1f%% of first responses missed, want about 18%%", 100*share)
	}
}

func TestGolden(t *testing.T) {
	p := veeamPolicy(t, true)
	now := mustTime(t, "2026-03-04T10:00:00Z")
	cases := newSim(t, 1, p, now).CasesAt(now)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%d cases; the latest:\n", len(cases))
	for _, c := range cases[len(cases)-40:] {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	path := filepath.Join("testdata", "cases-2026-03-04T10-00-00Z.jsonl")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("the case stream changed; if on purpose, run go test -update.\ngot:\n%s", buf.String())
	}
}

func TestCacheBounded(t *testing.T) {
	p := veeamPolicy(t, true)
	now := mustTime(t, "2026-03-04T10:00:00Z")
	want := toJSON(t, newSim(t, 1, p, now).CasesAt(now))
	sim := newSim(t, 1, p, now)
	sim.cacheLimit = 5000 // less than one Sync's slots
	for range 2 {
		if got := toJSON(t, sim.CasesAt(now)); got != want {
			t.Fatal("a bounded cache changes the cases")
		}
		if _, err := sim.Window(context.Background(), now.Add(-time.Hour), now); err != nil {
			t.Fatal(err)
		}
		if len(sim.lives) > sim.cacheLimit {
			t.Fatalf("%d lives cached, limit %d", len(sim.lives), sim.cacheLimit)
		}
	}
}

func TestConcurrent(t *testing.T) {
	p := veeamPolicy(t, true)
	now := mustTime(t, "2026-03-04T10:00:00Z")
	sim := newSim(t, 1, p, now)
	sim.cacheLimit = 20000
	want := toJSON(t, newSim(t, 1, p, now).CasesAt(now))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if i%2 == 0 {
				if _, err := sim.Window(context.Background(), now.Add(-time.Duration(i)*24*time.Hour), now); err != nil {
					t.Error(err)
				}
				return
			}
			b, err := sim.Sync(context.Background(), "")
			if err != nil {
				t.Error(err)
			}
			if toJSON(t, b.Cases) != want {
				t.Error("concurrent Syncs differ")
			}
		})
	}
	wg.Wait()
}

func BenchmarkSync(b *testing.B) {
	now := mustTime(b, "2026-03-04T10:00:00Z")
	p := veeamPolicy(b, true)
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			newSim(b, 1, p, now).CasesAt(now)
		}
	})
	b.Run("warm", func(b *testing.B) {
		sim := newSim(b, 1, p, now)
		sim.CasesAt(now)
		for b.Loop() {
			sim.CasesAt(now)
		}
	})
}
