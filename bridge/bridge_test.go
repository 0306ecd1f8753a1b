package bridge

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/sla"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// testEvaluator: tier premium, first response 30 min and resolution 4 h
// (paused while pending the customer), always open; warning at 75 %.
func testEvaluator(t testing.TB) *sla.Evaluator {
	t.Helper()
	always := sla.AlwaysOpen()
	dur := func(d time.Duration, pausable bool) sla.Goal {
		return sla.Goal{Kind: sla.GoalDuration, Duration: d, Calendar: always, Pausable: pausable}
	}
	fr, res := dur(30*time.Minute, false), dur(4*time.Hour, true)
	p := &sla.Policy{Name: "test", DefaultTier: "premium", DefaultSeverity: 2, WarningRatio: 0.75,
		PauseStatuses: []sla.Status{sla.StatusPendingCustomer},
		Tiers: map[string]*sla.Tier{"premium": {Name: "premium", Calendar: always, Targets: [sla.NumTargets]*sla.Goals{
			{{}, fr, fr, fr, fr}, {{}, res, res, res, res}}}},
		Exclude: []sla.ExclusionRule{{Label: "experimental"}},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return &sla.Evaluator{Policy: p}
}

type fakeSource struct {
	name string
	ev   *sla.Evaluator
	mu   sync.Mutex
	snap *poller.Snapshot
}

func (s *fakeSource) Name() string              { return s.name }
func (s *fakeSource) Evaluator() *sla.Evaluator { return s.ev }
func (s *fakeSource) Snapshot() *poller.Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap
}
func (s *fakeSource) set(cases ...sla.Case) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap = &poller.Snapshot{Cases: cases, Polled: true, Up: true}
}

func newCase(id string) sla.Case {
	return sla.Case{ID: id, Customer: "acme", Severity: 2, Status: sla.StatusOpen, Created: t0, URL: "https://help.example.com/" + id}
}

var alerting = config.Alerting{ResendInterval: time.Minute, LeadTime: 15 * time.Minute,
	LeadTimes: map[string]time.Duration{"premium": 5 * time.Minute}}

type sent struct {
	at    time.Time
	alert models.PostableAlert
}

func (s sent) name() string   { return s.alert.Labels["alertname"] }
func (s sent) target() string { return s.alert.Labels["target"] }
func (s sent) firing() bool   { return time.Time(s.alert.EndsAt).After(s.at) }

// sim drives a bridge's step as Run does, on simulated time, recording
// what it hands to the senders and when.
type sim struct {
	b   *Bridge
	now time.Time
	out []sent
}

func newSim(t testing.TB, start time.Time, srcs ...Source) *sim {
	s := &sim{now: start}
	s.b = New(Config{Alerting: alerting, Sources: srcs}, nil)
	s.b.sink = func(as []*models.PostableAlert) {
		for _, a := range as {
			s.out = append(s.out, sent{s.now, *a})
		}
	}
	s.b.step(s.now)
	return s
}

// until runs every wake-up up to end included, then sets the clock to end.
func (s *sim) until(end time.Time) {
	for {
		next := s.b.nextWake(s.now)
		if next.After(end) {
			break
		}
		if !next.After(s.now) {
			next = s.now.Add(time.Nanosecond) // never spin
		}
		s.now = next
		s.b.step(s.now)
	}
	s.now = end
}

// poll publishes a source's new cases at the sim's now.
func (s *sim) poll(src Source) {
	s.b.Update(src)
	s.b.step(s.now)
}

func (s *sim) of(name, target string) []sent {
	var r []sent
	for _, x := range s.out {
		if x.name() == name && x.target() == target {
			r = append(r, x)
		}
	}
	return r
}

