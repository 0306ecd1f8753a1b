package jira

import (
	"context"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/jira/jirafake"
)

// BenchmarkRequests counts what polling a site of 100,000 issues costs: a
// full sync, then an incremental one after 1% of them changed. Run with
// -benchtime=1x; the figures are in BENCHMARKS.md.
func BenchmarkRequests(b *testing.B) {
	const total, changed = 100_000, 1_000
	for b.Loop() {
		f, srv := newFake(b, email, token)
		f.MaxResults = pageSize
		f.Now = func() time.Time { return now }
		t0 := at("2026-02-08T00:00:00Z")
		for i := 1; i <= total; i++ {
			f.Put(plainIssue(i, t0.Add(time.Duration(i)*20*time.Second)))
		}
		s, _, err := newSource(b, srv.URL, cloudCfg, map[string]string{"JIRA_TOKEN": token})
		if err != nil {
			b.Fatal(err)
		}
		full, err := s.Sync(context.Background(), "")
		if err != nil || len(full.Cases) != total {
			b.Fatalf("full sync: %d cases, %v", len(full.Cases), err)
		}
		fullRequests := f.Total()
		f.ResetCounts()
		for i := 1; i <= changed; i++ {
			f.Update("SUP-"+itoa(i*total/changed), func(is *jirafake.Issue) {
				is.Updated = now.Add(-time.Hour).Add(time.Duration(i) * time.Second)
				is.Priority = "High"
			})
		}
		inc, err := s.Sync(context.Background(), full.Cursor)
		if err != nil {
			b.Fatal(err)
		}
		n := len(inc.Cases) // the changed issues and those in the overlap
		if most := (n+pageSize-1)/pageSize + 2*n; f.Total() > most {
			b.Errorf("incremental sync of %d issues: %d requests, want at most %d", n, f.Total(), most)
		}
		b.ReportMetric(float64(fullRequests), "full-requests")
		b.ReportMetric(float64(n), "incremental-cases")
		b.ReportMetric(float64(f.Total()), "incremental-requests")
	}
}
