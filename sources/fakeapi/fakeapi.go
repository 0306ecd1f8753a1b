// Package fakeapi is what the in-repo fakes of the ticket systems' APIs
// share: faults a test injects (429 with Retry-After, 5xx, malformed JSON)
// and a count of the requests by path, which tests hold a source's cost
// to. Each fake answers a fault with its own vendor's bodies.
package fakeapi

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Fault is an answer injected instead of the real one.
type Fault struct {
	// Path is the request path it applies to ("" any).
	Path string
	// Code is the HTTP status; with Malformed, 200 and a truncated body.
	Code       int
	RetryAfter int // seconds, for a 429; 0 none
	Malformed  bool
	// Times is how many requests it answers; 0 is one.
	Times int
}

// Recorder counts requests and hands out injected faults. A fake embeds
// it: its methods are the fake's Inject, Requests and ResetCounts. Safe
// for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	faults []Fault
	counts map[string]int
}

// Inject queues faults; each answers the next matching requests.
func (r *Recorder) Inject(f ...Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, f...)
}

// Count counts a request to path.
func (r *Recorder) Count(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[string]int{}
	}
	r.counts[path]++
}

// Take returns the fault to answer a request to path with, if one is
// queued for it.
func (r *Recorder) Take(path string) (Fault, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, f := range r.faults {
		if f.Path != "" && f.Path != path {
			continue
		}
		if f.Times <= 1 {
			r.faults = slices.Delete(r.faults, i, i+1)
		} else {
			r.faults[i].Times--
		}
		return f, true
	}
	return Fault{}, false
}

// Requests is the number of requests to a path so far ("" all).
func (r *Recorder) Requests(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if path != "" {
		return r.counts[path]
	}
	n := 0
	for _, c := range r.counts {
		n += c
	}
	return n
}

// ResetCounts sets every request count back to zero.
func (r *Recorder) ResetCounts() {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.counts)
}

// Clock is a client clock for tests: a sleep advances it at once and is
// recorded, so a wait is checked without waiting.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// NewClock is a clock stopped at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep records d and moves the clock on by it.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

// Sleeps are the sleeps so far.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}