func TestInstantsAndResends(t *testing.T) {
	src := &fakeSource{name: "helpdesk", ev: testEvaluator(t)}
	src.set(newCase("C-1"))
	s := newSim(t, t0.Add(time.Second), src)
	s.until(t0.Add(40 * time.Minute))
	tests := []struct {
		name          string
		start, resolv time.Time // resolved when the next one starts
	}{
		{AlertWarning, t0.Add(1350 * time.Second), t0.Add(25 * time.Minute)},
		{AlertImminent, t0.Add(25 * time.Minute), t0.Add(1801 * time.Second)},
		{AlertBreached, t0.Add(1801 * time.Second), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.of(tt.name, "first_response")
			if len(got) == 0 {
				t.Fatal("never sent")
			}
			if !got[0].at.Equal(tt.start) || !got[0].firing() {
				t.Errorf("first sent at %s (firing %v), want firing at %s", got[0].at, got[0].firing(), tt.start)
			}
			last := got[0].at
			for i, x := range got {
				if !time.Time(x.alert.StartsAt).Equal(tt.start) {
					t.Errorf("send %d: startsAt %s, want %s", i, time.Time(x.alert.StartsAt), tt.start)
				}
				if x.at.Before(tt.start) {
					t.Errorf("send %d at %s, before its instant", i, x.at)
				}
				if !x.firing() {
					if i != len(got)-1 || !x.at.Equal(tt.resolv) || !time.Time(x.alert.EndsAt).Equal(x.at) {
						t.Errorf("send %d: resolved at %s (endsAt %s), want only the last, at and ending %s", i, x.at, time.Time(x.alert.EndsAt), tt.resolv)
					}
					continue
				}
				if want := x.at.Add(4 * time.Minute); !time.Time(x.alert.EndsAt).Equal(want) {
					t.Errorf("send %d: endsAt %s, want %s", i, time.Time(x.alert.EndsAt), want)
				}
				if x.at.Sub(last) > time.Minute {
					t.Errorf("send %d at %s: %s after the previous one, more than the resend interval", i, x.at, x.at.Sub(last))
				}
				last = x.at
			}
			if tt.resolv.IsZero() && !got[len(got)-1].firing() {
				t.Error("resolved while the target still runs")
			}
			if tt.resolv.IsZero() && s.now.Sub(got[len(got)-1].at) > time.Minute {
				t.Error("no longer re-sent")
			}
		})
	}
	if got := s.of(AlertBreached, "first_response")[0].alert; fmt.Sprint(got.Labels) != fmt.Sprint(models.LabelSet{
		"alertname": AlertBreached, "severity": "warning", "source": "helpdesk", "case": "C-1", "customer": "acme",
		"tier": "premium", "case_severity": "2", "target": "first_response"}) ||
		got.Annotations["due"] != "2026-03-02T08:30:00Z" || got.Annotations["case_url"] != "https://help.example.com/C-1" ||
		string(got.GeneratorURL) != "https://help.example.com/C-1" || got.Annotations["summary"] == "" || got.Annotations["description"] == "" {
		t.Errorf("breached alert: %+v %+v %s", got.Labels, got.Annotations, got.GeneratorURL)
	}
}

// A case answered just before an instant sends nothing, and one answered
// while an alert fires resolves it at once.
func TestAnswered(t *testing.T) {
	tests := []struct {
		name     string
		answer   time.Duration // first response, after creation
		wantSent int
	}{
		{"just before the warning", 1349 * time.Second, 0},
		{"while warning", 24 * time.Minute, 2}, // fired, then resolved
		{"just before the due", 1800 * time.Second, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{name: "helpdesk", ev: testEvaluator(t)}
			src.set(newCase("C-1"))
			s := newSim(t, t0, src)
			s.until(t0.Add(tt.answer))
			c := newCase("C-1")
			c.FirstResponse = t0.Add(tt.answer)
			src.set(c)
			s.poll(src)
			s.until(t0.Add(2 * time.Hour))
			var changes []sent // first send of each alert and its resolution
			seen := map[string]bool{}
			for _, x := range s.out {
				if x.target() != "first_response" {
					t.Fatalf("a resolution alert before its instant: %+v", x)
				}
				if k := fmt.Sprint(x.name(), x.firing()); !seen[k] {
					seen[k] = true
					changes = append(changes, x)
				}
			}
			if len(changes) != tt.wantSent {
				t.Fatalf("%d changes, want %d: %v", len(changes), tt.wantSent, changes)
			}
			if n := len(changes); n > 0 {
				last := changes[n-1]
				if last.firing() || !last.at.Equal(t0.Add(tt.answer)) {
					t.Errorf("last change %+v at %s, want resolved at the answer", last.alert, last.at)
				}
				for _, x := range s.out {
					if x.at.After(t0.Add(tt.answer)) {
						t.Errorf("sent after the answer: %s at %s", x.name(), x.at)
					}
				}
			}
		})
	}
}

