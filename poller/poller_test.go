package poller

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata" // the month tests name zones

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
)

// testAt is a Tuesday in March 2026: the month started on Sunday 1st, UTC.
var testAt = time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)

// evaluator has the one tier the test cases get by default.
var evaluator = &sla.Evaluator{Policy: &sla.Policy{
	Name: "p", DefaultTier: "basic", DefaultSeverity: 3,
	Tiers: map[string]*sla.Tier{"basic": {Name: "basic"}},
}}

// step is what one Sync of a scripted source does.
type step struct {
	batch sources.Batch
	err   error
	panic any
}

// scripted is a source that plays its steps in order, one per Sync, and
// records the cursor of each call. Past its steps, it reports no change.
type scripted struct {
	mu      sync.Mutex
	steps   []step
	cursors []string
}

func (s *scripted) Sync(_ context.Context, cursor string) (sources.Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursors = append(s.cursors, cursor)
	if len(s.steps) == 0 {
		return sources.Batch{Cursor: cursor}, nil
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	if st.panic != nil {
		panic(st.panic)
	}
	return st.batch, st.err
}

func (s *scripted) Window(context.Context, time.Time, time.Time) ([]sla.Case, error) {
	return nil, errors.New("not used")
}

func (s *scripted) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cursors)
}

// open is an open case of a severity.
func open(id string, sev int) sla.Case {
	return sla.Case{ID: id, Severity: sev, Status: sla.StatusOpen, Created: testAt.Add(-time.Hour)}
}

// resolved is a case resolved at an RFC 3339 instant.
func resolved(t *testing.T, id, at string) sla.Case {
	t.Helper()
	r, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	return sla.Case{ID: id, Severity: 2, Status: sla.StatusResolved, Created: r.Add(-time.Hour), Resolved: r}
}

// ids writes cases as "id/severity", the shape the merge tests compare.
func ids(cases []sla.Case) []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = fmt.Sprintf("%s/%d", c.ID, c.Severity)
	}
	return out
}

func paris(t *testing.T) *time.Location   { return zone(t, "Europe/Paris") }
func newYork(t *testing.T) *time.Location { return zone(t, "America/New_York") }

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// stepping is a clock that moves one second at each reading.
func stepping(from time.Time) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return from.Add(time.Duration(n.Add(1)-1) * time.Second) }
}

func newPoller(t *testing.T, src sources.Source, now func() time.Time, prev *Poller) *Poller {
	t.Helper()
	return New(Config{Name: "test", Interval: time.Hour, Source: src, Evaluator: evaluator, Now: now}, prev)
}

