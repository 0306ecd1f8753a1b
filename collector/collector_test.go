package collector

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/demo"
	"github.com/support-sla/support_sla_exporter/sources/file"
)

var update = flag.Bool("update", false, "rewrite testdata/*.prom")

// The fixture and the instant the cases command's golden output is made
// from: the metrics must tell the same story.
const fixture = "../cmd/support_sla_exporter/testdata/config.yml"

var testAt = time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)

// pollersFor loads a configuration and polls each source once.
func pollersFor(t testing.TB, path string, now time.Time, m *config.Metrics) []*poller.Poller {
	t.Helper()
	clock := func() time.Time { return now }
	o := config.Options{Registry: sources.Registry{"file": file.New, "demo": demo.New}, Now: clock}
	var cfg *config.Config
	var err error
	if path == "" {
		cfg, err = config.Demo(o)
	} else {
		cfg, err = config.Load(path, o)
	}
	if err != nil {
		t.Fatal(err)
	}
	if m != nil {
		*m = cfg.Metrics
	}
	var ps []*poller.Poller
	for _, s := range cfg.Sources {
		p := poller.New(poller.Config{Name: s.Name, Interval: s.Interval, Source: s.Source, Evaluator: s.Evaluator, Now: clock}, nil)
		if err := p.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		name    string
		metrics config.Metrics
	}{
		{"plain", config.Metrics{MaxCaseSeries: 1000}},
		{"by_customer_per_case", config.Metrics{ByCustomer: true, PerCase: true, MaxCaseSeries: 3}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps := pollersFor(t, fixture, testAt, nil)
			c := New(func() State { return State{Pollers: ps, Metrics: tt.metrics} }, func() time.Time { return testAt })
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(c)
			got := exposition(t, reg)
			path := filepath.Join("testdata", tt.name+".prom")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			if err := testutil.CollectAndCompare(c, want); err != nil {
				t.Error(err)
			}
			problems, err := testutil.CollectAndLint(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
			if _, err := reg.Gather(); err != nil {
				t.Errorf("a pedantic registry refuses the metrics: %v", err)
			}
		})
	}
}

// exposition is what /metrics shows for reg, in the text format.
func exposition(t testing.TB, reg prometheus.Gatherer) []byte {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	return []byte(buf.String())
}

// TestMetricNames: MetricNames lists every metric of the golden scrapes,
// and the names it lists beyond them are those that need what the
// fixture lacks (a ticket-system API, a process, outcomes decided after
// the start) or that the exporter registers.
func TestMetricNames(t *testing.T) {
	seen := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.prom"))
	if len(files) == 0 {
		t.Fatal("no golden scrapes")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && f[1] == "TYPE" {
				seen[f[2]] = true
			}
		}
	}
	elsewhere := map[string]bool{
		"support_sla_outcomes_total":                               true,
		"support_sla_source_poll_duration_seconds":                 true,
		"support_sla_source_requests_total":                        true,
		"support_sla_source_due_skew_seconds":                      true,
		"support_sla_config_last_reload_successful":                true,
		"support_sla_config_last_reload_success_timestamp_seconds": true,
		"support_sla_exporter_build_info":                          true,
		"support_sla_bridge_alerts_sent_total":                     true,
		"support_sla_bridge_errors_total":                          true,
		"support_sla_bridge_pending_alerts":                        true,
		"support_sla_writeback_notes_total":                        true,
	}
	listed := map[string]bool{}
	for _, n := range MetricNames() {
		listed[n] = true
		if !seen[n] && !elsewhere[n] {
			t.Errorf("%s is listed but in no golden scrape", n)
		}
	}
	for n := range seen {
		if !listed[n] {
			t.Errorf("%s is scraped but not in MetricNames", n)
		}
	}
}
