// Package bridge pushes per-case alerts to Alertmanager at the instants a
// running SLA target crosses its warning ratio, its imminent lead time and
// its due: a timer heap fires at those instants, not at poll or scrape
// times, and is recomputed for a source each time its poll publishes.
//
// Each target has at most one bridge alert firing: SupportSLACaseWarning,
// then SupportSLACaseBreachImminent, then SupportSLACaseBreached, each
// resolved at the instant the next one starts (so that a page is not
// followed by a ticket about the same case still saying "warning"). The
// firing one is resolved as soon as the target stops, is paused, excluded
// or its case deleted. Alerts are re-sent every resend interval with
// endsAt four intervals ahead, as Prometheus does. Labels and startsAt come
// from the case alone, so two bridges push identical alerts and an
// Alertmanager (cluster) sends one notification.
package bridge

import (
	"container/heap"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/sla"
)

// The alerts, in the order a target reaches them.
const (
	levelNone = iota - 1
	levelWarning
	levelImminent
	levelBreached
	numLevels
)

// Alert names.
const (
	AlertWarning  = "SupportSLACaseWarning"
	AlertImminent = "SupportSLACaseBreachImminent"
	AlertBreached = "SupportSLACaseBreached"
)

// levels are the alerts of the three crossings. Their severities are
// those of the rule-based alerts of alerts/: imminent is a warning like
// SupportSLACaseBreachImminent, which alerts/alertmanager.yml pages on
// by tier and case severity, so both paths route alike.
var levels = [numLevels]struct{ name, severity, summary string }{
	{AlertWarning, "info", "A support case has used most of the time of an SLA target."},
	{AlertImminent, "warning", "A support case is about to breach an SLA target."},
	{AlertBreached, "warning", "A support case is past an SLA target."},
}

// Source is what the bridge reads of a poller.
type Source interface {
	Name() string
	Evaluator() *sla.Evaluator
	Snapshot() *poller.Snapshot
}

var _ Source = (*poller.Poller)(nil)

// Config is what a bridge runs.
type Config struct {
	Alerting config.Alerting
	Sources  []Source
	// Posters deliver to the Alertmanagers, one each.
	Posters []Poster
	Clock   Clock // the real clock when nil
	Metrics *Metrics
	Logger  *slog.Logger
}

// Bridge schedules and pushes the alerts of a set of sources.
type Bridge struct {
	cfg     Config
	prev    *Bridge
	senders []*sender
	sink    func([]*models.PostableAlert) // the senders; tests replace it

	mu    sync.Mutex
	dirty map[string]Source
	wake  chan struct{}
	done  chan struct{}

	// Owned by the loop.
	entries    map[string]*entry
	events     eventHeap
	nextResend time.Time
	out        []*models.PostableAlert
	known      map[string]bool // the configured sources
}

// entry is one running target and the bridge alert it has firing.
type entry struct {
	key, source string
	labels      models.LabelSet // the case's labels, without alertname and severity
	due         time.Time
	url         string
	description [numLevels]string
	steps       [numLevels]time.Time // the crossing instants; zero: never
	level       int
	firing      *models.PostableAlert
	gen         uint64
}

// New makes a bridge. prev, the bridge of the previous configuration,
// hands over its firing alerts once it has stopped: those still due go on
// with the same startsAt, the others are resolved.
func New(cfg Config, prev *Bridge) *Bridge {
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Alerting.ResendInterval <= 0 {
		cfg.Alerting.ResendInterval = config.DefaultResendInterval
	}
	b := &Bridge{cfg: cfg, prev: prev, dirty: map[string]Source{}, wake: make(chan struct{}, 1),
		done: make(chan struct{}), entries: map[string]*entry{}, known: map[string]bool{}}
	for _, s := range cfg.Sources {
		b.dirty[s.Name()] = s
		b.known[s.Name()] = true
	}
	for _, p := range cfg.Posters {
		b.senders = append(b.senders, newSender(p, cfg.Clock, cfg.Metrics, cfg.Logger.With("alertmanager", p.String())))
	}
	b.sink = func(alerts []*models.PostableAlert) {
		for _, s := range b.senders {
			s.enqueue(alerts)
		}
	}
	return b
}