func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		now   time.Time  // testAt when zero
		first []sla.Case // a Full batch polled first, if any
		batch sources.Batch
		want  []string
	}{
		{
			name:  "a full batch replaces everything, in its order",
			first: []sla.Case{open("A", 1), open("B", 1), open("C", 1)},
			batch: sources.Batch{Full: true, Cases: []sla.Case{open("D", 4), open("B", 2)}},
			want:  []string{"D/4", "B/2"},
		},
		{
			name:  "an empty full batch empties the cache",
			first: []sla.Case{open("A", 1)},
			batch: sources.Batch{Full: true},
			want:  []string{},
		},
		{
			name:  "an incremental batch upserts in place, appends new cases in its order and removes the deleted",
			first: []sla.Case{open("A", 1), open("B", 1), open("C", 1), open("D", 1)},
			batch: sources.Batch{Cases: []sla.Case{open("F", 3), open("B", 2), open("E", 4)}, Deleted: []string{"C"}},
			want:  []string{"A/1", "B/2", "D/1", "F/3", "E/4"},
		},
		{
			name:  "an empty incremental batch (nothing changed) keeps the cache",
			first: []sla.Case{open("A", 1), open("B", 2)},
			batch: sources.Batch{Cursor: "same"},
			want:  []string{"A/1", "B/2"},
		},
		{
			name:  "deleting an unknown id changes nothing",
			first: []sla.Case{open("A", 1)},
			batch: sources.Batch{Deleted: []string{"Z"}},
			want:  []string{"A/1"},
		},
		{
			name:  "a case changed twice in one batch is kept once, the last version",
			first: []sla.Case{open("A", 1)},
			batch: sources.Batch{Cases: []sla.Case{open("A", 2), open("A", 3)}},
			want:  []string{"A/3"},
		},
		{
			// A paginated API can return a case twice when it changes
			// between two pages: the cache must still hold it once.
			name:  "a case new in the batch twice is added once, the last version",
			first: []sla.Case{open("A", 1)},
			batch: sources.Batch{Cases: []sla.Case{open("N", 2), open("N", 3)}},
			want:  []string{"A/1", "N/3"},
		},
		{
			name:  "a case twice in a full batch is kept once, the last version",
			first: []sla.Case{open("A", 1)},
			batch: sources.Batch{Full: true, Cases: []sla.Case{open("B", 1), open("C", 1), open("B", 2)}},
			want:  []string{"B/2", "C/1"},
		},
		{
			name: "a full batch drops cases resolved before the month (UTC), keeps those resolved in it",
			batch: sources.Batch{Full: true, Cases: []sla.Case{
				resolved(t, "feb-last-second", "2026-02-28T23:59:59Z"),
				resolved(t, "mar-first-second", "2026-03-01T00:00:00Z"),
				resolved(t, "feb-in-utc", "2026-03-01T00:30:00+01:00"),
				resolved(t, "mar-in-utc", "2026-02-28T23:30:00-01:00"),
				open("open", 1),
			}},
			want: []string{"mar-first-second/2", "mar-in-utc/2", "open/1"},
		},
		{
			name: "an incremental batch drops what it resolves before the month and never adds such cases",
			first: []sla.Case{
				open("A", 1),
				resolved(t, "R", "2026-03-02T10:00:00Z"),
				open("B", 1),
			},
			batch: sources.Batch{Cases: []sla.Case{
				resolved(t, "A", "2026-02-27T10:00:00Z"), // back-dated by the source
				resolved(t, "old", "2026-01-15T10:00:00Z"),
				resolved(t, "new", "2026-03-03T10:00:00Z"),
			}},
			want: []string{"R/2", "B/1", "new/2"},
		},
		{
			// 01:30 on April 1st in Paris is still March in UTC.
			name: "the month is UTC's, whatever the clock's zone: still March",
			now:  time.Date(2026, 4, 1, 1, 30, 0, 0, paris(t)),
			batch: sources.Batch{Full: true, Cases: []sla.Case{
				resolved(t, "mar-15", "2026-03-15T10:00:00Z"),
				resolved(t, "feb-28", "2026-02-28T10:00:00Z"),
			}},
			want: []string{"mar-15/2"},
		},
		{
			// 20:30 on March 31st in New York is April in UTC.
			name: "the month is UTC's, whatever the clock's zone: already April",
			now:  time.Date(2026, 3, 31, 20, 30, 0, 0, newYork(t)),
			batch: sources.Batch{Full: true, Cases: []sla.Case{
				resolved(t, "mar-31", "2026-03-31T23:59:59Z"),
				resolved(t, "apr-1", "2026-04-01T00:10:00Z"),
			}},
			want: []string{"apr-1/2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := sources.Batch{Full: true, Cases: tc.first, Cursor: "1"}
			src := &scripted{steps: []step{{batch: first}, {batch: tc.batch}}}
			now := tc.now
			if now.IsZero() {
				now = testAt
			}
			p := newPoller(t, src, fixed(now), nil)
			for i := range 2 {
				if err := p.Poll(context.Background()); err != nil {
					t.Fatalf("poll %d: %v", i+1, err)
				}
			}
			got := ids(p.Snapshot().Cases)
			if !slices.Equal(got, tc.want) {
				t.Errorf("cached cases %v, want %v", got, tc.want)
			}
		})
	}
}

// A batch's cursor goes to the next Sync; a failed poll leaves it as it was.
func TestCursor(t *testing.T) {
	src := &scripted{steps: []step{
		{batch: sources.Batch{Full: true, Cursor: "c1"}},
		{batch: sources.Batch{Cursor: "c2"}},
		{err: errors.New("down")},
		{panic: "boom"},
		{batch: sources.Batch{Cursor: "c3"}},
	}}
	p := newPoller(t, src, fixed(testAt), nil)
	for range 6 {
		_ = p.Poll(context.Background())
	}
	want := []string{"", "c1", "c2", "c2", "c2", "c3"}
	if got := src.seen(); !slices.Equal(got, want) {
		t.Errorf("cursors given to Sync: %v, want %v", got, want)
	}
}

