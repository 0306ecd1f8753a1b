// Package collector turns the cases the pollers hold into Prometheus
// metrics, evaluating every case at the scrape instant: the cases are
// polled in the background, the SLA state is always of now.
package collector

import (
	"cmp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/sla"
)

// State is what a scrape reads: the pollers of the live configuration and
// its metric options.
type State struct {
	Pollers []*poller.Poller
	Metrics config.Metrics
}

// Collector is the SLA collector. It is unchecked (it describes no metric
// up front) because a reload may add or remove the customer label.
type Collector struct {
	state func() State
	now   func() time.Time
	start time.Time // outcomes decided before it were not decided "while this process ran"
	plain descs
	byCus descs

	mu sync.Mutex // one scrape at a time updates the outcome counters
	// counted holds, by source and case id, the targets whose outcome
	// outcomes_total has counted. Every scrape looks up every case with an
	// outcome decided since the start: keyed by the id alone, that is one
	// short string to hash per case.
	counted  map[string]map[string]targetSet
	nCounted int // case ids in counted, over all sources
	totals   map[outcomeKey]float64
}

// targetSet is a set of targets, one bit each.
type targetSet uint8

func (s targetSet) has(t sla.Target) bool { return s&(1<<t) != 0 }

type outcomeKey struct {
	source, tier string
	sev          int
	target       sla.Target
	state        sla.State
}

// New makes a collector over the state state returns at each scrape, with
// the clock now (time.Now when nil).
func New(state func() State, now func() time.Time) *Collector {
	if now == nil {
		now = time.Now
	}
	return &Collector{
		state: state, now: now, start: now().Truncate(time.Second),
		plain: newDescs(false), byCus: newDescs(true),
		counted: map[string]map[string]targetSet{}, totals: map[outcomeKey]float64{},
	}
}

// Describe implements prometheus.Collector; it describes nothing, which
// makes the collector unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now().Truncate(time.Second)
	st := c.state()
	d := c.plain
	if st.Metrics.ByCustomer {
		d = c.byCus
	}
	var top *topSeries // over all sources
	seen := 0
	for _, p := range st.Pollers {
		// One snapshot for the figures and the case count: a poll may
		// publish the next one meanwhile.
		snap := p.Snapshot()
		a := c.aggregate(p, snap.Cases, now, st.Metrics)
		seen += a.cases
		a.emit(ch, d, p.Name(), st.Metrics.ByCustomer)
		if top == nil {
			top = a.top
		} else {
			top.merge(a.top)
		}
		ch <- prometheus.MustNewConstMetric(sourceUpDesc, prometheus.GaugeValue, boolValue(snap.Up), p.Name())
		if !snap.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, float64(snap.LastSuccess.UnixMilli())/1000, p.Name())
		}
		ch <- prometheus.MustNewConstMetric(pollIntervalDesc, prometheus.GaugeValue, p.Interval().Seconds(), p.Name())
		ch <- prometheus.MustNewConstMetric(sourceCasesDesc, prometheus.GaugeValue, float64(len(snap.Cases)), p.Name())
	}
	live := make(map[string]bool, len(st.Pollers))
	for _, p := range st.Pollers {
		live[p.Name()] = true
	}
	for k, v := range c.totals {
		if !live[k.source] { // a source a reload removed: its series go too
			delete(c.totals, k)
			if set, ok := c.counted[k.source]; ok {
				c.nCounted -= len(set)
				delete(c.counted, k.source)
			}
			continue
		}
		ch <- prometheus.MustNewConstMetric(outcomesTotalDesc, prometheus.CounterValue, v, k.source, k.tier, sevLabel(k.sev), k.target.String(), k.state.String())
	}
	// Pruning reads every case: wait until the forgotten cases outnumber
	// the live ones, so that it costs a constant per case forgotten.
	if c.nCounted > 2*seen+1024 {
		c.prune(st.Pollers)
	}
	if st.Metrics.PerCase {
		if top == nil { // no source
			top = &topSeries{max: st.Metrics.MaxCaseSeries}
		}
		top.emit(ch)
	}
}