// Posters makes the posters of Alertmanager base URLs.
func Posters(urls []string) ([]Poster, error) {
	var ps []Poster
	for _, u := range urls {
		p, err := NewPoster(u, 10*time.Second)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Update says that src has published new cases. It never blocks: the
// bridge recomputes the source's instants in its own goroutine.
func (b *Bridge) Update(src Source) {
	b.mu.Lock()
	b.dirty[src.Name()] = src
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Run schedules and pushes until ctx ends.
func (b *Bridge) Run(ctx context.Context) {
	defer close(b.done)
	if b.prev != nil {
		select {
		case <-b.prev.done:
			b.inherit(b.prev)
		case <-ctx.Done():
			return
		}
		b.prev = nil
	}
	var wg sync.WaitGroup
	for _, s := range b.senders {
		wg.Go(func() { s.run(ctx) })
	}
	defer wg.Wait()
	for {
		now := b.cfg.Clock.Now()
		b.step(now)
		t := b.cfg.Clock.NewTimer(b.nextWake(now).Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		case <-b.wake:
		}
		t.Stop()
	}
}

// inherit takes over the firing alerts of a stopped bridge.
func (b *Bridge) inherit(prev *Bridge) {
	for k, e := range prev.entries {
		if e.firing != nil {
			b.entries[k] = e
		}
	}
}

// step applies the published sources, fires the events due at now and
// re-sends when the resend interval has passed, then hands what changed
// to the senders.
func (b *Bridge) step(now time.Time) {
	b.mu.Lock()
	dirty := b.dirty
	b.dirty = map[string]Source{}
	b.mu.Unlock()
	for name, src := range dirty {
		b.recompute(name, src, now)
	}
	b.compact()
	for k, e := range b.entries { // sources no longer configured
		if !b.known[e.source] {
			b.resolve(e, now)
			delete(b.entries, k)
		}
	}
	for len(b.events) > 0 && !b.events[0].at.After(now) {
		ev := heap.Pop(&b.events).(event)
		if e := b.entries[ev.key]; e != nil && e.gen == ev.gen {
			b.advance(e, now)
			b.schedule(e, now)
		}
	}
	if !now.Before(b.nextResend) {
		b.nextResend = now.Add(b.cfg.Alerting.ResendInterval)
		for _, e := range b.entries {
			if e.firing != nil {
				a := *e.firing
				a.EndsAt = b.endsAt(now)
				e.firing = &a
				b.out = append(b.out, &a)
			}
		}
	}
	if len(b.out) > 0 {
		b.sink(b.out)
		b.out = nil
	}
}

// nextWake is the next instant step has something to do.
func (b *Bridge) nextWake(now time.Time) time.Time {
	next := b.nextResend
	if len(b.events) > 0 && b.events[0].at.Before(next) {
		next = b.events[0].at
	}
	if next.Before(now) {
		return now
	}
	return next
}

func (b *Bridge) endsAt(now time.Time) strfmt.DateTime {
	return strfmt.DateTime(now.Add(4 * b.cfg.Alerting.ResendInterval).UTC())
}

// recompute replaces the entries of a source by those of its cases now.
func (b *Bridge) recompute(name string, src Source, now time.Time) {
	ev := src.Evaluator()
	snap := src.Snapshot()
	seen := map[string]bool{}
	var buf [sla.NumTargets]sla.Result
	for i := range snap.Cases {
		c := &snap.Cases[i]
		rs, err := ev.Evaluate(c, now, buf[:0])
		if err != nil {
			continue
		}
		for j := range rs {
			r := &rs[j]
			if (r.State != sla.StateOK && r.State != sla.StateWarning && r.State != sla.StateBreached) || !r.HasDue {
				continue
			}
			n := b.build(name, c, r, ev, now)
			seen[n.key] = true
			e := b.entries[n.key]
			if e == nil {
				e = n
				b.entries[n.key] = e
			} else {
				if e.firing != nil && fingerprint(e.labels) != fingerprint(n.labels) {
					b.resolve(e, now)
				}
				e.labels, e.due, e.url, e.description, e.steps = n.labels, n.due, n.url, n.description, n.steps
				e.source = name
			}
			e.gen++
			b.advance(e, now)
			b.schedule(e, now)
		}
	}
	for k, e := range b.entries {
		if e.source == name && !seen[k] {
			b.resolve(e, now)
			delete(b.entries, k)
		}
	}
}

// build makes the entry of a running target.
func (b *Bridge) build(source string, c *sla.Case, r *sla.Result, ev *sla.Evaluator, now time.Time) *entry {
	e := &entry{key: source + "\x00" + c.ID + "\x00" + r.Target.String(), source: source, level: levelNone,
		due: r.DueTime(), url: c.URL}
	e.labels = models.LabelSet{"source": source, "case": c.ID, "tier": r.Tier,
		"case_severity": strconv.Itoa(r.Severity), "target": r.Target.String()}
	if c.Customer != "" {
		e.labels["customer"] = c.Customer
	}
	if t, ok := ev.Reaches(c, now, r.Target, ev.Policy.WarningElapsed(r.Goal)); ok {
		e.steps[levelWarning] = t
	}
	if lead := b.cfg.Alerting.LeadTimeOf(r.Tier); lead > 0 {
		t := e.due.Add(-lead)
		if created := c.Created.UTC().Truncate(time.Second); t.Before(created) {
			t = created
		}
		e.steps[levelImminent] = t
	}
	if t, ok := ev.Reaches(c, now, r.Target, r.Goal+1); ok {
		e.steps[levelBreached] = t
	}
	what := fmt.Sprintf("Case %s", c.ID)
	if c.Customer != "" {
		what += " of " + c.Customer
	}
	what += fmt.Sprintf(" (source %s, tier %s, severity %d)", source, r.Tier, r.Severity)
	target := targetWords(r.Target)
	due := e.due.Format(time.RFC3339)
	e.description[levelWarning] = fmt.Sprintf("%s has used %.0f%% of its %s time; due %s.", what, 100*ev.Policy.WarningRatio, target, due)
	e.description[levelImminent] = fmt.Sprintf("%s has its %s due %s, in %s or less.", what, target, due, b.cfg.Alerting.LeadTimeOf(r.Tier))
	e.description[levelBreached] = fmt.Sprintf("%s is past its %s goal, due %s.", what, target, due)
	return e
}

func targetWords(t sla.Target) string {
	if t == sla.FirstResponse {
		return "first response"
	}
	return t.String()
}

// levelAt is the most advanced alert whose instant has come.
func (e *entry) levelAt(now time.Time) int {
	for l := numLevels - 1; l >= 0; l-- {
		if !e.steps[l].IsZero() && !e.steps[l].After(now) {
			return l
		}
	}
	return levelNone
}

// advance fires the entry's alert of now, resolving the one it replaces;
// a firing alert whose due, description or startsAt changed with its case
// is sent again at once.
func (b *Bridge) advance(e *entry, now time.Time) {
	l := e.levelAt(now)
	if l == e.level && (l == levelNone) == (e.firing == nil) {
		if e.firing != nil {
			if a := b.alertOf(e, l, now); changed(a, e.firing) {
				e.firing = a
				b.out = append(b.out, a)
			}
		}
		return
	}
	b.resolve(e, now)
	e.level = l
	if l == levelNone {
		return
	}
	e.firing = b.alertOf(e, l, now)
	b.out = append(b.out, e.firing)
}

// alertOf is the entry's alert of level l, firing.
func (b *Bridge) alertOf(e *entry, l int, now time.Time) *models.PostableAlert {
	lv := levels[l]
	labels := models.LabelSet{"alertname": lv.name, "severity": lv.severity}
	for k, v := range e.labels {
		labels[k] = v
	}
	ann := models.LabelSet{"summary": lv.summary, "description": e.description[l], "due": e.due.Format(time.RFC3339)}
	a := &models.PostableAlert{Alert: models.Alert{Labels: labels}, Annotations: ann,
		StartsAt: strfmt.DateTime(e.steps[l].UTC()), EndsAt: b.endsAt(now)}
	if e.url != "" {
		ann["case_url"] = e.url
		a.GeneratorURL = strfmt.URI(e.url)
	}
	return a
}

// changed says whether two versions of an alert differ besides endsAt.
func changed(a, b *models.PostableAlert) bool {
	return !time.Time(a.StartsAt).Equal(time.Time(b.StartsAt)) || a.GeneratorURL != b.GeneratorURL ||
		fingerprint(a.Annotations) != fingerprint(b.Annotations)
}

// resolve sends the entry's firing alert with endsAt now.
func (b *Bridge) resolve(e *entry, now time.Time) {
	if e.firing == nil {
		e.level = levelNone
		return
	}
	a := *e.firing
	a.EndsAt = strfmt.DateTime(now.UTC())
	b.out = append(b.out, &a)
	e.firing, e.level = nil, levelNone
}

// schedule queues the entry's next crossing after now.
func (b *Bridge) schedule(e *entry, now time.Time) {
	var next time.Time
	for _, t := range e.steps {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if !next.IsZero() {
		heap.Push(&b.events, event{at: next, key: e.key, gen: e.gen})
	}
}

// compact drops the events of replaced entries once they outnumber the
// live ones: each poll reschedules every entry.
func (b *Bridge) compact() {
	if len(b.events) <= 2*len(b.entries)+64 {
		return
	}
	live := b.events[:0]
	for _, ev := range b.events {
		if e := b.entries[ev.key]; e != nil && e.gen == ev.gen {
			live = append(live, ev)
		}
	}
	clear(b.events[len(live):])
	b.events = live
	heap.Init(&b.events)
}

type event struct {
	at  time.Time
	key string
	gen uint64
}

type eventHeap []event

func (h eventHeap) Len() int           { return len(h) }
func (h eventHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h eventHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)        { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
