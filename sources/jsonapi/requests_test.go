package jsonapi

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// requestCounts polls a fake of total tickets, size a page, in one style:
// a full sync, then an incremental one after changed tickets (spread
// through the list) were updated. It returns the requests of each and the
// cases the incremental sync returned.
func requestCounts(t testing.TB, style string, size, total, changed int) (full, incremental, cases int) {
	t.Helper()
	f, s, _ := setup(t, style)
	s.paging.size = size
	f.Max = size
	t0 := at("2026-02-08T00:00:00Z")
	for i := range total {
		tm := t0.Add(time.Duration(i) * 20 * time.Second)
		f.Put(fakeTicket{ID: "T-" + strconv.Itoa(100+i), Updated: tm, Body: map[string]any{"created_at": tm.Format(time.RFC3339), "state": "new"}})
	}
	ctx := context.Background()
	b, err := s.Sync(ctx, "")
	if err != nil || len(b.Cases) != total {
		t.Fatalf("full sync: %d cases, %v", len(b.Cases), err)
	}
	full = len(f.Queries())
	for i := range changed {
		f.Update("T-"+strconv.Itoa(100+i*total/changed), now.Add(-time.Hour).Add(time.Duration(i)*time.Second), func(b map[string]any) { b["state"] = "on_hold" })
	}
	b2, err := s.Sync(ctx, b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	return full, len(f.Queries()), len(b2.Cases)
}

// TestRequestCounts holds the cost to ceil(items / size) list requests,
// plus an empty page when the last one is full in the page and offset
// styles, and no request per case. 1,000 tickets updated 20 s apart, 10
// changed, 3 a page: the incremental sync returns the 10 and the 16
// tickets updated in the 5 minutes of overlap before the cursor, 26 in 9
// pages.
func TestRequestCounts(t *testing.T) {
	for _, tc := range []struct {
		style             string
		full, incremental int
	}{
		{"page", 334, 9},
		{"offset", 334, 9},
		{"cursor", 334, 9},
		{"link", 334, 9},
		{"none", 1, 1},
	} {
		t.Run(tc.style, func(t *testing.T) {
			full, inc, cases := requestCounts(t, tc.style, 3, 1000, 10)
			if full != tc.full || inc != tc.incremental || cases != 26 {
				t.Errorf("full sync %d requests, incremental %d requests for %d cases; want %d, %d for 26", full, inc, cases, tc.full, tc.incremental)
			}
		})
	}
}

// BenchmarkRequests counts what polling 100,000 tickets costs, 100 a page,
// with 1% changing. Run with -benchtime=1x.
func BenchmarkRequests(b *testing.B) {
	for b.Loop() {
		full, inc, cases := requestCounts(b, "page", 100, 100_000, 1_000)
		b.ReportMetric(float64(full), "full-requests")
		b.ReportMetric(float64(cases), "incremental-cases")
		b.ReportMetric(float64(inc), "incremental-requests")
	}
}
