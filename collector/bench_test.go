package collector

// Benchmarks of a scrape over a large cache, and of the memory the cache
// holds per case.
//
//	go test -run '^$' -bench . -benchmem -count 6 ./collector | tee bench-collector.txt
//	go tool benchstat bench-collector.txt
//
// The cases are those of a help desk under the veeam policy with the demo's
// resolution goals: five tiers (24x7 and business hours in the customer's
// time zone, over eight zones), four severities, pauses, a third answered,
// some resolved this month.

import (
	"bufio"
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

const (
	benchOpen      = 100_000 // open cases: the figure
	benchResolved  = 10_000  // resolved this month, cached for the monthly figures
	benchCustomers = 500
)

// benchAt is the scrape instant: a Wednesday in mid-June, when it is
// working time in some of the zones and night in others.
var benchAt = time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)

// benchUp is how long the scraping process has been running: outcomes
// decided since then go through the outcomes_total bookkeeping at every
// scrape, as in a process that has been up for a week.
const benchUp = 7 * 24 * time.Hour

// benchConfig is the veeam preset with the demo's resolution goals, and a
// source of the benchmark's cases.
const benchConfig = `
sources:
  - {name: helpdesk, type: bench, policy: veeam-bench}
policies:
  veeam-bench:
    preset: veeam
    tiers:
      premium:
        calendar: 24x7
        first_response: {1: 30m, 2: 30m, 3: 30m, 4: 30m}
        resolution: {1: 12h, 2: 3d, 3: 5d, 4: 7d}
      production:
        calendar: 24x7
        first_response: {1: 1h, 2: 3h, 3: 6h, 4: 8h}
        resolution: {1: 1d, 2: 3d, 3: 5d, 4: 7d}
      basic:
        calendar: basic
        first_response: {1: 2h, 2: 8h, 3: 12h, 4: 24h}
        resolution: {1: 1d, 2: 3d, 3: 5d, 4: 7d}
`

// benchSource returns every case in one full batch. It makes them at each
// Sync and keeps none, so that what stays on the heap after a poll is the
// poller's cache alone.
type benchSource struct{ cases func() []sla.Case }

func (s benchSource) Sync(context.Context, string) (sources.Batch, error) {
	return sources.Batch{Cases: s.cases(), Full: true, Cursor: "1"}, nil
}

func (s benchSource) Window(context.Context, time.Time, time.Time) ([]sla.Case, error) {
	return nil, nil
}

// benchSourceConfig is the configured bench source, with its policy.
func benchSourceConfig(tb testing.TB) *config.Source {
	tb.Helper()
	factory := func(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
		sources.Fields(d, n, path, nil)
		return benchSource{cases: func() []sla.Case { return makeBenchCases(env.Name, benchOpen, benchResolved) }}
	}
	cfg, err := config.Parse("bench.yml", []byte(benchConfig), config.Options{
		Registry: sources.Registry{"bench": factory},
		Now:      func() time.Time { return benchAt },
	})
	if err != nil {
		tb.Fatal(err)
	}
	return cfg.Sources[0]
}

