// Package exporter runs a configuration: one poller per source, the SLA
// collector over their caches, and reloads that swap in a new configuration
// only once it has been validated.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/support-sla/support_sla_exporter/bridge"
	"github.com/support-sla/support_sla_exporter/collector"
	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/sources"
)

// Options say what to run.
type Options struct {
	// ConfigFile is the configuration; empty runs the built-in demo.
	ConfigFile string
	Registry   sources.Registry
	Logger     *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Exporter is a running configuration.
type Exporter struct {
	opts      Options
	registry  *prometheus.Registry
	durations *prometheus.HistogramVec
	requests  *prometheus.CounterVec
	reloadOK  prometheus.Gauge
	reloadAt  prometheus.Gauge
	writeBack *writeBack // POST /alertmanager/webhook
	bridgeM   *bridge.Metrics

	mu   sync.Mutex // serialises Start and reloads
	run  context.Context
	live atomic.Pointer[live] // read by every scrape, never blocked by a reload
}

// live is one configuration and its running pollers.
type live struct {
	cfg     *config.Config
	pollers []*poller.Poller
	bridge  *bridge.Bridge // nil without alerting.alertmanagers
	cancel  context.CancelFunc
}

// New loads the configuration and builds the exporter; its pollers start
// with Start.
func New(o Options) (*Exporter, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Exporter{
		opts:      o,
		registry:  prometheus.NewRegistry(),
		durations: collector.NewPollDurations(),
		requests:  collector.NewRequests(),
		bridgeM:   bridge.NewMetrics(),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "support_sla_config_last_reload_successful",
			Help: "1 if the last configuration reload succeeded; after a failed one, the previous configuration keeps running."}),
		reloadAt: prometheus.NewGauge(prometheus.GaugeOpts{Name: "support_sla_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully."}),
	}
	e.writeBack = newWriteBack(e)
	cfg, err := e.load()
	if err != nil {
		return nil, err
	}
	e.live.Store(&live{cfg: cfg, cancel: func() {}})
	e.reloadOK.Set(1)
	e.reloadAt.Set(float64(o.Now().Unix()))
	e.registry.MustRegister(
		collector.New(e.state, o.Now),
		e.durations, e.requests, e.reloadOK, e.reloadAt, e.writeBack.notes,
		versioncollector.NewCollector("support_sla_exporter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	e.registry.MustRegister(e.bridgeM.Collectors()...)
	return e, nil
}

func (e *Exporter) load() (*config.Config, error) {
	o := config.Options{Registry: e.opts.Registry, Logger: e.opts.Logger, Now: e.opts.Now, Requests: e.requests}
	if e.opts.ConfigFile == "" {
		return config.Demo(o)
	}
	return config.Load(e.opts.ConfigFile, o)
}

// Registry holds every metric of the exporter.
func (e *Exporter) Registry() *prometheus.Registry { return e.registry }

// Config is the configuration running now.
func (e *Exporter) Config() *config.Config { return e.live.Load().cfg }

// Pollers are the pollers running now.
func (e *Exporter) Pollers() []*poller.Poller { return e.live.Load().pollers }

func (e *Exporter) state() collector.State {
	l := e.live.Load()
	return collector.State{Pollers: l.pollers, Metrics: l.cfg.Metrics}
}

// Start starts polling every source, until ctx ends.
func (e *Exporter) Start(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.run = ctx
	e.live.Store(e.startLocked(e.live.Load().cfg, nil))
}

// startLocked starts the pollers of cfg; those of sources that prev also
// had start from its cached cases. With alerting.alertmanagers, a new
// alerting bridge starts too, told of each poll, and takes over the alerts
// of prev's once that one has stopped.
func (e *Exporter) startLocked(cfg *config.Config, prev *live) *live {
	ctx, cancel := context.WithCancel(e.run)
	l := &live{cfg: cfg, cancel: cancel}
	old := map[string]*poller.Poller{}
	var oldBridge *bridge.Bridge
	if prev != nil {
		for _, p := range prev.pollers {
			old[p.Name()] = p
		}
		oldBridge = prev.bridge
	}
	for _, s := range cfg.Sources {
		var p *poller.Poller
		p = poller.New(poller.Config{
			Name: s.Name, Interval: s.Interval, Source: s.Source, Evaluator: s.Evaluator,
			Logger: e.opts.Logger.With("source_name", s.Name), Now: e.opts.Now,
			Durations: e.durations.WithLabelValues(s.Name),
			OnPublish: func() {
				if l.bridge != nil {
					l.bridge.Update(p)
				}
			},
		}, old[s.Name])
		l.pollers = append(l.pollers, p)
	}
	if len(cfg.Alerting.Alertmanagers) > 0 {
		posters, err := bridge.Posters(cfg.Alerting.Alertmanagers)
		if err != nil {
			e.opts.Logger.Error("The alerting bridge is off", "err", err)
		} else {
			srcs := make([]bridge.Source, len(l.pollers))
			for i, p := range l.pollers {
				srcs[i] = p
			}
			l.bridge = bridge.New(bridge.Config{Alerting: cfg.Alerting, Sources: srcs, Posters: posters,
				Metrics: e.bridgeM, Logger: e.opts.Logger.With("component", "bridge")}, oldBridge)
			go l.bridge.Run(ctx)
		}
	}
	for _, p := range l.pollers {
		go p.Run(ctx)
	}
	return l
}

// Reload loads the configuration file again. A configuration with any
// error is not applied: the running one goes on, and the error says why.
func (e *Exporter) Reload() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	cfg, err := e.load()
	if err != nil {
		e.reloadOK.Set(0)
		e.opts.Logger.Error("Reload failed, the previous configuration keeps running", "err", err)
		return err
	}
	if e.run == nil {
		return errors.New("reload before start")
	}
	prev := e.live.Load()
	e.live.Store(e.startLocked(cfg, prev))
	prev.cancel()
	kept := map[string]bool{}
	for _, s := range cfg.Sources {
		kept[s.Name] = true
	}
	for _, p := range prev.pollers {
		if !kept[p.Name()] {
			e.durations.DeleteLabelValues(p.Name())
			e.requests.DeletePartialMatch(prometheus.Labels{"source": p.Name()})
		}
	}
	e.reloadOK.Set(1)
	e.reloadAt.Set(float64(e.opts.Now().Unix()))
	e.opts.Logger.Info("Reloaded the configuration", "file", e.opts.ConfigFile, "sources", len(cfg.Sources))
	return nil
}

// Ready reports whether every source has been polled once, successfully
// or not (before a reload counts).
func (e *Exporter) Ready() bool {
	for _, p := range e.Pollers() {
		if !p.Ready() {
			return false
		}
	}
	return true
}

// Describe says what the exporter runs, for its first log line and its
// landing page.
func (e *Exporter) Describe() string {
	cfg := e.Config()
	if cfg.File == "" {
		return "Running the built-in demo: simulated cases under the veeam preset (with demo-only resolution goals). Give a configuration file with --config.file to poll your ticket systems."
	}
	return fmt.Sprintf("Running %s: %d source(s).", cfg.File, len(cfg.Sources))
}
