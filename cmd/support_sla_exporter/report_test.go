package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/support-sla/support_sla_exporter/collector"
	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/report"
)

// The report of the fixture's month, at testAt: the current month, so as
// of testAt.
func TestReport(t *testing.T) {
	for _, tt := range []struct {
		golden string
		args   []string
	}{
		{"report-2026-03.csv.golden", []string{"--month=2026-03"}},
		{"report-2026-03-by-customer.csv.golden", []string{"--month=2026-03", "--by=customer"}},
		{"report-2026-03-acme.csv.golden", []string{"--month=2026-03", "--customer=acme"}},
		{"report-2026-03.json.golden", []string{"--month=2026-03", "--format=json", "--timezone=Europe/Paris", "--months=1"}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			code, out, errOut := runMain(t, append([]string{"--config.file=testdata/config.yml", "--log.level=error", "report"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tt.golden, out)
		})
	}
}

// reportJSON runs report --format=json with the clock at now and decodes
// it.
func reportJSON(t *testing.T, now time.Time, args ...string) *report.Report {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"--log.level=error", "report", "--format=json"}, args...), &out, &errOut, func() time.Time { return now })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	return &r
}

// Without --month, the month before now's, in --timezone.
func TestReportDefaultMonth(t *testing.T) {
	for _, tt := range []struct {
		now  time.Time
		zone string
		want string
	}{
		{testAt, "UTC", "2026-02"},
		{time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), "UTC", "2025-12"},
		// 12:00 UTC on March 31 is already April 1 at UTC+14.
		{time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC), "Pacific/Kiritimati", "2026-03"},
	} {
		r := reportJSON(t, tt.now, "--config.file=testdata/config.yml", "--timezone="+tt.zone)
		if r.Month != tt.want || r.Partial {
			t.Errorf("at %s in %s: month %s (partial %v), want %s, complete", tt.now, tt.zone, r.Month, r.Partial, tt.want)
		}
	}
}