// A pause resolves the firing alert and moves the breach by its length;
// after it the alert fires again with the same startsAt.
func TestPause(t *testing.T) {
	src := &fakeSource{name: "helpdesk", ev: testEvaluator(t)}
	c := newCase("C-1")
	c.FirstResponse = t0.Add(time.Minute)
	src.set(c)
	s := newSim(t, t0.Add(2*time.Minute), src) // after the first response
	warn := t0.Add(3 * time.Hour)
	s.until(warn.Add(10 * time.Minute))
	pausedAt := s.now
	c.StatusHistory = []sla.StatusChange{{At: pausedAt, Status: sla.StatusPendingCustomer}}
	c.Status = sla.StatusPendingCustomer
	src.set(c)
	s.poll(src)
	s.until(pausedAt.Add(50 * time.Minute))
	unpaused := s.now
	c.StatusHistory = append(c.StatusHistory, sla.StatusChange{At: unpaused, Status: sla.StatusOpen})
	c.Status = sla.StatusOpen
	src.set(c)
	s.poll(src)
	s.until(t0.Add(6 * time.Hour))

	w := s.of(AlertWarning, "resolution")
	var during []sent
	for _, x := range w {
		if x.at.After(pausedAt) && x.at.Before(unpaused) {
			during = append(during, x)
		}
	}
	if len(during) != 0 {
		t.Errorf("warning sent during the pause: %v", during)
	}
	var resolvedAtPause, refired bool
	for _, x := range w {
		if x.at.Equal(pausedAt) && !x.firing() {
			resolvedAtPause = true
		}
		if x.at.Equal(unpaused) && x.firing() && time.Time(x.alert.StartsAt).Equal(warn) {
			refired = true
		}
	}
	if !w[0].at.Equal(warn) {
		t.Errorf("warning at %s, want %s", w[0].at, warn)
	}
	if !resolvedAtPause || !refired {
		t.Errorf("resolved at the pause %v, fired again at the unpause with its startsAt %v", resolvedAtPause, refired)
	}
	// 4 h of clock plus the 50 min pause: the imminent alert (premium's
	// 5 min lead) and the breach move with it.
	due := t0.Add(4*time.Hour + 50*time.Minute)
	for _, tt := range []struct {
		name string
		at   time.Time
	}{{AlertImminent, due.Add(-5 * time.Minute)}, {AlertBreached, due.Add(time.Second)}} {
		got := s.of(tt.name, "resolution")
		if len(got) == 0 || !got[0].at.Equal(tt.at) || !time.Time(got[0].alert.StartsAt).Equal(tt.at) {
			t.Errorf("%s: %v, want first at %s", tt.name, got, tt.at)
		}
	}
}

// Deleted or excluded cases resolve their alerts.
func TestGone(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(src *fakeSource)
	}{
		{"deleted", func(src *fakeSource) { src.set() }},
		{"excluded", func(src *fakeSource) {
			c := newCase("C-1")
			c.Labels = []string{"experimental"}
			src.set(c)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{name: "helpdesk", ev: testEvaluator(t)}
			src.set(newCase("C-1"))
			s := newSim(t, t0, src)
			s.until(t0.Add(26 * time.Minute))
			gone := s.now
			tt.change(src)
			s.poll(src)
			s.until(t0.Add(time.Hour))
			last := s.out[len(s.out)-1]
			if last.at != gone || last.firing() || last.name() != AlertImminent {
				t.Errorf("last sent %s at %s firing %v, want %s resolved at %s", last.name(), last.at, last.firing(), AlertImminent, gone)
			}
		})
	}
}