// benchPoller polls the bench source once.
func benchPoller(tb testing.TB, s *config.Source) *poller.Poller {
	tb.Helper()
	p := poller.New(poller.Config{Name: s.Name, Interval: s.Interval, Source: s.Source, Evaluator: s.Evaluator,
		Now: func() time.Time { return benchAt }}, nil)
	if err := p.Poll(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return p
}

var benchZones = []string{"Europe/Paris", "Europe/Berlin", "Europe/London", "America/New_York",
	"America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney"}

// benchTiers are the veeam tiers, each with its share of the customers in
// percent.
var benchTiers = []struct {
	name  string
	share int
}{{"basic", 40}, {"production", 30}, {"premium", 10}, {"evaluation", 10}, {"free", 10}}

var benchLabels = []string{"backup", "replication", "vmware", "hyper-v", "agent", "cloud-connect", "tape", "licensing"}

type benchCustomer struct{ name, tier, zone string }

func benchCustomerTable(r *rand.Rand) []benchCustomer {
	names := []string{"acme", "globex", "initech", "umbrella", "hooli", "soylent", "stark", "wayne",
		"wonka", "cyberdyne", "tyrell", "aperture", "oscorp", "vandelay", "nakatomi", "weyland"}
	kinds := []string{"industries", "logistics", "holdings", "retail", "bank", "health", "energy", "media"}
	cus := make([]benchCustomer, benchCustomers)
	for i := range cus {
		c := &cus[i]
		c.name = names[i%len(names)] + "-" + kinds[i/len(names)%len(kinds)] + "-" + strconv.Itoa(i)
		c.zone = benchZones[r.IntN(len(benchZones))]
		n := r.IntN(100)
		for _, t := range benchTiers {
			if n < t.share {
				c.tier = t.name
				break
			}
			n -= t.share
		}
	}
	return cus
}

// makeBenchCases makes the open and resolved cases of source name, the same
// at every call. Each case owns its strings and histories, as a case
// decoded from a ticket system's JSON does.
func makeBenchCases(source string, open, resolved int) []sla.Case {
	r := rand.New(rand.NewPCG(1, 2))
	cus := benchCustomerTable(r)
	at := benchAt.Unix()
	y, m, _ := benchAt.Date()
	monthStart := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Unix()
	sec := func(t int64) time.Time { return time.Unix(t, 0).UTC() }
	// between is an instant in [a, b), or a when the span is empty.
	between := func(a, b int64) int64 {
		if b <= a {
			return a
		}
		return a + r.Int64N(b-a)
	}
	cases := make([]sla.Case, open+resolved)
	for i := range cases {
		cu := &cus[r.IntN(len(cus))]
		id := "SUP-" + strconv.Itoa(100000+i)
		c := sla.Case{
			Source:   source,
			ID:       id,
			Key:      id,
			URL:      "https://support.example-corp.com/agent/tickets/" + id,
			Customer: strings.Clone(cu.name),
			Tier:     strings.Clone(cu.tier),
			Timezone: strings.Clone(cu.zone),
			Type:     strings.Clone("problem"),
			Status:   sla.StatusOpen,
		}
		switch n := r.IntN(100); {
		case n < 5:
			c.Severity = 1
		case n < 25:
			c.Severity = 2
		case n < 75:
			c.Severity = 3
		default:
			c.Severity = 4
		}
		// Excluded cases: experimental features, feedback.
		if r.IntN(100) == 0 {
			c.Type = strings.Clone("feedback")
		}
		c.Labels = []string{strings.Clone(benchLabels[r.IntN(len(benchLabels))])}
		if r.IntN(100) == 0 {
			c.Labels = append(c.Labels, strings.Clone("experimental"))
		} else if r.IntN(2) == 0 {
			c.Labels = append(c.Labels, strings.Clone(benchLabels[r.IntN(len(benchLabels))]))
		}

		// Open cases are up to 60 days old, most of them recent; resolved
		// ones were resolved this month.
		var created, end int64
		if i < open {
			u := r.Float64()
			created = at - 60 - int64(u*u*60*86400)
			end = at
		} else {
			created = between(monthStart-10*86400, at-3600)
			end = between(max(created+60, monthStart), at)
		}
		c.Created = sec(created)
		if r.IntN(3) == 0 || (i >= open && r.IntN(4) != 0) {
			c.FirstResponse = sec(between(created+60, min(end, created+2*86400)))
		}
		// Status history: opened; perhaps a wait on the customer that
		// ended; perhaps waiting now (or on hold); resolved at the end.
		// Grown by appending, as a JSON decoder grows it.
		h := []sla.StatusChange{{At: c.Created, Status: sla.StatusOpen}}
		t := created
		if r.IntN(10) < 4 {
			t1 := between(t+60, end)
			t2 := between(t1, end)
			h = append(h, sla.StatusChange{At: sec(t1), Status: sla.StatusPendingCustomer},
				sla.StatusChange{At: sec(t2), Status: sla.StatusOpen})
			t = t2
		}
		if i >= open {
			h = append(h, sla.StatusChange{At: sec(end), Status: sla.StatusResolved})
			c.Status, c.Resolved = sla.StatusResolved, sec(end)
		} else if n := r.IntN(100); n < 18 {
			s := sla.StatusPendingCustomer
			if n < 3 {
				s = sla.StatusOnHold
			}
			h = append(h, sla.StatusChange{At: sec(between(t, end)), Status: s})
			c.Status = s
		}
		c.StatusHistory = h
		// A few cases changed severity.
		if r.IntN(20) == 0 {
			c.SeverityHistory = []sla.SeverityChange{
				{At: c.Created, Severity: min(c.Severity+1, 4)},
				{At: sec(between(created, end)), Severity: c.Severity},
			}
		}
		cases[i] = c
	}
	return cases
}

// BenchmarkCacheMemory measures the heap a poller holds per cached case
// (B/case), the same after a scrape by a collector up for a week, which adds
// its outcomes_total bookkeeping (B/case-scraped), and the process's
// resident memory with the cache loaded (rss-MiB). ns/op is the time to make
// and poll the cases, not a target.
func BenchmarkCacheMemory(b *testing.B) {
	s := benchSourceConfig(b)
	var before, loaded, scraped runtime.MemStats
	var held, heldScraped uint64
	cases := 0
	for range b.N {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		p := benchPoller(b, s)
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&loaded)
		cases = len(p.Snapshot().Cases)
		c := benchCollector([]*poller.Poller{p}, config.Metrics{MaxCaseSeries: config.DefaultMaxCaseSeries})
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&scraped)
		held += loaded.HeapAlloc - before.HeapAlloc
		heldScraped += scraped.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(p)
		runtime.KeepAlive(c)
		b.StartTimer()
	}
	b.StopTimer()
	if cases != benchOpen+benchResolved {
		b.Fatalf("the poller holds %d cases, want %d", cases, benchOpen+benchResolved)
	}
	// The last poller is garbage now, and so is what the earlier iterations
	// left: load one more, hand freed memory back, then read the RSS.
	p := benchPoller(b, s)
	debug.FreeOSMemory()
	b.ReportMetric(float64(vmRSS(b))/(1<<20), "rss-MiB")
	runtime.KeepAlive(p)
	b.ReportMetric(float64(held)/float64(b.N)/float64(cases), "B/case")
	b.ReportMetric(float64(heldScraped)/float64(b.N)/float64(cases), "B/case-scraped")
}

