// Package config loads the exporter's configuration file: the sources to
// poll, the customers table, the SLA policies and the metric options. Every
// problem in a file is reported, each with its line and key path, and a
// configuration is used only when it has none.
package config

import (
	_ "embed"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/policy"
	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// Defaults of the configuration file.
const (
	DefaultInterval      = time.Minute
	DefaultMaxCaseSeries = 1000
)

// demoConfig is the configuration used when there is none.
//
//go:embed demo.yml
var demoConfig []byte

// Config is a loaded, valid configuration.
type Config struct {
	// File is the file it came from; empty for the built-in demo.
	File      string
	Sources   []*Source
	Customers map[string]sla.Customer
	Metrics   Metrics
	Report    Report
	Alerting  Alerting
}

// Source is one configured source, built and ready to poll.
type Source struct {
	Name       string
	Type       string
	PolicyName string
	Interval   time.Duration
	Evaluator  *sla.Evaluator
	Source     sources.Source
}

// Metrics are the metric options.
type Metrics struct {
	ByCustomer    bool
	PerCase       bool
	MaxCaseSeries int
}

// Report are the monthly report's options.
type Report struct {
	// Objectives are the compliance objectives by tier, ratios in (0, 1].
	Objectives map[string]float64
}

// DefaultObjectives are the objectives of a file that sets none: those of
// support_sla:compliance_objective:ratio in alerts/support_sla.rules.yml,
// so that the report and the alerts hold a tier to the same ratio.
func DefaultObjectives() map[string]float64 {
	return map[string]float64{"premium": 0.99, "production": 0.97, "basic": 0.95}
}

// Alerting are the alerting bridge's options (the `alerting:` block).
type Alerting struct {
	// Alertmanagers are the base URLs the bridge pushes per-case alerts to
	// (several for an Alertmanager cluster); none: no push.
	Alertmanagers []string
	// ResendInterval is how often a firing alert is sent again.
	ResendInterval time.Duration
	// LeadTime is how long before its due a running target is imminent;
	// LeadTimes overrides it per tier.
	LeadTime  time.Duration
	LeadTimes map[string]time.Duration
	// WriteBack serves POST /alertmanager/webhook, which writes a note on
	// the case of each alert it receives.
	WriteBack bool
}

// LeadTimeOf is the lead time of a tier.
func (a Alerting) LeadTimeOf(tier string) time.Duration {
	if d, ok := a.LeadTimes[tier]; ok {
		return d
	}
	return a.LeadTime
}

// The alerting defaults: Prometheus re-sends every minute; 15 minutes is
// the lead time of support_sla:breach_lead_time:seconds in alerts/.
const (
	DefaultResendInterval = time.Minute
	DefaultLeadTime       = 15 * time.Minute
)

// Options are what loading needs besides the file.
type Options struct {
	Registry sources.Registry
	Logger   *slog.Logger
	// Now is the clock handed to sources; time.Now when nil.
	Now func() time.Time
	// Requests is support_sla_source_requests_total; each source gets it
	// with its own source label. May be nil.
	Requests *prometheus.CounterVec
}

func (o Options) now() func() time.Time {
	if o.Now != nil {
		return o.Now
	}
	return time.Now
}

// Load reads and validates a configuration file.
func Load(path string, o Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return Parse(path, data, o)
}

// Demo is the configuration used when there is none: the built-in demo
// source under the veeam preset, with demo-only resolution goals added.
func Demo(o Options) (*Config, error) {
	return Parse("", demoConfig, o)
}

// DemoYAML is the demo configuration's text.
func DemoYAML() []byte { return demoConfig }

// Parse validates a configuration held in memory; file names it in errors
// and relative paths start from its folder.
func Parse(file string, data []byte, o Options) (*Config, error) {
	name := file
	if name == "" {
		name = "built-in demo configuration"
	}
	d := &strictyaml.Decoder{File: name}
	root := d.Parse(data)
	if root == nil {
		return nil, d.Err()
	}
	cfg := &Config{File: file, Metrics: Metrics{MaxCaseSeries: DefaultMaxCaseSeries}, Report: Report{Objectives: DefaultObjectives()},
		Alerting: Alerting{ResendInterval: DefaultResendInterval, LeadTime: DefaultLeadTime}}
	var sourcesNode, policiesNode *yaml.Node
	var tierLines, objectiveLines map[string]*yaml.Node
	d.Fields(root, "", map[string]func(*yaml.Node, string){
		"sources":   func(v *yaml.Node, _ string) { sourcesNode = v },
		"policies":  func(v *yaml.Node, _ string) { policiesNode = v },
		"customers": func(v *yaml.Node, p string) { cfg.Customers, tierLines = decodeCustomers(d, v, p) },
		"metrics":   func(v *yaml.Node, p string) { decodeMetrics(d, v, p, &cfg.Metrics) },
		"report":    func(v *yaml.Node, p string) { objectiveLines = decodeReport(d, v, p, &cfg.Report) },
		"alerting":  func(v *yaml.Node, p string) { decodeAlerting(d, v, p, &cfg.Alerting) },
	})
	policies := policy.Decode(d, policiesNode, "policies")
	if sourcesNode == nil {
		d.Errorf(root, "sources", "missing: name at least one source (see the README)")
	}
	dir := "."
	if file != "" {
		dir = filepath.Dir(file)
	}
	l := &loader{d: d, o: o, dir: dir, user: policies, presets: map[string]*sla.Policy{}}
	d.Seq(sourcesNode, "sources", func(i int, v *yaml.Node, p string) {
		if s := l.source(v, p); s != nil {
			cfg.Sources = append(cfg.Sources, s)
		}
	})
	l.checkCustomers(cfg, tierLines)
	l.checkObjectives(cfg, objectiveLines)
	if err := d.Err(); err != nil {
		return nil, err
	}
	for _, s := range cfg.Sources {
		s.Evaluator.Customers = cfg.Customers
	}
	return cfg, nil
}

type loader struct {
	d       *strictyaml.Decoder
	o       Options
	dir     string
	user    map[string]*sla.Policy
	presets map[string]*sla.Policy
	names   map[string]bool
	used    []*sla.Policy
}

// policy resolves a source's policy name: the file's policies first, then
// the presets; sources naming the same policy share it.
func (l *loader) policy(name string) (*sla.Policy, error) {
	if p, ok := l.user[name]; ok {
		return p, nil
	}
	if p, ok := l.presets[name]; ok {
		return p, nil
	}
	p, err := policy.Preset(name)
	if err != nil {
		names := make([]string, 0, len(l.user))
		for n := range l.user {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("unknown policy %q (policies in this file: %s; presets: %s)", name, listOrNone(names), strings.Join(policy.PresetNames(), ", "))
	}
	l.presets[name] = p
	return p, nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func (l *loader) source(n *yaml.Node, path string) *Source {
	d := l.d
	s := &Source{Interval: DefaultInterval}
	var typeNode *yaml.Node
	d.Map(n, path, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			d.String(v, strictyaml.Join(path, key), &s.Name)
		case "type":
			typeNode = v
			d.String(v, strictyaml.Join(path, key), &s.Type)
		case "policy":
			d.String(v, strictyaml.Join(path, key), &s.PolicyName)
		case "interval":
			d.Duration(v, strictyaml.Join(path, key), &s.Interval)
		}
	})
	ok := true
	switch {
	case s.Name == "":
		d.Errorf(n, strictyaml.Join(path, "name"), "missing: every source needs a name (its `source` label)")
		ok = false
	case l.names[s.Name]:
		d.Errorf(n, strictyaml.Join(path, "name"), "duplicate source name %q", s.Name)
		ok = false
	}
	if l.names == nil {
		l.names = map[string]bool{}
	}
	l.names[s.Name] = true
	var pol *sla.Policy
	if s.PolicyName == "" {
		d.Errorf(n, strictyaml.Join(path, "policy"), "missing: name a policy of this file or a preset (%s)", strings.Join(policy.PresetNames(), ", "))
		ok = false
	} else if p, err := l.policy(s.PolicyName); err != nil {
		d.Errorf(n, strictyaml.Join(path, "policy"), "%v", err)
		ok = false
	} else {
		pol = p
		l.used = append(l.used, p)
	}
	factory, known := l.o.Registry[s.Type]
	if !known {
		if s.Type == "" {
			d.Errorf(n, strictyaml.Join(path, "type"), "missing: one of %s", strings.Join(l.types(), ", "))
		} else {
			d.Errorf(typeNode, strictyaml.Join(path, "type"), "unknown source type %q (known: %s)", s.Type, strings.Join(l.types(), ", "))
		}
		return nil
	}
	logger := l.o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	env := sources.Env{
		Name:   s.Name,
		Dir:    l.dir,
		Policy: pol,
		Now:    l.o.now(),
		Logger: logger.With("source_name", s.Name),
	}
	if l.o.Requests != nil && s.Name != "" {
		env.Requests = l.o.Requests.MustCurryWith(prometheus.Labels{"source": s.Name})
	}
	src := factory(d, n, path, env)
	if !ok || src == nil {
		return nil
	}
	s.Source = src
	s.Evaluator = &sla.Evaluator{Policy: pol}
	return s
}

func (l *loader) types() []string {
	t := make([]string, 0, len(l.o.Registry))
	for k := range l.o.Registry {
		t = append(t, k)
	}
	sort.Strings(t)
	return t
}

// checkCustomers reports customers whose tier no policy in use has.
func (l *loader) checkCustomers(cfg *Config, tierNodes map[string]*yaml.Node) {
	if len(l.used) == 0 {
		return
	}
	names := make([]string, 0, len(cfg.Customers))
	for n := range cfg.Customers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tier := cfg.Customers[n].Tier
		if tier == "" {
			continue
		}
		found := false
		for _, p := range l.used {
			if _, ok := p.Tiers[tier]; ok {
				found = true
				break
			}
		}
		if !found {
			l.d.Errorf(tierNodes[n], "customers."+n+".tier", "tier %q is in none of the policies the sources use", tier)
		}
	}
}