// prune forgets the counted outcomes of cases no poller holds any more.
func (c *Collector) prune(pollers []*poller.Poller) {
	live := make(map[string]map[string]targetSet, len(pollers))
	n := 0
	for _, p := range pollers {
		old := c.counted[p.Name()]
		if len(old) == 0 {
			continue
		}
		kept := map[string]targetSet{}
		cases := p.Snapshot().Cases
		for i := range cases {
			if s, ok := old[cases[i].ID]; ok {
				kept[cases[i].ID] = s
			}
		}
		live[p.Name()] = kept
		n += len(kept)
	}
	c.counted, c.nCounted = live, n
}

// evaluation is what the workers evaluating one source's cases at one
// instant share. None of them changes it.
type evaluation struct {
	ev                   *sla.Evaluator
	source               string
	now                  time.Time
	monthStart, monthEnd int64
	start                int64 // the collector's start: outcomes decided since count in outcomes_total
	m                    config.Metrics
	tiers                []string // the policy's tier names; tier indexes are positions in it
	tierIndex            map[string]int
	counted              map[string]targetSet // the source's; read-only while the workers run
}

// A source's cases are shared out between one worker per core, each with
// at least minShare cases (fewer are not worth a goroutine and counts of
// their own) and at most maxWorkers of them (each holds counts per tier, and
// per customer with metrics.by_customer).
const (
	minShare   = 4096
	maxWorkers = 4
)

// aggregate evaluates a source's cases at now and sums them up.
//
// A scrape is mostly evaluation, and the cases are independent: the workers
// each sum their share into their own aggregation, merged at the end. The
// outcomes_total bookkeeping is left to the end, as it writes to the
// collector.
func (c *Collector) aggregate(p *poller.Poller, cases []sla.Case, now time.Time, m config.Metrics) *aggregation {
	y, mo, _ := now.UTC().Date()
	e := &evaluation{
		ev: p.Evaluator(), source: p.Name(), now: now, m: m,
		monthStart: time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC).Unix(),
		monthEnd:   time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC).Unix(),
		start:      c.start.Unix(),
		tierIndex:  map[string]int{},
	}
	for name := range e.ev.Policy.Tiers {
		e.tiers = append(e.tiers, name)
	}
	slices.Sort(e.tiers)
	for i, name := range e.tiers {
		e.tierIndex[name] = i
	}
	if c.counted[e.source] == nil {
		c.counted[e.source] = map[string]targetSet{}
	}
	e.counted = c.counted[e.source]

	workers := max(1, min(runtime.GOMAXPROCS(0), maxWorkers, len(cases)/minShare))
	parts := make([]*aggregation, workers)
	var wg sync.WaitGroup
	for w := range parts {
		parts[w] = e.newAggregation()
		lo, hi := w*len(cases)/workers, (w+1)*len(cases)/workers
		wg.Go(func() { e.add(parts[w], cases, lo, hi) })
	}
	wg.Wait()
	a := parts[0]
	for _, b := range parts[1:] {
		a.merge(b)
	}
	// The cases with an outcome not counted yet are evaluated again rather
	// than their results kept: but at the first scrapes there are few.
	var res []sla.Result
	for _, i := range a.uncounted {
		res, _ = e.ev.Evaluate(&cases[i], now, res[:0])
		c.count(e, cases[i].ID, res)
	}
	return a
}

// count adds to outcomes_total the outcomes decided since the start among
// res, the results of case id, that it has not counted yet.
func (c *Collector) count(e *evaluation, id string, res []sla.Result) {
	var fresh targetSet
	for j := range res {
		if t, ok := res[j].Decided(); ok && t >= e.start {
			fresh |= 1 << res[j].Target
		}
	}
	done, known := e.counted[id]
	todo := fresh &^ done
	if todo == 0 {
		return
	}
	if !known {
		c.nCounted++
	}
	e.counted[id] = done | fresh
	for j := range res {
		if r := &res[j]; todo.has(r.Target) {
			c.totals[outcomeKey{e.source, r.Tier, r.Severity, r.Target, r.State}]++
		}
	}
}

