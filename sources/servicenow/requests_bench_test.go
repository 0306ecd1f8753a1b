package servicenow

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/servicenow/snowfake"
)

// BenchmarkRequests counts what polling an instance of 100,000 incidents
// costs: a full sync, then an incremental one after 1% of them changed. Run
// with -benchtime=1x; the figures are in BENCHMARKS.md.
func BenchmarkRequests(b *testing.B) {
	const total, changed = 100_000, 1_000
	for b.Loop() {
		fake, s, _ := setup(b, "")
		t0 := at("2026-02-08T00:00:00Z")
		for i := range total {
			fake.AddIncident(snowfake.Incident{SysID: id(1 + i), Number: fmt.Sprintf("INC%07d", 1+i),
				Opened: t0.Add(time.Duration(i) * 20 * time.Second), Priority: "3", CallerUser: caller})
		}
		full, err := s.Sync(context.Background(), "")
		if err != nil || len(full.Cases) != total {
			b.Fatalf("full sync: %d cases, %v", len(full.Cases), err)
		}
		fullRequests := fake.Requests("")
		fake.ResetCounts()
		for i := 1; i <= changed; i++ {
			fake.Change(id(i*total/changed), now.Add(-time.Hour).Add(time.Duration(i)*time.Second), agent, "priority", "2")
		}
		inc, err := s.Sync(context.Background(), full.Cursor)
		if err != nil {
			b.Fatal(err)
		}
		n := len(inc.Cases)
		b.ReportMetric(float64(fullRequests), "full-requests")
		b.ReportMetric(float64(n), "incremental-cases")
		b.ReportMetric(float64(fake.Requests("")), "incremental-requests")
	}
}
