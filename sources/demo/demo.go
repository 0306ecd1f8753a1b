// Package demo is the built-in demo source: a simulated ticket system whose
// cases are a pure function of a seed and of absolute time, so that a first
// run of the exporter shows live SLA metrics, every state at once, with no
// ticket system to connect to.
package demo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// Config is the demo source's configuration.
type Config struct {
	// Name is the source name every case carries.
	Name string
	// Seed picks the customers and every case's life.
	Seed int64
	// Customers is the number of simulated customers.
	Customers int
	// CasesPerHour is the mean arrival rate over a week; arrivals peak in
	// the customers' working hours and drop at night and on weekends.
	CasesPerHour float64
	// History is how far back Sync reaches: it returns the cases created
	// in the last History, plus every case still open and every case
	// resolved since the start of the previous month.
	History time.Duration
}

// The defaults: about 2,000 cases over three weeks.
const (
	DefaultSeed         = 1
	DefaultCustomers    = 36
	DefaultCasesPerHour = 4
	DefaultHistory      = 21 * 24 * time.Hour
)

// Bounds that keep one Sync under a second.
const (
	maxCustomers    = 10000
	maxCasesPerHour = 100
	maxHistory      = 92 * 24 * time.Hour
	maxHistoryText  = "92d"
)

// DefaultConfig is the configuration of `type: demo` with no other key.
func DefaultConfig() Config {
	return Config{
		Name:         "demo",
		Seed:         DefaultSeed,
		Customers:    DefaultCustomers,
		CasesPerHour: DefaultCasesPerHour,
		History:      DefaultHistory,
	}
}

// Validate checks the configuration's bounds.
func (c Config) Validate() error {
	switch {
	case c.Customers < 1 || c.Customers > maxCustomers:
		return fmt.Errorf("customers: %d is not between 1 and %d", c.Customers, maxCustomers)
	case !(c.CasesPerHour > 0 && c.CasesPerHour <= maxCasesPerHour):
		return fmt.Errorf("cases_per_hour: %g is not in (0, %d]", c.CasesPerHour, maxCasesPerHour)
	case c.History <= 0 || c.History > maxHistory:
		return fmt.Errorf("history: %s is not between 1s and %s", c.History, maxHistoryText)
	}
	return nil
}

// New is the sources.Factory of `type: demo`. Its keys are seed,
// customers, cases_per_hour and history.
func New(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
	cfg := DefaultConfig()
	cfg.Name = env.Name
	sources.Fields(d, n, path, map[string]func(v *yaml.Node, path string){
		"seed": func(v *yaml.Node, p string) {
			var s int
			if d.Int(v, p, &s) {
				cfg.Seed = int64(s)
			}
		},
		"customers": func(v *yaml.Node, p string) {
			if d.Int(v, p, &cfg.Customers) && (cfg.Customers < 1 || cfg.Customers > maxCustomers) {
				d.Errorf(v, p, "must be between 1 and %d, not %d", maxCustomers, cfg.Customers)
			}
		},
		"cases_per_hour": func(v *yaml.Node, p string) {
			if d.Float(v, p, &cfg.CasesPerHour) && !(cfg.CasesPerHour > 0 && cfg.CasesPerHour <= maxCasesPerHour) {
				d.Errorf(v, p, "must be more than 0 and at most %d, not %s", maxCasesPerHour, v.Value)
			}
		},
		"history": func(v *yaml.Node, p string) {
			var h time.Duration
			if !d.Duration(v, p, &h) {
				return
			}
			if h > maxHistory {
				d.Errorf(v, p, "must be at most %s, not %s", maxHistoryText, v.Value)
				return
			}
			cfg.History = h
		},
	})
	if env.Policy == nil {
		d.Errorf(n, path, "the demo source needs a policy")
		return nil
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	return NewSimulator(cfg, env.Policy, now)
}

// Simulator is the demo ticket system. It implements sources.Source and is
// safe for concurrent use.
type Simulator struct {
	cfg       Config
	policy    *sla.Policy
	now       func() time.Time
	key       uint64 // the seed, mixed
	slotMs    int64  // one slot per case number, in milliseconds
	customers []customer
	cumWeight []int // cumulative activity weights of customers
	always    *sla.Calendar

	mu         sync.Mutex
	lives      map[int64]*life // by slot; nil: the slot has no case
	cacheLimit int             // most slots the cache holds
}

// maxCachedLives bounds the memory of the life cache (some 25 MB at most):
// enough for a default Sync and a few monthly Windows besides.
const maxCachedLives = 1 << 17

// NewSimulator builds a simulator. A configuration that does not Validate
// has its bad fields replaced by the defaults; cfg.Name "" is "demo". The
// tiers customers get are the policy's.
func NewSimulator(cfg Config, policy *sla.Policy, now func() time.Time) *Simulator {
	def := DefaultConfig()
	if cfg.Name == "" {
		cfg.Name = def.Name
	}
	if cfg.Customers < 1 || cfg.Customers > maxCustomers {
		cfg.Customers = def.Customers
	}
	if !(cfg.CasesPerHour > 0 && cfg.CasesPerHour <= maxCasesPerHour) {
		cfg.CasesPerHour = def.CasesPerHour
	}
	if cfg.History <= 0 || cfg.History > maxHistory {
		cfg.History = def.History
	}
	if now == nil {
		now = time.Now
	}
	s := &Simulator{
		cfg:    cfg,
		policy: policy,
		now:    now,
		key:    mix(uint64(cfg.Seed) ^ 0x9e3779b97f4a7c15),
		always: sla.AlwaysOpen(),
		lives:  make(map[int64]*life),

		cacheLimit: maxCachedLives,
	}
	// Slots are shorter than 1/CasesPerHour hours because arrivals are
	// thinned by the hour of the week: the kept ones average CasesPerHour.
	// Explicit conversions keep the arithmetic free of fused operations,
	// so every platform gets the same slots.
	mean := float64(meanArrivalPermille()) / 1000
	s.slotMs = int64(math.Round(float64(3.6e6*mean) / cfg.CasesPerHour))
	s.slotMs = max(s.slotMs, 1)
	s.customers = makeCustomers(cfg.Seed, cfg.Customers, policy)
	total := 0
	for _, c := range s.customers {
		total += c.weight
		s.cumWeight = append(s.cumWeight, total)
	}
	return s
}

// Config returns the configuration in effect.
func (s *Simulator) Config() Config { return s.cfg }

// Sync returns every case as of now: those created in the last History and
// every older one still open. The demo has no incremental mode: each batch
// is Full, and its cursor is the instant it was taken at.
func (s *Simulator) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	if err := ctx.Err(); err != nil {
		return sources.Batch{}, err
	}
	now := s.now()
	return sources.Batch{
		Cases:  s.CasesAt(now),
		Full:   true,
		Cursor: now.UTC().Format(time.RFC3339),
	}, nil
}