// Severities index the figures' arrays directly: 1 to 4, 0 unused (the
// engine gives a case without one its policy's default).
const numSeverities = 5

// numStatuses is the number of sla.Status values.
const numStatuses = int(sla.StatusClosed) + 1

// aggregation is one source's figures at one instant, or one worker's share
// of them.
//
// A scrape adds several figures for every case. They are held in arrays
// indexed by severity, status, target and state, one set per tier (and
// customer), rather than in maps keyed by structs of strings: hashing those
// keys was most of a scrape's time.
type aggregation struct {
	cases int
	now   int64
	tiers []string // as in evaluation
	// customers are the customers by index: with metrics.by_customer in the
	// order met, else one, "".
	customers     []string
	customerIndex map[string]int // with metrics.by_customer
	// groups holds the counts of customer index × len(tiers) + tier index;
	// nil until a case counts there.
	groups  []*counts
	perTier []tierFigures // by tier index
	top     *topSeries    // with metrics.per_case
	// uncounted are the indexes of the cases with an outcome decided since
	// the start that outcomes_total has not counted yet.
	uncounted []int
	// skew is the source's own due minus ours of the open case where the
	// two differ most (support_sla_source_due_skew_seconds).
	skew    int64
	hasSkew bool
}

// counts are the case counts of one tier, or one tier and customer.
type counts struct {
	open     [numSeverities][numStatuses]float64
	targets  [numSeverities][sla.NumTargets][sla.NumStates]float64 // running targets of open cases
	outcomes [numSeverities][sla.NumTargets][sla.NumStates]float64 // decided in the current month
}

// tierFigures are the figures of one tier over all its customers.
type tierFigures struct {
	nextDue    [numSeverities][sla.NumTargets]int64
	hasNextDue [numSeverities][sla.NumTargets]bool
	remaining  [numSeverities][sla.NumTargets]histogram
	oldest     [numSeverities]int64 // created, of the oldest open case
	hasOldest  [numSeverities]bool
}

type histogram struct {
	count   uint64
	sum     float64
	buckets []uint64 // per bound, not cumulative; nil while count is 0
}

func (e *evaluation) newAggregation() *aggregation {
	a := &aggregation{now: e.now.Unix(), tiers: e.tiers, perTier: make([]tierFigures, len(e.tiers))}
	if e.m.ByCustomer {
		a.customerIndex = map[string]int{}
	} else {
		a.customers = []string{""}
		a.groups = make([]*counts, len(e.tiers))
	}
	if e.m.PerCase {
		a.top = &topSeries{max: e.m.MaxCaseSeries}
	}
	return a
}

// counts are the counts of tier index ti and, with metrics.by_customer,
// customer.
func (a *aggregation) counts(ti int, customer string) *counts {
	gi := ti
	if a.customerIndex != nil {
		ci, ok := a.customerIndex[customer]
		if !ok {
			ci = len(a.customers)
			a.customerIndex[customer] = ci
			a.customers = append(a.customers, customer)
			a.groups = append(a.groups, make([]*counts, len(a.tiers))...)
		}
		gi = ci*len(a.tiers) + ti
	}
	g := a.groups[gi]
	if g == nil {
		g = &counts{}
		a.groups[gi] = g
	}
	return g
}

