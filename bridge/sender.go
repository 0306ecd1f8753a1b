package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	clientruntime "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	"github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/models"
)

// Poster posts alerts to one Alertmanager.
type Poster interface {
	Post(ctx context.Context, alerts models.PostableAlerts) error
	// String names the Alertmanager for logs, without credentials.
	String() string
}

// apiPoster posts with the Alertmanager API v2 client.
type apiPoster struct {
	api  *client.AlertmanagerAPI
	name string
}

// NewPoster makes a Poster for an Alertmanager base URL (http://host:9093,
// or with a path prefix).
func NewPoster(base string, timeout time.Duration) (Poster, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("alertmanager %q: not an http(s) URL", redact(base))
	}
	rt := clientruntime.NewWithClient(u.Host, path.Join("/", u.Path, "api/v2"), []string{u.Scheme}, &http.Client{Timeout: timeout})
	return &apiPoster{api: client.New(rt, strfmt.Default), name: u.Redacted()}, nil
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

func (p *apiPoster) String() string { return p.name }

func (p *apiPoster) Post(ctx context.Context, alerts models.PostableAlerts) error {
	_, err := p.api.Alert.PostAlerts(alert.NewPostAlertsParams().WithContext(ctx).WithAlerts(alerts))
	if err != nil {
		// The configuration refuses credentials in the URL: none to leak.
		return fmt.Errorf("posting %d alert(s) to %s: %w", len(alerts), p.name, err)
	}
	return nil
}

// The retry backoff of a failed push: doubling from minBackoff up to
// maxBackoff.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// sender delivers alerts to one Alertmanager, in its own goroutine: a slow
// or failing Alertmanager delays neither the scheduler nor the others. It
// keeps the latest version of each alert (by label set) until accepted.
type sender struct {
	poster  Poster
	clock   Clock
	metrics *Metrics
	log     *slog.Logger

	mu      sync.Mutex
	pending map[string]*models.PostableAlert
	wake    chan struct{}
}

func newSender(p Poster, clk Clock, m *Metrics, log *slog.Logger) *sender {
	return &sender{poster: p, clock: clk, metrics: m, log: log,
		pending: map[string]*models.PostableAlert{}, wake: make(chan struct{}, 1)}
}

// enqueue adds alerts, each replacing a queued one of the same label set.
func (s *sender) enqueue(alerts []*models.PostableAlert) {
	if len(alerts) == 0 {
		return
	}
	s.mu.Lock()
	for _, a := range alerts {
		k := fingerprint(a.Labels)
		if _, ok := s.pending[k]; !ok {
			s.metrics.Pending.Inc()
		}
		s.pending[k] = a
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run delivers until ctx ends.
func (s *sender) run(ctx context.Context) {
	backoff := time.Duration(0)
	for {
		var retry <-chan time.Time
		var t Timer
		if backoff > 0 {
			t = s.clock.NewTimer(backoff)
			retry = t.C()
		}
		select {
		case <-ctx.Done():
			if t != nil {
				t.Stop()
			}
			s.mu.Lock()
			s.metrics.Pending.Sub(float64(len(s.pending)))
			s.pending = map[string]*models.PostableAlert{}
			s.mu.Unlock()
			return
		case <-s.wake:
		case <-retry:
		}
		if t != nil {
			t.Stop()
		}
		if s.flush(ctx) {
			backoff = 0
		} else {
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
		}
	}
}

// flush posts what is queued; false when the post failed.
func (s *sender) flush(ctx context.Context) bool {
	s.mu.Lock()
	batch := make(models.PostableAlerts, 0, len(s.pending))
	for _, a := range s.pending {
		batch = append(batch, a)
	}
	s.mu.Unlock()
	if len(batch) == 0 {
		return true
	}
	sort.Slice(batch, func(i, j int) bool { return fingerprint(batch[i].Labels) < fingerprint(batch[j].Labels) })
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := s.poster.Post(pctx, batch)
	cancel()
	if err != nil {
		s.metrics.Errors.Inc()
		s.log.Warn("Pushing alerts failed, retrying", "alertmanager", s.poster.String(), "alerts", len(batch), "err", err)
		return false
	}
	s.mu.Lock()
	for _, a := range batch {
		k := fingerprint(a.Labels)
		if s.pending[k] == a { // not replaced meanwhile
			delete(s.pending, k)
			s.metrics.Pending.Dec()
		}
		s.metrics.Sent.WithLabelValues(a.Labels["alertname"]).Inc()
	}
	s.mu.Unlock()
	return true
}

// fingerprint is a label set as one string, the identity of an alert.
func fingerprint(ls models.LabelSet) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(ls[k])
		b.WriteByte(0)
	}
	return b.String()
}