// A failing or panicking source keeps serving its last good cases, is down
// with the reason, and the poller keeps working.
func TestFailureKeepsLastGoodCases(t *testing.T) {
	errDown := errors.New("ticket system down")
	for _, tc := range []struct {
		name    string
		fail    step
		wantErr string
	}{
		{"error", step{err: fmt.Errorf("fetching page 2: %w", errDown)}, "fetching page 2: ticket system down"},
		{"panic", step{panic: "index out of range"}, "source panicked: index out of range"},
		{"panic with an error", step{panic: errDown}, "source panicked: ticket system down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &scripted{steps: []step{
				{batch: sources.Batch{Full: true, Cases: []sla.Case{open("A", 1), open("B", 2)}, Cursor: "c1"}},
				tc.fail,
				{batch: sources.Batch{Cases: []sla.Case{open("C", 3)}, Cursor: "c2"}},
			}}
			p := newPoller(t, src, stepping(testAt), nil)
			if s := p.Snapshot(); s.Polled || s.Up || len(s.Cases) != 0 {
				t.Fatalf("before any poll: %+v, want an empty snapshot, not polled, not up", s)
			}
			if err := p.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			good := p.Snapshot()
			if !good.Up || !good.Polled || good.LastError != nil || good.LastSuccess.IsZero() {
				t.Fatalf("after a good poll: %+v", good)
			}

			err := p.Poll(context.Background())
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("Poll() = %v, want %q", err, tc.wantErr)
			}
			s := p.Snapshot()
			if s.Up || !s.Polled {
				t.Errorf("after a failed poll: Up %v, Polled %v; want down and polled", s.Up, s.Polled)
			}
			if s.LastError == nil || s.LastError.Error() != tc.wantErr {
				t.Errorf("LastError = %v, want %q", s.LastError, tc.wantErr)
			}
			if tc.fail.err != nil && !errors.Is(s.LastError, errDown) {
				t.Errorf("LastError %v does not wrap the source's error", s.LastError)
			}
			if !s.LastSuccess.Equal(good.LastSuccess) {
				t.Errorf("LastSuccess moved from %v to %v on a failed poll", good.LastSuccess, s.LastSuccess)
			}
			if got := ids(s.Cases); !slices.Equal(got, []string{"A/1", "B/2"}) {
				t.Errorf("cases after a failed poll: %v, want the last good ones", got)
			}

			// The next poll works as if nothing happened.
			if err := p.Poll(context.Background()); err != nil {
				t.Fatalf("poll after the failure: %v", err)
			}
			s = p.Snapshot()
			if !s.Up || s.LastError != nil || !s.LastSuccess.After(good.LastSuccess) {
				t.Errorf("after recovering: Up %v, LastError %v, LastSuccess %v", s.Up, s.LastError, s.LastSuccess)
			}
			if got := ids(s.Cases); !slices.Equal(got, []string{"A/1", "B/2", "C/3"}) {
				t.Errorf("cases after recovering: %v", got)
			}
		})
	}
}

// A poller of the same name under a new configuration starts from the
// previous one's cases, but its first poll reads everything again.
func TestNewStartsFromPrevious(t *testing.T) {
	old := &scripted{steps: []step{{batch: sources.Batch{Full: true, Cases: []sla.Case{open("A", 1), open("B", 2)}, Cursor: "old"}}}}
	prev := newPoller(t, old, fixed(testAt), nil)
	if err := prev.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}

	src := &scripted{steps: []step{{err: errors.New("down")}}}
	p := newPoller(t, src, fixed(testAt.Add(time.Minute)), prev)
	s := p.Snapshot()
	if got := ids(s.Cases); !slices.Equal(got, []string{"A/1", "B/2"}) {
		t.Errorf("new poller starts with %v, want the previous poller's cases", got)
	}
	if s.Polled {
		t.Error("the new poller says it has polled before its first poll")
	}
	if !s.Up || !s.LastSuccess.Equal(testAt) {
		t.Errorf("new poller: Up %v, LastSuccess %v; want the previous poller's", s.Up, s.LastSuccess)
	}

	// Its first poll fails: the inherited cases stay.
	if err := p.Poll(context.Background()); err == nil {
		t.Fatal("Poll() = nil, want the source's error")
	}
	if got := ids(p.Snapshot().Cases); !slices.Equal(got, []string{"A/1", "B/2"}) {
		t.Errorf("after a failed first poll: %v, want the inherited cases", got)
	}
	if got := src.seen(); !slices.Equal(got, []string{""}) {
		t.Errorf("first cursor of the new poller: %q, want empty (a full read)", got)
	}

	// The previous poller is not changed by the new one.
	if got := ids(prev.Snapshot().Cases); !slices.Equal(got, []string{"A/1", "B/2"}) {
		t.Errorf("previous poller now holds %v", got)
	}
}