// CasesAt is what Sync returns when the clock says at: the cases created
// in the last History, every case still open, and, as the sources.Source
// contract asks for the monthly figures, those resolved since the start of
// the previous month.
func (s *Simulator) CasesAt(at time.Time) []sla.Case {
	now := at.Unix()
	since := at.Add(-s.cfg.History).Unix()
	y, m, _ := at.UTC().Date()
	prevMonth := time.Date(y, m-1, 1, 0, 0, 0, 0, time.UTC).Unix()
	return s.collect(min(since, prevMonth)-maxLifeSeconds, now, func(l *life) bool {
		return l.created >= since || !l.doneBy(now) || l.resolved >= prevMonth
	})
}

// Window returns the cases open at any time in [from, to): created before
// to and not resolved before from, as the ticket system showed them at
// min(to, now).
func (s *Simulator) Window(ctx context.Context, from, to time.Time) ([]sla.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	view := min(to.Unix(), s.now().Unix())
	f, t := from.Unix(), to.Unix()
	if f >= t {
		return nil, nil
	}
	return s.collect(f-maxLifeSeconds, view, func(l *life) bool {
		return l.created < t && (!l.doneBy(view) || l.resolved >= f)
	}), nil
}

// collect returns, oldest first and as of instant at, the cases created in
// [from, at] that keep says to keep.
func (s *Simulator) collect(from, at int64, keep func(*life) bool) []sla.Case {
	if at < from {
		return nil
	}
	lo := floorDiv(from*1000, s.slotMs)
	hi := floorDiv(at*1000+999, s.slotMs)
	lives := s.livesIn(lo, hi)
	out := make([]sla.Case, 0, len(lives))
	for _, l := range lives {
		if l.created >= from && l.created <= at && keep(l) {
			out = append(out, s.view(l, at))
		}
	}
	return out
}

// livesIn returns the lives of slots lo through hi, oldest first, from the
// cache where it has them.
func (s *Simulator) livesIn(lo, hi int64) []*life {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lives)+int(hi-lo+1) > s.cacheLimit {
		// Lives are cheap to draw again; a bounded cache beats an LRU's
		// bookkeeping for a demo.
		clear(s.lives)
	}
	out := make([]*life, 0, (hi-lo+1)/2)
	for n := lo; n <= hi; n++ {
		l, ok := s.lives[n]
		if !ok {
			l = s.draw(n)
			if int(hi-lo+1) <= s.cacheLimit {
				s.lives[n] = l
			}
		}
		if l != nil {
			out = append(out, l)
		}
	}
	return slices.Clip(out)
}

// Case returns case number n as the ticket system showed it at instant at;
// ok is false when slot n has no case or it was not created yet.
func (s *Simulator) Case(n int64, at time.Time) (c sla.Case, ok bool) {
	l := s.livesIn(n, n)
	if len(l) == 0 || l[0].created > at.Unix() {
		return sla.Case{}, false
	}
	return s.view(l[0], at.Unix()), true
}

// floorDiv is a/b rounded down, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// mix is SplitMix64's finaliser: it spreads consecutive case numbers over
// the whole seed space, as PCG wants unrelated seeds.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