// Two bridges started at different times push identical alerts.
func TestTwoBridgesAgree(t *testing.T) {
	ev := testEvaluator(t)
	src := &fakeSource{name: "helpdesk", ev: ev}
	src.set(newCase("C-1"), newCase("C-2"))
	a := newSim(t, t0, src)
	b := newSim(t, t0.Add(27*time.Minute+13*time.Second), src)
	a.until(t0.Add(time.Hour))
	b.until(t0.Add(time.Hour))
	key := func(x sent) string {
		return fmt.Sprint(fingerprint(x.alert.Labels), time.Time(x.alert.StartsAt), x.alert.Annotations, x.alert.GeneratorURL)
	}
	firing := func(s *sim, at time.Time) map[string]bool {
		m := map[string]bool{}
		for _, x := range s.out {
			if x.firing() && !x.at.Before(at) {
				m[key(x)] = true
			}
		}
		return m
	}
	fa, fb := firing(a, t0.Add(50*time.Minute)), firing(b, t0.Add(50*time.Minute))
	if len(fa) != 2 || fmt.Sprint(fa) != fmt.Sprint(fb) {
		t.Errorf("bridge A fires %v\nbridge B fires %v", fa, fb)
	}
}

// A reload's bridge takes over the firing alerts: those of a kept source
// go on with their startsAt, those of a removed source are resolved.
func TestInherit(t *testing.T) {
	for _, tt := range []struct {
		name   string
		keep   bool
		firing bool
	}{{"source kept", true, true}, {"source removed", false, false}} {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSource{name: "helpdesk", ev: testEvaluator(t)}
			src.set(newCase("C-1"))
			old := newSim(t, t0, src)
			old.until(t0.Add(26 * time.Minute))
			var srcs []Source
			if tt.keep {
				srcs = []Source{src}
			}
			s := &sim{now: old.now}
			s.b = New(Config{Alerting: alerting, Sources: srcs}, nil)
			s.b.sink = func(as []*models.PostableAlert) {
				for _, a := range as {
					s.out = append(s.out, sent{s.now, *a})
				}
			}
			s.b.inherit(old.b)
			s.b.step(s.now)
			if len(s.out) != 1 {
				t.Fatalf("sent %d alerts at the takeover, want 1: %v", len(s.out), s.out)
			}
			x := s.out[0]
			if x.name() != AlertImminent || x.firing() != tt.firing || !time.Time(x.alert.StartsAt).Equal(t0.Add(25*time.Minute)) {
				t.Errorf("sent %s firing %v startsAt %s, want %s firing %v from %s", x.name(), x.firing(),
					time.Time(x.alert.StartsAt), AlertImminent, tt.firing, t0.Add(25*time.Minute))
			}
		})
	}
}

// A firing alert whose case learns of an earlier pause keeps its labels
// and is sent again at once with the new due.
func TestChangedDue(t *testing.T) {
	src := &fakeSource{name: "helpdesk", ev: testEvaluator(t)}
	c := newCase("C-1")
	c.FirstResponse = t0.Add(time.Minute)
	src.set(c)
	s := newSim(t, t0.Add(2*time.Minute), src) // after the first response
	s.until(t0.Add(3*time.Hour + 30*time.Minute))
	n := len(s.out)
	c.StatusHistory = []sla.StatusChange{{At: t0.Add(time.Hour), Status: sla.StatusPendingCustomer}, {At: t0.Add(time.Hour + 10*time.Minute), Status: sla.StatusOpen}}
	src.set(c)
	s.poll(src)
	if len(s.out) != n+1 {
		for _, x := range s.out[n:] {
			t.Logf("%s firing %v due %s startsAt %s", x.name(), x.firing(), x.alert.Annotations["due"], time.Time(x.alert.StartsAt))
		}
		t.Fatalf("sent %d at the change, want 1", len(s.out)-n)
	}
	x := s.out[n]
	if x.name() != AlertWarning || !x.firing() || x.alert.Annotations["due"] != "2026-03-02T12:10:00Z" ||
		!time.Time(x.alert.StartsAt).Equal(t0.Add(3*time.Hour+10*time.Minute)) {
		t.Errorf("sent %s firing %v due %s startsAt %s", x.name(), x.firing(), x.alert.Annotations["due"], time.Time(x.alert.StartsAt))
	}
}
