package zendesk

import (
	"context"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/zendesk/zendeskfake"
)

// BenchmarkRequests counts what polling an account of 100,000 tickets
// costs: a full sync, then an incremental one after 1% of them changed. Run
// with -benchtime=1x; the figures are in BENCHMARKS.md.
func BenchmarkRequests(b *testing.B) {
	const total, changed = 100_000, 1_000
	for b.Loop() {
		fake, s, _ := setup(b, "")
		t0 := at("2026-02-08T00:00:00Z")
		for i := range int64(total) {
			fake.AddTicket(zendeskfake.Ticket{ID: 1 + i, CreatedAt: t0.Add(time.Duration(i) * 20 * time.Second),
				Status: "open", Priority: "normal", RequesterID: customer})
		}
		full, err := s.Sync(context.Background(), "")
		if err != nil || len(full.Cases) != total {
			b.Fatalf("full sync: %d cases, %v", len(full.Cases), err)
		}
		fullRequests := fake.Requests("")
		fake.ResetCounts()
		for i := int64(1); i <= changed; i++ {
			fake.Change(i*total/changed, now.Add(-time.Hour).Add(time.Duration(i)*time.Second), agent, "priority", "high")
		}
		inc, err := s.Sync(context.Background(), full.Cursor)
		if err != nil {
			b.Fatal(err)
		}
		n := len(inc.Cases)
		if most := (n+fake.PageSize-1)/fake.PageSize + n; fake.Requests("") > most {
			b.Errorf("incremental sync of %d tickets: %d requests, want at most %d", n, fake.Requests(""), most)
		}
		b.ReportMetric(float64(fullRequests), "full-requests")
		b.ReportMetric(float64(n), "incremental-cases")
		b.ReportMetric(float64(fake.Requests("")), "incremental-requests")
	}
}
