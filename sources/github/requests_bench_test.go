package github

import (
	"context"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/github/githubfake"
)

// BenchmarkRequests counts what polling a repository of 100,000 open
// issues costs: a full sync, then an incremental one after 1% of them
// changed (a customer's comment each: events and comments are read). Run
// with -benchtime=1x.
func BenchmarkRequests(b *testing.B) {
	const total, changed = 100_000, 1_000
	for b.Loop() {
		fake, s, _ := setup(b, "")
		fake.Limit = 1 << 30
		t0 := at("2026-02-08T00:00:00Z")
		for i := range total {
			fake.AddIssue(repo, githubfake.Issue{Number: 1 + i, User: customer, CreatedAt: t0.Add(time.Duration(i) * 20 * time.Second)})
		}
		full, err := s.Sync(context.Background(), "")
		if err != nil || len(full.Cases) != total {
			b.Fatalf("full sync: %d cases, %v", len(full.Cases), err)
		}
		fullRequests := fake.Requests("")
		fake.ResetCounts()
		for i := 1; i <= changed; i++ {
			fake.Comment(repo, i*total/changed, now.Add(-time.Hour).Add(time.Duration(i)*time.Second), customer, "NONE")
		}
		inc, err := s.Sync(context.Background(), full.Cursor)
		if err != nil {
			b.Fatal(err)
		}
		n := len(inc.Cases)
		if most := (n+s.perPage-1)/s.perPage + 2*n; fake.Requests("") > most {
			b.Errorf("incremental sync of %d issues: %d requests, want at most %d", n, fake.Requests(""), most)
		}
		b.ReportMetric(float64(fullRequests), "full-requests")
		b.ReportMetric(float64(n), "incremental-cases")
		b.ReportMetric(float64(fake.Requests("")), "incremental-requests")
	}
}