// observer records observations.
type observer struct {
	mu sync.Mutex
	v  []float64
}

func (o *observer) Observe(v float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.v = append(o.v, v)
}

func (o *observer) values() []float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.v)
}

// Every poll, good, failed or panicking, is observed once, in seconds.
func TestDurations(t *testing.T) {
	src := &scripted{steps: []step{
		{batch: sources.Batch{Full: true}},
		{err: errors.New("down")},
		{panic: "boom"},
		{batch: sources.Batch{}},
	}}
	obs := &observer{}
	// The clock moves a second at each reading: a poll reads it twice.
	p := New(Config{Name: "test", Interval: time.Hour, Source: src, Evaluator: evaluator, Now: stepping(testAt), Durations: obs}, nil)
	for range 4 {
		_ = p.Poll(context.Background())
	}
	if got, want := obs.values(), []float64{1, 1, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("observations %v, want %v", got, want)
	}
}

// counting is a source that counts its Syncs and can block in them until
// their context ends.
type counting struct {
	calls   atomic.Int64
	block   bool
	entered chan struct{} // receives at each Sync when block is set
}

func (s *counting) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	s.calls.Add(1)
	if s.block {
		s.entered <- struct{}{}
		<-ctx.Done()
		return sources.Batch{}, ctx.Err()
	}
	return sources.Batch{Full: true, Cursor: "c"}, nil
}

func (s *counting) Window(context.Context, time.Time, time.Time) ([]sla.Case, error) {
	return nil, errors.New("not used")
}

// waitFor waits, a bounded time, until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitDone waits, a bounded time, until done is closed.
func waitDone(t *testing.T, what string, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// Run polls at once and returns when its context ends, whether it is
// waiting for the next poll or in the middle of one.
func TestRunStopsWithContext(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block bool
	}{
		{"while waiting for the next poll", false},
		{"during a poll", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &counting{block: tc.block, entered: make(chan struct{}, 1)}
			p := newPoller(t, src, nil, nil) // an hour's interval: one poll, then a wait
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			go func() {
				defer close(done)
				p.Run(ctx)
			}()
			if tc.block {
				waitDone(t, "the first Sync", src.entered)
			} else {
				waitFor(t, "the first poll to end", func() bool { return p.Snapshot().Polled })
			}
			cancel()
			waitDone(t, "Run to return", done)
			if n := src.calls.Load(); n != 1 {
				t.Errorf("%d Syncs, want 1", n)
			}
			if tc.block && p.Snapshot().Up {
				t.Error("a poll cut short by the context is up")
			}
		})
	}
}

// overlapping is a source that records how many of its Syncs run at once.
type overlapping struct {
	inflight, max, calls atomic.Int64
}

func (s *overlapping) Sync(context.Context, string) (sources.Batch, error) {
	n := s.inflight.Add(1)
	for {
		m := s.max.Load()
		if n <= m || s.max.CompareAndSwap(m, n) {
			break
		}
	}
	// Stay a while, giving any other Sync the chance to start.
	for range 20 {
		runtime.Gosched()
	}
	s.inflight.Add(-1)
	s.calls.Add(1)
	return sources.Batch{Full: true, Cursor: "c"}, nil
}

func (s *overlapping) Window(context.Context, time.Time, time.Time) ([]sla.Case, error) {
	return nil, errors.New("not used")
}