// checkObjectives reports objectives given in the file for tiers no policy
// in use has: most likely a typo, which would leave the tier without one.
func (l *loader) checkObjectives(cfg *Config, nodes map[string]*yaml.Node) {
	if len(l.used) == 0 {
		return
	}
	for _, tier := range slices.Sorted(maps.Keys(nodes)) {
		if !slices.ContainsFunc(l.used, func(p *sla.Policy) bool { return p.Tiers[tier] != nil }) {
			l.d.Errorf(nodes[tier], "report.objectives."+tier, "tier %q is in none of the policies the sources use", tier)
		}
	}
}

// decodeCustomers decodes the customers table, and where each tier is
// written for later errors.
func decodeCustomers(d *strictyaml.Decoder, n *yaml.Node, path string) (map[string]sla.Customer, map[string]*yaml.Node) {
	out := map[string]sla.Customer{}
	tiers := map[string]*yaml.Node{}
	d.Map(n, path, func(name string, k, v *yaml.Node) {
		p := strictyaml.Join(path, name)
		var c sla.Customer
		d.Fields(v, p, map[string]func(*yaml.Node, string){
			"tier": func(v *yaml.Node, p string) {
				d.String(v, p, &c.Tier)
				tiers[name] = v
			},
			"timezone": func(v *yaml.Node, p string) {
				if d.String(v, p, &c.Timezone) {
					if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
						d.Errorf(v, p, "unknown time zone %q", c.Timezone)
					}
				}
			},
		})
		out[name] = c
	})
	return out, tiers
}