// vmRSS is the process's resident set size, in bytes.
func vmRSS(tb testing.TB) int64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("VmRSS: %v", err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// benchPollers is the bench source polled once, shared by the scrape
// benchmarks: a poller's snapshot is immutable.
var benchPollers []*poller.Poller

func sharedBenchPollers(b *testing.B) []*poller.Poller {
	if benchPollers == nil {
		benchPollers = []*poller.Poller{benchPoller(b, benchSourceConfig(b))}
	}
	return benchPollers
}

// benchCollector is a collector over pollers started benchUp before
// benchAt, which it scrapes at.
func benchCollector(ps []*poller.Poller, m config.Metrics) *Collector {
	now := benchAt.Add(-benchUp)
	c := New(func() State { return State{Pollers: ps, Metrics: m} }, func() time.Time { return now })
	now = benchAt
	return c
}

// benchOption is metric options the scrapes are measured with.
type benchOption struct {
	name string
	m    config.Metrics
}

var benchMetrics = []benchOption{
	{"plain", config.Metrics{MaxCaseSeries: config.DefaultMaxCaseSeries}},
	{"per_case", config.Metrics{PerCase: true, MaxCaseSeries: 1000}},
	{"by_customer", config.Metrics{ByCustomer: true, MaxCaseSeries: config.DefaultMaxCaseSeries}},
}

// BenchmarkScrape is Registry.Gather over the collector: the evaluation of
// every cached case and the metric families, before any encoding.
func BenchmarkScrape(b *testing.B) {
	ps := sharedBenchPollers(b)
	for _, bm := range benchMetrics {
		b.Run(bm.name, func(b *testing.B) {
			reg := prometheus.NewRegistry()
			reg.MustRegister(benchCollector(ps, bm.m))
			// An untimed first scrape counts the outcomes decided since
			// the start (and, at the first run, compiles the calendars).
			mfs, err := reg.Gather()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
			reportScrape(b)
			b.ReportMetric(float64(countSeries(mfs)), "series")
		})
	}
}

// BenchmarkScrapeHTTP is a scrape through promhttp, the text exposition
// written into a recorder.
func BenchmarkScrapeHTTP(b *testing.B) {
	ps := sharedBenchPollers(b)
	for _, bm := range benchMetrics {
		b.Run(bm.name, func(b *testing.B) {
			reg := prometheus.NewRegistry()
			reg.MustRegister(benchCollector(ps, bm.m))
			h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
			scrape := func() *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
				return w
			}
			size := scrape().Body.Len()
			for b.Loop() {
				scrape()
			}
			reportScrape(b)
			b.ReportMetric(float64(size), "B/body")
		})
	}
}

