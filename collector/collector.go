// Package collector turns the cases the pollers hold into Prometheus
// metrics, evaluating every case at the scrape instant: the cases are
// polled in the background, the SLA state is always of now.
package collector

import (
	"cmp"
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

	mu      sync.Mutex // one scrape at a time updates the outcome counters
	counted map[outcomeID]struct{}
	totals  map[outcomeKey]float64
}

type outcomeID struct {
	source, id string
	target     sla.Target
}

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
		counted: map[outcomeID]struct{}{}, totals: map[outcomeKey]float64{},
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
	var series []caseSeries
	seen := 0
	for _, p := range st.Pollers {
		a := c.aggregate(p, now, st.Metrics, &series)
		seen += a.cases
		a.emit(ch, d, p.Name(), st.Metrics.ByCustomer)
		snap := p.Snapshot()
		ch <- prometheus.MustNewConstMetric(sourceUpDesc, prometheus.GaugeValue, boolValue(snap.Up), p.Name())
		if !snap.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, float64(snap.LastSuccess.UnixMilli())/1000, p.Name())
		}
		ch <- prometheus.MustNewConstMetric(sourceCasesDesc, prometheus.GaugeValue, float64(len(snap.Cases)), p.Name())
	}
	for k, v := range c.totals {
		ch <- prometheus.MustNewConstMetric(outcomesTotalDesc, prometheus.CounterValue, v, k.source, k.tier, sevLabel(k.sev), k.target.String(), k.state.String())
	}
	if len(c.counted) > 2*seen+1024 {
		c.prune(st.Pollers)
	}
	if st.Metrics.PerCase {
		emitCases(ch, series, st.Metrics.MaxCaseSeries)
	}
}

// prune forgets the counted outcomes of cases no poller holds any more.
func (c *Collector) prune(pollers []*poller.Poller) {
	live := make(map[outcomeID]struct{}, len(c.counted))
	for _, p := range pollers {
		for _, cs := range p.Snapshot().Cases {
			for k := sla.Target(0); k < sla.NumTargets; k++ {
				id := outcomeID{p.Name(), cs.ID, k}
				if _, ok := c.counted[id]; ok {
					live[id] = struct{}{}
				}
			}
		}
	}
	c.counted = live
}

type openKey struct {
	tier, customer string
	sev            int
	status         sla.Status
}

type targetKey struct {
	tier, customer string
	sev            int
	target         sla.Target
	state          sla.State
}

type seriesKey struct {
	tier   string
	sev    int
	target sla.Target
}

type sevKey struct {
	tier string
	sev  int
}

// aggregation is one source's figures at one instant.
type aggregation struct {
	cases     int
	open      map[openKey]float64
	targets   map[targetKey]float64
	outcomes  map[targetKey]float64
	nextDue   map[seriesKey]int64
	remaining map[seriesKey]*histogram
	oldest    map[sevKey]int64
	now       int64
}

type histogram struct {
	count   uint64
	sum     float64
	buckets []uint64 // per bound, not cumulative
}

func (c *Collector) aggregate(p *poller.Poller, now time.Time, m config.Metrics, series *[]caseSeries) *aggregation {
	ev := p.Evaluator()
	snap := p.Snapshot()
	y, mo, _ := now.UTC().Date()
	monthStart := time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC).Unix()
	monthEnd := time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC).Unix()
	a := &aggregation{
		open: map[openKey]float64{}, targets: map[targetKey]float64{}, outcomes: map[targetKey]float64{},
		nextDue: map[seriesKey]int64{}, remaining: map[seriesKey]*histogram{}, oldest: map[sevKey]int64{},
		now: now.Unix(),
	}
	var res []sla.Result
	var err error
	for i := range snap.Cases {
		cs := &snap.Cases[i]
		if res, err = ev.Evaluate(cs, now, res[:0]); err != nil || len(res) == 0 {
			continue // a tier the policy lacks (logged at poll time), or not created yet
		}
		a.cases++
		customer := ""
		if m.ByCustomer {
			customer = cs.Customer
		}
		tier := res[0].Tier
		status := cs.StatusAt(now)
		open := !status.Done()
		if open {
			sev := cs.SeverityAt(now)
			if sev < 1 || sev > 4 {
				sev = ev.Policy.DefaultSeverity
			}
			a.open[openKey{tier, customer, sev, status}]++
			k := sevKey{tier, sev}
			if o, ok := a.oldest[k]; !ok || cs.Created.Unix() < o {
				a.oldest[k] = cs.Created.Unix()
			}
		}
		for j := range res {
			r := &res[j]
			sk := seriesKey{r.Tier, r.Severity, r.Target}
			if open && r.State.Running() {
				a.targets[targetKey{tier, customer, r.Severity, r.Target, r.State}]++
			}
			if t, ok := r.Decided(); ok && t >= monthStart && t < monthEnd {
				a.outcomes[targetKey{tier, customer, r.Severity, r.Target, r.State}]++
			}
			if t, ok := r.Decided(); ok && t >= c.start.Unix() {
				id := outcomeID{p.Name(), cs.ID, r.Target}
				if _, done := c.counted[id]; !done {
					c.counted[id] = struct{}{}
					c.totals[outcomeKey{p.Name(), tier, r.Severity, r.Target, r.State}]++
				}
			}
			switch r.State {
			case sla.StateOK, sla.StateWarning, sla.StateBreached:
				if r.State != sla.StateBreached && r.HasDue {
					if d, ok := a.nextDue[sk]; !ok || r.Due < d {
						a.nextDue[sk] = r.Due
					}
				}
				h := a.remaining[sk]
				if h == nil {
					h = &histogram{buckets: make([]uint64, len(remainingBuckets))}
					a.remaining[sk] = h
				}
				rem := float64(r.Remaining())
				h.count++
				h.sum += rem
				for b, ub := range remainingBuckets {
					if rem <= ub {
						h.buckets[b]++
						break
					}
				}
				if m.PerCase && r.HasDue {
					*series = append(*series, caseSeries{
						source: p.Name(), id: cs.ID, customer: cs.Customer, tier: r.Tier, sev: r.Severity,
						target: r.Target, due: r.Due, consumed: r.Consumed(), remaining: r.Remaining(),
					})
				}
			}
		}
	}
	return a
}