func decodeMetrics(d *strictyaml.Decoder, n *yaml.Node, path string, m *Metrics) {
	d.Fields(n, path, map[string]func(*yaml.Node, string){
		"by_customer": func(v *yaml.Node, p string) { d.Bool(v, p, &m.ByCustomer) },
		"per_case":    func(v *yaml.Node, p string) { d.Bool(v, p, &m.PerCase) },
		"max_case_series": func(v *yaml.Node, p string) {
			if d.Int(v, p, &m.MaxCaseSeries) && m.MaxCaseSeries < 0 {
				d.Errorf(v, p, "must not be negative")
			}
		},
	})
}

func decodeAlerting(d *strictyaml.Decoder, n *yaml.Node, path string, a *Alerting) {
	positive := func(v *yaml.Node, p string, dst *time.Duration) {
		if d.Duration(v, p, dst) && *dst <= 0 {
			d.Errorf(v, p, "must be positive")
		}
	}
	d.Fields(n, path, map[string]func(*yaml.Node, string){
		"alertmanagers": func(v *yaml.Node, p string) {
			d.Seq(v, p, func(_ int, v *yaml.Node, p string) {
				var s string
				if !d.String(v, p, &s) {
					return
				}
				u, err := url.Parse(s)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					d.Errorf(v, p, "%q is not an Alertmanager address: want http(s)://host:port", s)
					return
				}
				if u.User != nil {
					d.Errorf(v, p, "credentials in the address are refused: they would show in logs")
					return
				}
				a.Alertmanagers = append(a.Alertmanagers, strings.TrimSuffix(s, "/"))
			})
		},
		"resend_interval": func(v *yaml.Node, p string) { positive(v, p, &a.ResendInterval) },
		"lead_time":       func(v *yaml.Node, p string) { positive(v, p, &a.LeadTime) },
		"lead_times": func(v *yaml.Node, p string) {
			a.LeadTimes = map[string]time.Duration{}
			d.Map(v, p, func(tier string, _, v *yaml.Node) {
				var dur time.Duration
				positive(v, strictyaml.Join(p, tier), &dur)
				a.LeadTimes[tier] = dur
			})
		},
		"write_back": func(v *yaml.Node, p string) { d.Bool(v, p, &a.WriteBack) },
	})
}

// decodeReport decodes the report options. Objectives given replace the
// defaults whole: a tier left out has none. It returns where each
// objective is written, for later errors.
func decodeReport(d *strictyaml.Decoder, n *yaml.Node, path string, r *Report) map[string]*yaml.Node {
	nodes := map[string]*yaml.Node{}
	d.Fields(n, path, map[string]func(*yaml.Node, string){
		"objectives": func(v *yaml.Node, p string) {
			objectives := map[string]float64{}
			d.Map(v, p, func(tier string, _, v *yaml.Node) {
				var f float64
				pp := strictyaml.Join(p, tier)
				if !d.Float(v, pp, &f) {
					return
				}
				if !(f > 0 && f <= 1) {
					d.Errorf(v, pp, "must be a ratio in (0, 1], e.g. 0.99 for 99%%, not %s", v.Value)
					return
				}
				objectives[tier] = f
				nodes[tier] = v
			})
			r.Objectives = objectives
		},
	})
	return nodes
}