func reportScrape(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(time.Millisecond), "ms/scrape")
}

func countSeries(mfs []*dto.MetricFamily) int {
	n := 0
	for _, mf := range mfs {
		n += len(mf.Metric)
	}
	return n
}

// replay is a collector that sends the metrics of one earlier scrape: what
// a scrape costs in the client library alone, with no evaluation.
type replay []prometheus.Metric

func (r replay) Describe(chan<- *prometheus.Desc) {}

func (r replay) Collect(ch chan<- prometheus.Metric) {
	for _, m := range r {
		ch <- m
	}
}

func recorded(c prometheus.Collector) replay {
	ch := make(chan prometheus.Metric)
	go func() { c.Collect(ch); close(ch) }()
	var r replay
	for m := range ch {
		r = append(r, m)
	}
	return r
}

// BenchmarkScrapeFloor is BenchmarkScrape and BenchmarkScrapeHTTP with
// the collector's metrics made in advance: the client library's share of a
// scrape, which no change to the collector can remove.
func BenchmarkScrapeFloor(b *testing.B) {
	ps := sharedBenchPollers(b)
	for _, bm := range benchMetrics {
		for _, via := range []string{"gather", "http"} {
			b.Run(bm.name+"/"+via, func(b *testing.B) {
				reg := prometheus.NewRegistry()
				reg.MustRegister(recorded(benchCollector(ps, bm.m)))
				h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
				for b.Loop() {
					if via == "gather" {
						if _, err := reg.Gather(); err != nil {
							b.Fatal(err)
						}
						continue
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
				}
				reportScrape(b)
			})
		}
	}
}

// TestScrapeSameOnEveryCore checks that the figures do not depend on how
// many workers share the cases out: a scrape of the benchmark's cases on one
// core is the same as on several, at successive instants (for
// outcomes_total) and with every metric option.
func TestScrapeSameOnEveryCore(t *testing.T) {
	if testing.Short() {
		t.Skip("scrapes tens of thousands of cases")
	}
	s := benchSourceConfig(t)
	cases := makeBenchCases(s.Name, 5*minShare, minShare)
	s.Source = benchSource{cases: func() []sla.Case { return cases }}
	ps := []*poller.Poller{benchPoller(t, s)}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	all := benchOption{"all", config.Metrics{ByCustomer: true, PerCase: true, MaxCaseSeries: 50}}
	for _, bm := range append(slices.Clip(benchMetrics), all) {
		t.Run(bm.name, func(t *testing.T) {
			var want [][]byte
			for _, procs := range []int{1, 2, 3} {
				runtime.GOMAXPROCS(procs)
				now := benchAt.Add(-benchUp)
				c := New(func() State { return State{Pollers: ps, Metrics: bm.m} }, func() time.Time { return now })
				reg := prometheus.NewPedanticRegistry()
				reg.MustRegister(c)
				for i := range 3 {
					now = benchAt.Add(time.Duration(i) * 7 * time.Hour)
					got := exposition(t, reg)
					if procs == 1 {
						want = append(want, got)
					} else if string(got) != string(want[i]) {
						t.Fatalf("GOMAXPROCS=%d, scrape %d: the exposition differs from that on one core", procs, i)
					}
				}
			}
		})
	}
}
