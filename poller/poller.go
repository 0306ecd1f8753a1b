// Package poller polls one source on its interval, in the background, and
// keeps the last good cases it returned: scrapes read that cache and never
// wait for a ticket system.
package poller

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
)

// Snapshot is what a poller knows at one moment. It is immutable: a poll
// publishes a new one.
type Snapshot struct {
	// Cases are the last good cases, oldest first as the source gave them.
	Cases []sla.Case
	// Polled says a poll has ended, well or not.
	Polled bool
	// Up says the last poll succeeded.
	Up bool
	// LastSuccess is when the last successful poll ended.
	LastSuccess time.Time
	// LastError is the last poll's error, nil when it succeeded.
	LastError error
}

// Config is what a poller polls.
type Config struct {
	Name      string
	Interval  time.Duration
	Source    sources.Source
	Evaluator *sla.Evaluator
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Durations observes each poll's duration, in seconds; may be nil.
	Durations prometheus.Observer
	// OnPublish, when set, is called after each successful poll has
	// published its cases, in the polling goroutine: it must not block.
	OnPublish func()
}

// Poller polls one source. Its methods are safe for concurrent use.
type Poller struct {
	cfg  Config
	snap atomic.Pointer[Snapshot]

	// Held by the one poll running at a time.
	mu     sync.Mutex
	cursor string

	// inheritedReady: the cache came from a poller that had polled.
	inheritedReady bool
}

// New makes a poller. Its cache starts with the cases of prev (a poller of
// the same name under the previous configuration), so a reload does not
// blank the metrics; the first poll still reads everything again.
func New(cfg Config, prev *Poller) *Poller {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Poller{cfg: cfg}
	s := &Snapshot{}
	if prev != nil {
		old := prev.Snapshot()
		s.Cases, s.LastSuccess, s.Up = old.Cases, old.LastSuccess, old.Up
		p.inheritedReady = old.Polled || prev.inheritedReady
	}
	p.snap.Store(s)
	return p
}

// Name is the source's name.
func (p *Poller) Name() string { return p.cfg.Name }

// Evaluator is the source's evaluator.
func (p *Poller) Evaluator() *sla.Evaluator { return p.cfg.Evaluator }

// Interval is the source's polling interval.
func (p *Poller) Interval() time.Duration { return p.cfg.Interval }

// Ready reports whether the poller serves a polled cache: it has polled,
// or it took over the cache of a poller that had. A reload thus keeps
// the exporter ready for the sources it keeps.
func (p *Poller) Ready() bool { return p.inheritedReady || p.Snapshot().Polled }

// Snapshot is the poller's current state.
func (p *Poller) Snapshot() *Snapshot { return p.snap.Load() }

