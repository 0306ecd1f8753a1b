package bridge

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/support-sla/support_sla_exporter/sla"
)

// BenchmarkRecompute is the bridge's work when a poll publishes 10,000
// open cases: every running target's three instants and its heap entry.
func BenchmarkRecompute(b *testing.B) {
	src := &fakeSource{name: "helpdesk", ev: testEvaluator(b)}
	cases := make([]sla.Case, 10000)
	for i := range cases {
		cases[i] = newCase(fmt.Sprintf("C-%d", i))
		cases[i].Created = t0.Add(-time.Duration(i) * time.Second)
	}
	src.set(cases...)
	br := New(Config{Alerting: alerting, Sources: []Source{src}}, nil)
	br.sink = func([]*models.PostableAlert) {}
	now := t0.Add(time.Hour)
	br.step(now)
	// Both targets of every case run: a recompute that lost some would
	// measure less work than a poll makes.
	if want := 2 * len(cases); len(br.entries) != want {
		b.Fatalf("%d targets scheduled, want %d", len(br.entries), want)
	}
	b.ReportAllocs()
	for b.Loop() {
		br.Update(src)
		br.step(now)
	}
	if want := 2 * len(cases); len(br.entries) != want {
		b.Fatalf("after recomputing, %d targets scheduled, want %d", len(br.entries), want)
	}
	b.ReportMetric(float64(len(br.entries)), "targets")
}