// One source is never synced twice at once: not by Run polling on a short
// interval, nor by Polls called while it runs.
func TestNoOverlappingSyncs(t *testing.T) {
	src := &overlapping{}
	p := New(Config{Name: "test", Interval: time.Millisecond, Source: src, Evaluator: evaluator}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if err := p.Poll(ctx); err != nil {
					t.Errorf("Poll: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	before := src.calls.Load()
	waitFor(t, "Run to poll again", func() bool { return src.calls.Load() > before })
	cancel()
	waitDone(t, "Run to return", done)
	if m := src.max.Load(); m != 1 {
		t.Errorf("up to %d Syncs ran at once, want 1", m)
	}
	if n := src.calls.Load(); n < 201 {
		t.Errorf("%d Syncs, want at least 201", n)
	}
}

// The poller names its source in what it returns, and Interval and
// Evaluator are the configured ones.
func TestAccessors(t *testing.T) {
	p := New(Config{Name: "helpdesk", Interval: 90 * time.Second, Source: &scripted{}, Evaluator: evaluator}, nil)
	if p.Name() != "helpdesk" || p.Interval() != 90*time.Second || p.Evaluator() != evaluator {
		t.Errorf("Name %q, Interval %v, Evaluator %p", p.Name(), p.Interval(), p.Evaluator())
	}
	// No clock and no logger: the defaults work.
	before := time.Now()
	if err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := p.Snapshot(); s.LastSuccess.Before(before) {
		t.Errorf("LastSuccess %v, want the time of the poll (after %v)", s.LastSuccess, before)
	}
}

// A poller that takes over a polled cache is ready before its own first
// poll, so that a reload does not make the exporter unready; one that
// takes over an unpolled cache is not.
func TestReadyAcrossReload(t *testing.T) {
	src := &scripted{steps: []step{{batch: sources.Batch{Full: true, Cases: []sla.Case{open("A", 1)}}}}}
	fresh := newPoller(t, src, fixed(testAt), nil)
	if fresh.Ready() {
		t.Fatal("a new poller is ready before any poll")
	}
	if next := newPoller(t, src, fixed(testAt), fresh); next.Ready() {
		t.Error("a poller taking over an unpolled cache is ready")
	}
	if err := fresh.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !fresh.Ready() {
		t.Fatal("not ready after a poll")
	}
	next := newPoller(t, src, fixed(testAt), fresh)
	if !next.Ready() || next.Snapshot().Polled {
		t.Errorf("taking over a polled cache: Ready %v, Polled %v; want ready, not polled itself", next.Ready(), next.Snapshot().Polled)
	}
}

func TestPollTimeout(t *testing.T) {
	for _, tt := range []struct {
		cursor   string
		interval time.Duration
		want     time.Duration
	}{
		{"", time.Minute, fullSyncTimeout}, // a first load may take hours
		{"c", 5 * time.Minute, 10 * time.Minute},
		{"c", 10 * time.Second, time.Minute},
	} {
		p := New(Config{Name: "s", Interval: tt.interval}, nil)
		p.cursor = tt.cursor
		if got := p.pollTimeout(); got != tt.want {
			t.Errorf("cursor %q, interval %v: timeout %v, want %v", tt.cursor, tt.interval, got, tt.want)
		}
	}
}

// TestOnPublish: the hook runs after each successful poll, with the new
// cases already published, and not after a failed one.
func TestOnPublish(t *testing.T) {
	src := &scripted{steps: []step{
		{batch: sources.Batch{Full: true, Cases: []sla.Case{open("A", 1)}, Cursor: "c1"}},
		{err: errors.New("down")},
		{batch: sources.Batch{Cases: []sla.Case{open("B", 2)}, Cursor: "c2"}},
	}}
	var p *Poller
	var seen [][]string
	p = New(Config{Name: "test", Interval: time.Hour, Source: src, Evaluator: evaluator, Now: stepping(testAt),
		OnPublish: func() { seen = append(seen, ids(p.Snapshot().Cases)) }}, nil)
	for range 3 {
		_ = p.Poll(context.Background())
	}
	want := [][]string{{"A/1"}, {"A/1", "B/2"}}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("OnPublish saw %v, want %v", seen, want)
	}
}