// Run polls at once, then every interval (with up to a tenth of it of
// jitter, so that sources configured alike do not poll in step) until ctx
// ends. A poll that outlasts its interval delays the next: one source is
// never polled twice at once.
func (p *Poller) Run(ctx context.Context) {
	for {
		p.Poll(ctx)
		jitter := time.Duration(rand.Int64N(int64(p.cfg.Interval)/10 + 1))
		t := time.NewTimer(p.cfg.Interval - p.cfg.Interval/20 + jitter)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// fullSyncTimeout bounds a full sync. A first load reads the history of
// every case: against a large system under its API rate limit that takes
// hours, and a bound of a few intervals would fail it every time. Each
// request keeps its own timeout, so a stalled server still fails it.
const fullSyncTimeout = 24 * time.Hour

// pollTimeout bounds one poll: a poll still running then has failed.
func (p *Poller) pollTimeout() time.Duration {
	if p.cursor == "" {
		return fullSyncTimeout
	}
	return max(2*p.cfg.Interval, time.Minute)
}

// Poll polls the source once and publishes the outcome.
func (p *Poller) Poll(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, p.pollTimeout())
	defer cancel()
	start := p.cfg.Now()
	b, err := p.sync(ctx)
	end := p.cfg.Now()
	if p.cfg.Durations != nil {
		p.cfg.Durations.Observe(end.Sub(start).Seconds())
	}
	old := p.snap.Load()
	next := &Snapshot{Cases: old.Cases, Polled: true, LastSuccess: old.LastSuccess, LastError: err}
	log := p.cfg.Logger.With("duration", end.Sub(start).Round(time.Millisecond))
	if err != nil {
		log.Error("Poll failed, serving the last good cases", "cases", len(old.Cases), "err", err)
		p.snap.Store(next)
		return err
	}
	next.Up, next.LastSuccess = true, end
	next.Cases = merge(old.Cases, b, end)
	p.cursor = b.Cursor
	p.snap.Store(next)
	if p.cfg.OnPublish != nil {
		p.cfg.OnPublish()
	}
	for _, pr := range b.Problems {
		log.Warn("Skipped a record", "err", pr)
	}
	unknown := 0
	for i := range b.Cases {
		if _, ok := p.cfg.Evaluator.Policy.Tiers[p.cfg.Evaluator.Tier(&b.Cases[i])]; !ok {
			unknown++
		}
	}
	if unknown > 0 {
		log.Warn("Cases with a tier their policy does not have are left out of the SLA figures", "count", unknown, "policy", p.cfg.Evaluator.Policy.Name)
	}
	log.Info("Polled", "full", b.Full, "fetched", len(b.Cases), "deleted", len(b.Deleted), "skipped", len(b.Problems), "cases", len(next.Cases))
	return nil
}

// sync calls the source, turning a panic into an error: a broken source
// must not take the others down.
func (p *Poller) sync(ctx context.Context) (b sources.Batch, err error) {
	defer func() {
		if r := recover(); r != nil {
			p.cfg.Logger.Debug("Source panicked", "stack", string(debug.Stack()))
			err = fmt.Errorf("source panicked: %v", r)
		}
	}()
	return p.cfg.Source.Sync(ctx, p.cursor)
}

// merge applies a batch to the cached cases and drops those the figures no
// longer need: resolved before the start of the current month (UTC), as the
// monthly figures count outcomes of this month only.
func merge(old []sla.Case, b sources.Batch, now time.Time) []sla.Case {
	y, m, _ := now.UTC().Date()
	monthStart := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	keep := func(c *sla.Case) bool { return c.Resolved.IsZero() || !c.Resolved.Before(monthStart) }

	// The last version of each case in the batch: a paginated API can
	// return a case twice when it changes between two pages.
	changed := make(map[string]int, len(b.Cases))
	for i := range b.Cases {
		changed[b.Cases[i].ID] = i
	}
	var out []sla.Case
	if b.Full {
		out = make([]sla.Case, 0, len(changed))
		for i := range b.Cases {
			j, ok := changed[b.Cases[i].ID]
			if !ok {
				continue // a later version of it was taken already
			}
			delete(changed, b.Cases[i].ID)
			if keep(&b.Cases[j]) {
				out = append(out, b.Cases[j])
			}
		}
		return out
	}
	deleted := make(map[string]bool, len(b.Deleted))
	for _, id := range b.Deleted {
		deleted[id] = true
	}
	out = make([]sla.Case, 0, len(old)+len(changed))
	for i := range old {
		c := &old[i]
		if deleted[c.ID] {
			continue
		}
		if j, ok := changed[c.ID]; ok {
			c = &b.Cases[j]
			delete(changed, c.ID)
		}
		if keep(c) {
			out = append(out, *c)
		}
	}
	for i := range b.Cases { // new cases, in the batch's order, each once
		id := b.Cases[i].ID
		j, ok := changed[id]
		if !ok || deleted[id] {
			continue
		}
		delete(changed, id)
		if keep(&b.Cases[j]) {
			out = append(out, b.Cases[j])
		}
	}
	return out
}