// add evaluates cases[lo:hi] into a.
func (e *evaluation) add(a *aggregation, cases []sla.Case, lo, hi int) {
	var res []sla.Result
	var err error
	for i := lo; i < hi; i++ {
		cs := &cases[i]
		if res, err = e.ev.Evaluate(cs, e.now, res[:0]); err != nil || len(res) == 0 {
			continue // a tier the policy lacks (logged at poll time), or not created yet
		}
		a.cases++
		ti := e.tierIndex[res[0].Tier]
		g := a.counts(ti, cs.Customer)
		tf := &a.perTier[ti]
		status := cs.StatusAt(e.now)
		open := !status.Done()
		if open {
			sev := cs.SeverityAt(e.now)
			if sev < 1 || sev > 4 {
				sev = e.ev.Policy.DefaultSeverity
			}
			g.open[sev][status]++
			if created := cs.Created.Unix(); !tf.hasOldest[sev] || created < tf.oldest[sev] {
				tf.oldest[sev], tf.hasOldest[sev] = created, true
			}
		}
		if open && !cs.SourceDue.IsZero() {
			a.skewOf(cs.SourceDue.Unix(), res)
		}
		var fresh targetSet // targets decided since the start
		for j := range res {
			r := &res[j]
			if open && r.State.Running() {
				g.targets[r.Severity][r.Target][r.State]++
			}
			if t, ok := r.Decided(); ok {
				if t >= e.monthStart && t < e.monthEnd {
					g.outcomes[r.Severity][r.Target][r.State]++
				}
				if t >= e.start {
					fresh |= 1 << r.Target
				}
			}
			switch r.State {
			case sla.StateOK, sla.StateWarning, sla.StateBreached:
				if r.State != sla.StateBreached && r.HasDue {
					tf.due(r.Severity, r.Target, r.Due)
				}
				tf.remaining[r.Severity][r.Target].observe(float64(r.Remaining()))
				if a.top != nil && r.HasDue && a.top.offer(r.Remaining()) {
					a.top.add(caseSeries{
						source: e.source, id: cs.ID, customer: cs.Customer, tier: r.Tier, sev: r.Severity, key: cs.Key, url: cs.URL,
						target: r.Target, due: r.Due, consumed: r.Consumed(), remaining: r.Remaining(),
					})
				}
			}
		}
		// Most cases decided since the start were counted at an earlier
		// scrape: only reading the map here lets the workers share it.
		if fresh != 0 && fresh&^e.counted[cs.ID] != 0 {
			a.uncounted = append(a.uncounted, i)
		}
	}
}

// skewOf compares a case's own due with the earliest due of its running
// targets (the deadline the ticket system would show next).
func (a *aggregation) skewOf(own int64, res []sla.Result) {
	var ours int64
	found := false
	for j := range res {
		if r := &res[j]; r.State.Running() && r.HasDue && (!found || r.Due < ours) {
			ours, found = r.Due, true
		}
	}
	if found {
		a.keepSkew(own - ours)
	}
}

// keepSkew keeps the skew farthest from zero.
func (a *aggregation) keepSkew(d int64) {
	if !a.hasSkew || abs(d) > abs(a.skew) {
		a.skew, a.hasSkew = d, true
	}
}

func abs(d int64) int64 {
	if d < 0 {
		return -d
	}
	return d
}

// due keeps the earliest due of a severity and target.
func (f *tierFigures) due(sev int, k sla.Target, due int64) {
	if !f.hasNextDue[sev][k] || due < f.nextDue[sev][k] {
		f.nextDue[sev][k], f.hasNextDue[sev][k] = due, true
	}
}

func (h *histogram) observe(v float64) {
	if h.buckets == nil {
		h.buckets = make([]uint64, len(remainingBuckets))
	}
	h.count++
	h.sum += v
	for b, ub := range remainingBuckets {
		if v <= ub {
			h.buckets[b]++
			break
		}
	}
}

// merge adds b's figures to a's. The sums are of whole numbers (counts,
// seconds), exact in any order: the figures do not depend on how the cases
// were shared out.
func (a *aggregation) merge(b *aggregation) {
	a.cases += b.cases
	for gi, g := range b.groups {
		if g != nil {
			a.counts(gi%len(b.tiers), b.customers[gi/len(b.tiers)]).add(g)
		}
	}
	for ti := range a.perTier {
		a.perTier[ti].merge(&b.perTier[ti])
	}
	if a.top != nil {
		a.top.merge(b.top)
	}
	a.uncounted = append(a.uncounted, b.uncounted...)
	if b.hasSkew {
		a.keepSkew(b.skew)
	}
}

