package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/support-sla/support_sla_exporter/exporter"
)

// The counts of support_sla_targets and support_sla_month_outcomes must be
// what `cases` reports at the same instant: the same cases, the same
// engine, two views.
func TestMetricsAgreeWithCases(t *testing.T) {
	for _, tt := range []struct {
		name, config string
		at           time.Time
	}{
		{"fixture", "testdata/config.yml", testAt},
		{"demo", "", time.Date(2026, 11, 18, 15, 30, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := func() time.Time { return tt.at }
			args := []string{"--log.level=error", "cases", "--format=json"}
			if tt.config != "" {
				args = append([]string{"--config.file=" + tt.config}, args...)
			}
			var out, errOut bytes.Buffer
			if code := run(context.Background(), args, &out, &errOut, now); code != 0 {
				t.Fatalf("cases: exit %d: %s", code, errOut.String())
			}
			fromCases := countCases(t, out.String(), tt.at)

			e, err := exporter.New(exporter.Options{ConfigFile: tt.config, Registry: registry(), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e.Start(ctx)
			for i := 0; !e.Ready(); i++ {
				if i > 1000 {
					t.Fatal("the sources were never polled")
				}
				time.Sleep(10 * time.Millisecond)
			}
			mfs, err := e.Registry().Gather()
			if err != nil {
				t.Fatal(err)
			}
			fromMetrics := map[string]float64{}
			for _, mf := range mfs {
				name := strings.TrimPrefix(mf.GetName(), "support_sla_")
				if name != "targets" && name != "month_outcomes" {
					continue
				}
				for _, m := range mf.GetMetric() {
					fromMetrics[key(name, labels(m))] += m.GetGauge().GetValue()
				}
			}
			if len(fromCases) == 0 {
				t.Fatal("no running target and no outcome: the test proves nothing")
			}
			for _, k := range slices.Sorted(maps.Keys(union(fromCases, fromMetrics))) {
				if fromCases[k] != fromMetrics[k] {
					t.Errorf("%s: cases says %v, metrics say %v", k, fromCases[k], fromMetrics[k])
				}
			}
		})
	}
}

func labels(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

func key(metric string, l map[string]string) string {
	state := l["state"]
	if metric == "month_outcomes" {
		state = l["outcome"]
	}
	return fmt.Sprintf("%s{source=%s,tier=%s,case_severity=%s,target=%s,state=%s}", metric, l["source"], l["tier"], l["case_severity"], l["target"], state)
}

// countCases counts the running targets by state and the outcomes decided
// in at's month (met by its stop, missed and breached by their due), from
// `cases --format json`.
func countCases(t *testing.T, out string, at time.Time) map[string]float64 {
	t.Helper()
	y, m, _ := at.UTC().Date()
	inMonth := func(s *string) bool {
		if s == nil {
			return false
		}
		ts, err := time.Parse(time.RFC3339, *s)
		if err != nil {
			t.Fatal(err)
		}
		yy, mm, _ := ts.UTC().Date()
		return yy == y && mm == m
	}
	counts := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l caseLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		lbl := map[string]string{"source": l.Source, "tier": l.Tier, "case_severity": fmt.Sprint(l.Severity), "target": l.Target, "state": l.State, "outcome": l.State}
		switch l.State {
		case "ok", "warning", "paused":
			counts[key("targets", lbl)]++
		case "breached":
			counts[key("targets", lbl)]++
			if inMonth(l.Due) {
				counts[key("month_outcomes", lbl)]++
			}
		case "met":
			if inMonth(l.Stopped) {
				counts[key("month_outcomes", lbl)]++
			}
		case "missed":
			if inMonth(l.Due) {
				counts[key("month_outcomes", lbl)]++
			}
		}
	}
	return counts
}

func union(a, b map[string]float64) map[string]float64 {
	u := maps.Clone(a)
	maps.Copy(u, b)
	return u
}