// Bad usage exits 2 with a message naming the flag, before reading any
// source.
func TestReportUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--month=2026-13"}, `--month: "2026-13" is not a month: write it YYYY-MM`},
		{[]string{"--month=03/2026"}, `--month: "03/2026" is not a month`},
		{[]string{"--timezone=Mars/Olympus"}, `--timezone: "Mars/Olympus" is not a time zone`},
		{[]string{"--timezone=Local"}, `--timezone: "Local" is not a time zone`},
		{[]string{"--format=pdf"}, `--format: "pdf" is not one of csv, json, html, xlsx`},
		{[]string{"--by=supplier"}, `--by: "supplier" is not one of customer`},
		{[]string{"--months=-1"}, "--months: -1 is not between 0 and 120"},
		{[]string{"--month=2026-04"}, "--month 2026-04 has not begun: it starts 2026-04-01T00:00:00Z"},
		{[]string{"--month=2026-04", "--timezone=Europe/Paris"}, "--month 2026-04 has not begun: it starts 2026-04-01T00:00:00+02:00"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runMain(t, append([]string{"--config.file=testdata/nope.yml", "report"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// --out replaces the file through a rename, leaving nothing else behind,
// and takes its format from the extension unless --format says.
func TestReportOut(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--config.file=testdata/config.yml", "--log.level=error", "report", "--month=2026-03"}
	_, wantJSON, _ := runMain(t, append(base, "--format=json")...)
	_, wantCSV, _ := runMain(t, base...)
	for _, tt := range []struct {
		file  string
		args  []string
		want  string
		times int
	}{
		{"march.json", nil, wantJSON, 2}, // twice: the second replaces the first
		{"march.txt", nil, wantCSV, 1},
		{"march.out", []string{"--format=json"}, wantJSON, 1},
	} {
		path := filepath.Join(dir, tt.file)
		for range tt.times {
			code, out, errOut := runMain(t, append(base, append(tt.args, "--out="+path)...)...)
			if code != 0 || out != "" {
				t.Fatalf("%s: exit %d, stdout %q: %s", tt.file, code, out, errOut)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s holds\n%s\nwant\n%s", tt.file, got, tt.want)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, %v; want 0644", tt.file, fi.Mode(), err)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"march.json", "march.out", "march.txt"}; !slices.Equal(names, want) {
		t.Errorf("the folder holds %v, want only %v", names, want)
	}

	code, _, errOut := runMain(t, append(base, "--out="+filepath.Join(dir, "no", "such", "dir.csv"))...)
	if code != 1 || !strings.Contains(errOut, "dir.csv") {
		t.Errorf("an unwritable --out: exit %d, %q", code, errOut)
	}
}

// A source that cannot be read fails the report, naming it: a report
// without its cases would be wrong, and say nothing.
func TestReportSourceFails(t *testing.T) {
	cases, err := filepath.Abs(filepath.Join("testdata", "cases.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := "sources:\n" +
		"  - {name: helpdesk, type: file, path: " + cases + ", policy: veeam}\n" +
		"  - {name: archive, type: file, path: missing.jsonl, policy: veeam}\n"
	path := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMain(t, "--config.file="+path, "--log.level=error", "report", "--month=2026-03")
	if code != 1 || out != "" || !strings.Contains(errOut, "source archive: reading the cases of 2026-03-01 to 2026-03-31") ||
		!strings.Contains(errOut, "missing.jsonl") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1, nothing, and the source named", code, out, errOut)
	}
}

// html and xlsx come from the report package's writers.
func TestReportFormats(t *testing.T) {
	for _, tt := range []struct{ format, prefix string }{
		{"html", "<!DOCTYPE html>"},
		{"xlsx", "PK\x03\x04"}, // a zip archive
	} {
		code, out, errOut := runMain(t, "--config.file=testdata/config.yml", "--log.level=error", "report", "--month=2026-03", "--format="+tt.format)
		if code != 0 || !strings.HasPrefix(out, tt.prefix) {
			t.Errorf("%s: exit %d, output %.40q: %s", tt.format, code, out, errOut)
		}
	}
}

// The report's outcomes of the current month are what
// support_sla_month_outcomes says at the same instant: the same cases (read
// by Window for the one, Sync for the other), the same engine, the same
// month (UTC, the collector's).
func TestReportAgreesWithMetrics(t *testing.T) {
	for _, tt := range []struct {
		name, config string
		at           time.Time
	}{
		{"fixture", "testdata/config.yml", testAt},
		{"demo", "", time.Date(2026, 11, 18, 15, 30, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := func() time.Time { return tt.at }
			r := reportJSON(t, tt.at, "--config.file="+tt.config, "--month="+tt.at.Format("2006-01"))
			if !r.Partial || !r.AsOf.Equal(tt.at) {
				t.Fatalf("the report is not of the current month as of %s: as of %s", tt.at, r.AsOf)
			}
			fromReport := map[string]float64{}
			outcomes := map[string]float64{}
			for _, row := range r.Rows {
				for outcome, n := range map[string]int{"met": row.Met, "missed": row.Missed, "breached": row.Breached} {
					if n > 0 {
						fromReport[outcomeKey(row.Source, row.Tier, fmt.Sprint(row.Severity), row.Target, outcome)] += float64(n)
						outcomes[outcome] += float64(n)
					}
				}
			}
			for _, o := range []string{"met", "missed", "breached"} {
				if outcomes[o] == 0 {
					t.Errorf("no %s outcome this month: the test proves less than it should", o)
				}
			}

			cfg, err := loadTestConfig(tt.config, now)
			if err != nil {
				t.Fatal(err)
			}
			var pollers []*poller.Poller
			for _, s := range cfg.Sources {
				p := poller.New(poller.Config{Name: s.Name, Interval: s.Interval, Source: s.Source, Evaluator: s.Evaluator, Now: now}, nil)
				if err := p.Poll(context.Background()); err != nil {
					t.Fatal(err)
				}
				pollers = append(pollers, p)
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(collector.New(func() collector.State { return collector.State{Pollers: pollers} }, now))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			fromMetrics := map[string]float64{}
			for _, mf := range mfs {
				if mf.GetName() != "support_sla_month_outcomes" {
					continue
				}
				for _, m := range mf.GetMetric() {
					l := labels(m)
					fromMetrics[outcomeKey(l["source"], l["tier"], l["case_severity"], l["target"], l["outcome"])] += m.GetGauge().GetValue()
				}
			}
			for _, k := range slices.Sorted(maps.Keys(union(fromReport, fromMetrics))) {
				if fromReport[k] != fromMetrics[k] {
					t.Errorf("%s: the report says %v, support_sla_month_outcomes %v", k, fromReport[k], fromMetrics[k])
				}
			}
		})
	}
}

func outcomeKey(source, tier, sev, target, outcome string) string {
	return fmt.Sprintf("{source=%s,tier=%s,case_severity=%s,target=%s,outcome=%s}", source, tier, sev, target, outcome)
}

func loadTestConfig(file string, now func() time.Time) (*config.Config, error) {
	o := config.Options{Registry: registry(), Now: now}
	if file == "" {
		return config.Demo(o)
	}
	return config.Load(file, o)
}