func (a *aggregation) emit(ch chan<- prometheus.Metric, d descs, source string, byCustomer bool) {
	withCustomer := func(labels []string, customer string, byCustomer bool) []string {
		if byCustomer {
			return append(labels, customer)
		}
		return labels
	}
	for k, v := range a.open {
		ch <- prometheus.MustNewConstMetric(d.openCases, prometheus.GaugeValue, v, withCustomer([]string{source, k.tier, sevLabel(k.sev), k.status.String()}, k.customer, byCustomer)...)
	}
	for k, v := range a.targets {
		ch <- prometheus.MustNewConstMetric(d.targets, prometheus.GaugeValue, v, withCustomer([]string{source, k.tier, sevLabel(k.sev), k.target.String(), k.state.String()}, k.customer, byCustomer)...)
	}
	met := map[seriesKey]float64{}
	decided := map[seriesKey]float64{}
	for k, v := range a.outcomes {
		ch <- prometheus.MustNewConstMetric(d.monthOutcomes, prometheus.GaugeValue, v, withCustomer([]string{source, k.tier, sevLabel(k.sev), k.target.String(), k.state.String()}, k.customer, byCustomer)...)
		sk := seriesKey{k.tier, k.sev, k.target}
		decided[sk] += v
		if k.state == sla.StateMet {
			met[sk] += v
		}
	}
	for k, n := range decided {
		ch <- prometheus.MustNewConstMetric(monthComplianceDesc, prometheus.GaugeValue, met[k]/n, source, k.tier, sevLabel(k.sev), k.target.String())
	}
	for k, due := range a.nextDue {
		ch <- prometheus.MustNewConstMetric(nextDueDesc, prometheus.GaugeValue, float64(due), source, k.tier, sevLabel(k.sev), k.target.String())
	}
	for k, h := range a.remaining {
		cum := make(map[float64]uint64, len(remainingBuckets))
		var n uint64
		for b, ub := range remainingBuckets {
			n += h.buckets[b]
			cum[ub] = n
		}
		ch <- prometheus.MustNewConstHistogram(remainingDesc, h.count, h.sum, cum, source, k.tier, sevLabel(k.sev), k.target.String())
	}
	for k, created := range a.oldest {
		ch <- prometheus.MustNewConstMetric(oldestOpenDesc, prometheus.GaugeValue, float64(a.now-created), source, k.tier, sevLabel(k.sev))
	}
}

// caseSeries is one running target of one case, for the per-case metrics.
type caseSeries struct {
	source, id, customer, tier string
	sev                        int
	target                     sla.Target
	due                        int64
	consumed                   float64
	remaining                  int64
}

// emitCases emits the per-case series closest to breach first, at most max
// of them, and how many were left out.
func emitCases(ch chan<- prometheus.Metric, series []caseSeries, max int) {
	slices.SortFunc(series, func(a, b caseSeries) int {
		return cmp.Or(cmp.Compare(a.remaining, b.remaining), cmp.Compare(a.source, b.source), cmp.Compare(a.id, b.id), cmp.Compare(a.target, b.target))
	})
	dropped := 0
	if len(series) > max {
		dropped = len(series) - max
		series = series[:max]
	}
	for _, s := range series {
		labels := []string{s.source, s.id, s.customer, s.tier, sevLabel(s.sev), s.target.String()}
		ch <- prometheus.MustNewConstMetric(caseDueDesc, prometheus.GaugeValue, float64(s.due), labels...)
		ch <- prometheus.MustNewConstMetric(caseConsumedDesc, prometheus.GaugeValue, s.consumed, labels...)
	}
	ch <- prometheus.MustNewConstMetric(caseDroppedDesc, prometheus.GaugeValue, float64(dropped))
}

func sevLabel(s int) string { return strconv.Itoa(s) }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
