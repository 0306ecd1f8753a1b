package bridge

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeClock's timers fire when Advance passes their deadline. Each new
// timer is announced on armed.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	armed  chan time.Time
}

type fakeTimer struct {
	at   time.Time
	c    chan time.Time
	dead bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool {
	was := !t.dead
	t.dead = true
	return was
}

func newFakeClock(at time.Time) *fakeClock {
	return &fakeClock{now: at, armed: make(chan time.Time, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	c.armed <- t.at
	return t
}

// Set moves the clock to at and fires the timers due.
func (c *fakeClock) Set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = at
	keep := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(at) {
			t.c <- at
			continue
		}
		keep = append(keep, t)
	}
	c.timers = keep
}

// waitArmed waits for a timer with deadline at.
func (c *fakeClock) waitArmed(t *testing.T, at time.Time) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-c.armed:
			if got.Equal(at) {
				return
			}
		case <-deadline:
			t.Fatalf("no timer armed for %s", at)
		}
	}
}

type post struct {
	at     time.Time
	alerts models.PostableAlerts
}

// fakePoster records posts on the fake clock; the first fail posts fail.
type fakePoster struct {
	clock *fakeClock
	fail  int
	posts chan post
}

func (p *fakePoster) String() string { return "fake" }
func (p *fakePoster) Post(_ context.Context, as models.PostableAlerts) error {
	p.posts <- post{p.clock.Now(), as}
	if p.fail > 0 {
		p.fail--
		return errors.New("503 Service Unavailable")
	}
	return nil
}

func (p *fakePoster) next(t *testing.T) post {
	t.Helper()
	select {
	case x := <-p.posts:
		return x
	case <-time.After(5 * time.Second):
		t.Fatal("nothing posted")
		return post{}
	}
}

// Run on a fake clock: the warning is posted at its instant, a failed post
// is retried after the backoff, and the metrics say so.
func TestRunPostsAndRetries(t *testing.T) {
	clk := newFakeClock(t0.Add(20 * time.Minute))
	src := &fakeSource{name: "helpdesk", ev: testEvaluator(t)}
	src.set(newCase("C-1"))
	p := &fakePoster{clock: clk, fail: 1, posts: make(chan post, 10)}
	m := NewMetrics()
	a := alerting
	a.ResendInterval = time.Hour // no re-send in this test
	b := New(Config{Alerting: a, Sources: []Source{src}, Posters: []Poster{p}, Clock: clk, Metrics: m}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	warn := t0.Add(1350 * time.Second)
	clk.waitArmed(t, warn)
	clk.Set(warn.Add(-time.Second))
	select {
	case x := <-p.posts:
		t.Fatalf("posted before the instant: %+v", x)
	default:
	}
	clk.Set(warn)
	x := p.next(t)
	if !x.at.Equal(warn) || len(x.alerts) != 1 || x.alerts[0].Labels["alertname"] != AlertWarning {
		t.Fatalf("posted %+v at %s, want the warning at %s", x.alerts, x.at, warn)
	}
	clk.waitArmed(t, warn.Add(minBackoff))
	if got := testutil.ToFloat64(m.Errors); got != 1 {
		t.Errorf("errors_total %g, want 1", got)
	}
	if got := testutil.ToFloat64(m.Pending); got != 1 {
		t.Errorf("pending_alerts %g, want 1", got)
	}
	clk.Set(warn.Add(minBackoff))
	if x := p.next(t); !x.at.Equal(warn.Add(minBackoff)) || x.alerts[0].Labels["alertname"] != AlertWarning {
		t.Fatalf("retry %+v at %s", x.alerts, x.at)
	}
	// The update that answers the case resolves the warning at once.
	c := newCase("C-1")
	c.FirstResponse = warn.Add(2 * time.Second)
	clk.Set(c.FirstResponse)
	src.set(c)
	b.Update(src)
	x = p.next(t)
	if len(x.alerts) != 1 || !time.Time(x.alerts[0].EndsAt).Equal(c.FirstResponse) {
		t.Fatalf("after the answer posted %+v, want the warning resolved", x.alerts)
	}
	cancel()
	<-done
	if got := testutil.ToFloat64(m.Sent.WithLabelValues(AlertWarning)); got != 2 {
		t.Errorf("alerts_sent_total %g, want 2 (firing, resolved)", got)
	}
	if got := testutil.ToFloat64(m.Pending); got != 0 {
		t.Errorf("pending_alerts %g, want 0", got)
	}
}