func (g *counts) add(o *counts) {
	for sev := range g.open {
		for st := range g.open[sev] {
			g.open[sev][st] += o.open[sev][st]
		}
		for k := range g.targets[sev] {
			for st := range g.targets[sev][k] {
				g.targets[sev][k][st] += o.targets[sev][k][st]
				g.outcomes[sev][k][st] += o.outcomes[sev][k][st]
			}
		}
	}
}

func (f *tierFigures) merge(o *tierFigures) {
	for sev := range numSeverities {
		if o.hasOldest[sev] && (!f.hasOldest[sev] || o.oldest[sev] < f.oldest[sev]) {
			f.oldest[sev], f.hasOldest[sev] = o.oldest[sev], true
		}
		for k := range sla.NumTargets {
			if o.hasNextDue[sev][k] {
				f.due(sev, k, o.nextDue[sev][k])
			}
			if h, oh := &f.remaining[sev][k], &o.remaining[sev][k]; oh.count != 0 {
				if h.buckets == nil {
					h.buckets = make([]uint64, len(remainingBuckets))
				}
				h.count += oh.count
				h.sum += oh.sum
				for b := range h.buckets {
					h.buckets[b] += oh.buckets[b]
				}
			}
		}
	}
}

func (a *aggregation) emit(ch chan<- prometheus.Metric, d descs, source string, byCustomer bool) {
	if a.hasSkew {
		ch <- prometheus.MustNewConstMetric(dueSkewDesc, prometheus.GaugeValue, float64(a.skew), source)
	}
	// Over all customers, for the compliance ratio.
	decided := make([][numSeverities][sla.NumTargets]float64, len(a.tiers))
	met := make([][numSeverities][sla.NumTargets]float64, len(a.tiers))
	for gi, g := range a.groups {
		if g == nil {
			continue
		}
		ti := gi % len(a.tiers)
		tier, customer := a.tiers[ti], a.customers[gi/len(a.tiers)]
		labels := func(l ...string) []string {
			if byCustomer {
				return append(l, customer)
			}
			return l
		}
		for sev := range g.open {
			for st, v := range g.open[sev] {
				if v != 0 {
					ch <- prometheus.MustNewConstMetric(d.openCases, prometheus.GaugeValue, v, labels(source, tier, sevLabel(sev), sla.Status(st).String())...)
				}
			}
		}
		for sev := range g.targets {
			for k := range g.targets[sev] {
				for st, v := range g.targets[sev][k] {
					if v != 0 {
						ch <- prometheus.MustNewConstMetric(d.targets, prometheus.GaugeValue, v, labels(source, tier, sevLabel(sev), sla.Target(k).String(), sla.State(st).String())...)
					}
				}
				for st, v := range g.outcomes[sev][k] {
					if v == 0 {
						continue
					}
					ch <- prometheus.MustNewConstMetric(d.monthOutcomes, prometheus.GaugeValue, v, labels(source, tier, sevLabel(sev), sla.Target(k).String(), sla.State(st).String())...)
					decided[ti][sev][k] += v
					if sla.State(st) == sla.StateMet {
						met[ti][sev][k] += v
					}
				}
			}
		}
	}
	for ti, tier := range a.tiers {
		tf := &a.perTier[ti]
		for sev := range numSeverities {
			for k := range sla.NumTargets {
				labels := []string{source, tier, sevLabel(sev), k.String()}
				if n := decided[ti][sev][k]; n != 0 {
					ch <- prometheus.MustNewConstMetric(monthComplianceDesc, prometheus.GaugeValue, met[ti][sev][k]/n, labels...)
				}
				if tf.hasNextDue[sev][k] {
					ch <- prometheus.MustNewConstMetric(nextDueDesc, prometheus.GaugeValue, float64(tf.nextDue[sev][k]), labels...)
				}
				if h := &tf.remaining[sev][k]; h.count != 0 {
					cum := make(map[float64]uint64, len(remainingBuckets))
					var n uint64
					for b, ub := range remainingBuckets {
						n += h.buckets[b]
						cum[ub] = n
					}
					ch <- prometheus.MustNewConstHistogram(remainingDesc, h.count, h.sum, cum, labels...)
				}
			}
			if tf.hasOldest[sev] {
				ch <- prometheus.MustNewConstMetric(oldestOpenDesc, prometheus.GaugeValue, float64(a.now-tf.oldest[sev]), source, tier, sevLabel(sev))
			}
		}
	}
}

// caseSeries is one running target of one case, for the per-case metrics.
type caseSeries struct {
	source, id, customer, tier string
	key, url                   string // for support_sla_case_info
	sev                        int
	target                     sla.Target
	due                        int64
	consumed                   float64
	remaining                  int64
}

// compareSeries orders the per-case series closest to breach first.
func compareSeries(a, b *caseSeries) int {
	if c := cmp.Compare(a.remaining, b.remaining); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.source, b.source), cmp.Compare(a.id, b.id), cmp.Compare(a.target, b.target))
}

// topSeries keeps the max per-case series closest to breach, and counts
// them all. It is a max-heap under compareSeries (the kept series furthest
// from breach at the root): a scrape over many cases neither holds nor
// sorts them all, and most are turned away comparing one number.
type topSeries struct {
	max   int
	total int
	kept  []caseSeries
}

// offer counts a series and reports whether one with this remaining time
// may be kept: add it then.
func (t *topSeries) offer(remaining int64) bool {
	t.total++
	return len(t.kept) < t.max || (len(t.kept) > 0 && remaining <= t.kept[0].remaining)
}

// add keeps s, in place of the series furthest from breach when full.
func (t *topSeries) add(s caseSeries) {
	h := t.kept
	if len(h) < t.max {
		h = append(h, s)
		for i := len(h) - 1; i > 0; { // sift up
			parent := (i - 1) / 2
			if compareSeries(&h[i], &h[parent]) <= 0 {
				break
			}
			h[i], h[parent] = h[parent], h[i]
			i = parent
		}
		t.kept = h
		return
	}
	if compareSeries(&s, &h[0]) >= 0 {
		return
	}
	h[0] = s
	for i := 0; ; { // sift down
		largest := i
		for _, child := range [2]int{2*i + 1, 2*i + 2} {
			if child < len(h) && compareSeries(&h[child], &h[largest]) > 0 {
				largest = child
			}
		}
		if largest == i {
			break
		}
		h[i], h[largest] = h[largest], h[i]
		i = largest
	}
}

// merge takes in the series o kept, and counts those o left out.
func (t *topSeries) merge(o *topSeries) {
	t.total += o.total
	for _, s := range o.kept {
		t.add(s)
	}
}

// emit emits the kept series closest to breach first, one info series
// per case among them, and how many were left out.
func (t *topSeries) emit(ch chan<- prometheus.Metric) {
	slices.SortFunc(t.kept, func(a, b caseSeries) int { return compareSeries(&a, &b) })
	info := make(map[[2]string]bool, len(t.kept))
	for _, s := range t.kept {
		labels := []string{s.source, s.id, s.customer, s.tier, sevLabel(s.sev), s.target.String()}
		ch <- prometheus.MustNewConstMetric(caseDueDesc, prometheus.GaugeValue, float64(s.due), labels...)
		ch <- prometheus.MustNewConstMetric(caseConsumedDesc, prometheus.GaugeValue, s.consumed, labels...)
		if k := [2]string{s.source, s.id}; !info[k] {
			info[k] = true
			ch <- prometheus.MustNewConstMetric(caseInfoDesc, prometheus.GaugeValue, 1, s.source, s.id, s.key, s.url)
		}
	}
	ch <- prometheus.MustNewConstMetric(caseDroppedDesc, prometheus.GaugeValue, float64(t.total-len(t.kept)))
}

func sevLabel(s int) string { return strconv.Itoa(s) }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
