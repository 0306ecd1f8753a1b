package rest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeClock advances when slept on, and records the sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	return ctx.Err()
}

// script answers requests in turn with the given handlers; the last one
// answers every request after.
type script struct {
	mu    sync.Mutex
	steps []http.HandlerFunc
	calls []time.Time // clock time of each request
	clock *fakeClock
	n     atomic.Int32
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := min(int(s.n.Add(1))-1, len(s.steps)-1)
	s.calls = append(s.calls, s.clock.Now())
	s.mu.Unlock()
	s.steps[i](w, r)
}

func status(code int, headers map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

func ok(body string) http.HandlerFunc { return status(200, nil, body) }

func newTest(t *testing.T, o Options, steps ...http.HandlerFunc) (*Client, *script, *fakeClock, *prometheus.CounterVec) {
	t.Helper()
	clock := newFakeClock()
	s := &script{steps: steps, clock: clock}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "requests_total", Help: "x"}, []string{"code"})
	o.BaseURL, o.Clock, o.Requests = srv.URL, clock, reqs
	return New(o), s, clock, reqs
}

func TestRetryAfterDelaysTheNextRequest(t *testing.T) {
	for _, tt := range []struct {
		name    string
		headers map[string]string
		want    time.Duration
	}{
		{"Retry-After seconds", map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{"Retry-After date", map[string]string{"Retry-After": "Tue, 03 Mar 2026 14:00:07 GMT"}, 7 * time.Second},
		{"reset seconds (Zendesk)", map[string]string{"ratelimit-reset": "11"}, 11 * time.Second},
		{"reset epoch (GitHub)", map[string]string{"X-RateLimit-Reset": "1772546430"}, 30 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, s, _, reqs := newTest(t, Options{}, status(429, tt.headers, `{"error":"slow down"}`), ok(`{"a":1}`))
			var out struct{ A int }
			if _, err := c.Do(context.Background(), Request{Path: "/x"}, &out); err != nil || out.A != 1 {
				t.Fatalf("Do = %v, %+v", err, out)
			}
			if len(s.calls) != 2 {
				t.Fatalf("%d requests, want 2", len(s.calls))
			}
			if gap := s.calls[1].Sub(s.calls[0]); gap < tt.want {
				t.Errorf("the retry came %s after the 429, want at least %s", gap, tt.want)
			}
			if got := testutil.ToFloat64(reqs.WithLabelValues("429")); got != 1 {
				t.Errorf("requests_total{code=429} = %v", got)
			}
		})
	}
}

// A 429 holds every request of the client, not only the one retried.
func TestHoldAppliesToOtherRequests(t *testing.T) {
	c, s, _, _ := newTest(t, Options{MaxRetries: -1}, status(429, map[string]string{"Retry-After": "5"}, ""), ok(`{}`))
	_, err := c.Do(context.Background(), Request{Path: "/x"}, nil)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 429 {
		t.Fatalf("err = %v, want the 429 (no retries allowed)", err)
	}
	if _, err := c.Do(context.Background(), Request{Path: "/y"}, nil); err != nil {
		t.Fatal(err)
	}
	if gap := s.calls[1].Sub(s.calls[0]); gap < 5*time.Second {
		t.Errorf("the next request came %s after the 429, want at least 5s", gap)
	}
}

func TestServerErrorsAreRetriedWithBackoff(t *testing.T) {
	c, s, clock, reqs := newTest(t, Options{Backoff: time.Second, MaxBackoff: 4 * time.Second},
		status(503, nil, "busy"), status(502, nil, "bad gateway"), status(500, nil, "oops"), ok(`[]`))
	if _, err := c.Do(context.Background(), Request{Path: "/x"}, &[]int{}); err != nil {
		t.Fatal(err)
	}
	if len(s.calls) != 4 {
		t.Fatalf("%d requests, want 4", len(s.calls))
	}
	// Full jitter over 1s, 2s, 4s windows: each wait in [window/2, window].
	for i, window := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if d := clock.sleeps[i]; d < window/2 || d > window {
			t.Errorf("wait %d = %s, want within [%s, %s]", i, d, window/2, window)
		}
	}
	for code, want := range map[string]float64{"503": 1, "502": 1, "500": 1, "200": 1} {
		if got := testutil.ToFloat64(reqs.WithLabelValues(code)); got != want {
			t.Errorf("requests_total{code=%s} = %v, want %v", code, got, want)
		}
	}
}

func TestRetriesAreBounded(t *testing.T) {
	c, s, _, _ := newTest(t, Options{MaxRetries: 3}, status(500, nil, `{"error":"down"}`))
	_, err := c.Do(context.Background(), Request{Path: "/x"}, nil)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 500 || !strings.Contains(se.Error(), `{"error":"down"}`) {
		t.Fatalf("err = %v, want the last 500 with its body", err)
	}
	if n := len(s.calls); n != 4 {
		t.Errorf("%d requests, want 1 + 3 retries", n)
	}
}

// A refused credential is final: one request, no retry storm.
func TestUnauthorizedIsNotRetried(t *testing.T) {
	c, s, clock, _ := newTest(t, Options{Auth: Basic{"agent@example.com", "s3cret-token"}},
		status(401, map[string]string{"Content-Type": "application/json"}, `{"errorMessages":["Client must be authenticated to access this resource."]}`))
	_, err := c.Do(context.Background(), Request{Path: "/rest/api/3/search/jql?token=s3cret-token"}, nil)
	var se *StatusError
	if !errors.As(err, &se) || !se.Auth() || len(s.calls) != 1 || len(clock.sleeps) != 0 {
		t.Fatalf("err = %v after %d requests and %d waits; want one 401", err, len(s.calls), len(clock.sleeps))
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the secret: %v", err)
	}
	if !strings.Contains(err.Error(), "credentials were refused") || !strings.Contains(err.Error(), "Client must be authenticated") {
		t.Errorf("the error does not say why: %v", err)
	}
}

func TestAuthIsSent(t *testing.T) {
	for _, tt := range []struct {
		auth Auth
		want string
	}{
		{Basic{"u@example.com", "tok"}, "Basic dUBleGFtcGxlLmNvbTp0b2s="},
		{Bearer{"abc"}, "Bearer abc"},
		{Header{"Authorization", "token 1-14-x"}, "token 1-14-x"},
	} {
		var got string
		c, _, _, _ := newTest(t, Options{Auth: tt.auth}, func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Get("Authorization")
			_, _ = w.Write([]byte(`{}`))
		})
		if _, err := c.Do(context.Background(), Request{Path: "/"}, nil); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%T: Authorization %q, want %q", tt.auth, got, tt.want)
		}
	}
}

func TestMalformedJSONIsAnError(t *testing.T) {
	c, _, _, _ := newTest(t, Options{}, ok(`{"issues": [{"id": 1}`))
	var out map[string]any
	if _, err := c.Do(context.Background(), Request{Path: "/x"}, &out); err == nil || !strings.Contains(err.Error(), "malformed JSON") {
		t.Fatalf("err = %v, want a malformed JSON error", err)
	}
}

// The budget spreads requests: the fourth of a 3-per-minute budget waits
// for the first to leave the window.
func TestRequestBudget(t *testing.T) {
	c, s, _, _ := newTest(t, Options{RequestsPerMinute: 3}, ok(`{}`))
	for range 5 {
		if _, err := c.Do(context.Background(), Request{Path: "/x"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if gap := s.calls[3].Sub(s.calls[0]); gap < time.Minute {
		t.Errorf("the 4th request came %s after the 1st, want at least a minute", gap)
	}
	if gap := s.calls[2].Sub(s.calls[0]); gap != 0 {
		t.Errorf("the first three requests were delayed by %s", gap)
	}
}

// A success that says the rate limit is used up holds the client until the
// reset instead of running into a 429.
func TestExhaustedLimitHolds(t *testing.T) {
	c, s, _, _ := newTest(t, Options{}, status(200, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1772546460"}, `{}`), ok(`{}`))
	for range 2 {
		if _, err := c.Do(context.Background(), Request{Path: "/x"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if gap := s.calls[1].Sub(s.calls[0]); gap < time.Minute {
		t.Errorf("the next request came %s later, want at the reset a minute later", gap)
	}
}

func TestTransportErrorsAreCountedAndRetried(t *testing.T) {
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "r", Help: "x"}, []string{"code"})
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there any more
	clock := newFakeClock()
	c := New(Options{BaseURL: addr + "/?apikey=hidden", Clock: clock, Requests: reqs, MaxRetries: 2})
	_, err := c.Do(context.Background(), Request{Path: "/x"}, nil)
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	if got := testutil.ToFloat64(reqs.WithLabelValues("error")); got != 3 {
		t.Errorf("requests_total{code=error} = %v, want 3 (1 + 2 retries)", got)
	}
	if strings.Contains(err.Error(), "hidden") {
		t.Errorf("the error shows the URL's query: %v", err)
	}
}

// Every request is bounded by the timeout (here a hanging server).
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := New(Options{BaseURL: srv.URL, Timeout: 50 * time.Millisecond, MaxRetries: -1, Clock: newFakeClock()})
	if _, err := c.Do(context.Background(), Request{Path: "/slow"}, nil); err == nil {
		t.Fatal("a hanging server did not time out")
	}
}

// A cancelled context ends the waits at once.
func TestContextEndsWaits(t *testing.T) {
	c, s, _, _ := newTest(t, Options{}, status(429, map[string]string{"Retry-After": "3600"}, ""))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Do(ctx, Request{Path: "/x"}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(s.calls) > 1 {
		t.Errorf("%d requests after cancellation", len(s.calls))
	}
}

// GitHub answers an exhausted rate limit with 403 rather than 429: with
// X-RateLimit-Remaining 0 it is waited out until X-RateLimit-Reset, with
// Retry-After (a secondary limit) that long; any other 403 is a refusal.
func TestForbiddenRateLimitIsWaited(t *testing.T) {
	const body = `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`
	for _, tt := range []struct {
		name    string
		headers map[string]string
		wait    time.Duration // 0: not retried
	}{
		{"primary", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1772546700"}, 5 * time.Minute},
		{"secondary", map[string]string{"Retry-After": "60", "X-RateLimit-Remaining": "4000"}, time.Minute},
		{"refused", map[string]string{"X-RateLimit-Remaining": "4999"}, 0},
		{"refused without headers", nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, s, _, reqs := newTest(t, Options{}, status(403, tt.headers, body), ok(`{}`))
			_, err := c.Do(context.Background(), Request{Path: "/repos/o/r/issues"}, nil)
			if tt.wait == 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != 403 || len(s.calls) != 1 {
					t.Fatalf("err = %v after %d requests, want one 403", err, len(s.calls))
				}
				return
			}
			if err != nil || len(s.calls) != 2 {
				t.Fatalf("err = %v after %d requests, want a success on the retry", err, len(s.calls))
			}
			if gap := s.calls[1].Sub(s.calls[0]); gap != tt.wait {
				t.Errorf("the retry came %s after the 403, want %s", gap, tt.wait)
			}
			if got := testutil.ToFloat64(reqs.WithLabelValues("403")); got != 1 {
				t.Errorf("requests_total{code=403} = %v", got)
			}
		})
	}
}

// Options.Headers go with every request and replace the default Accept.
func TestHeadersAreSent(t *testing.T) {
	var got http.Header
	c, _, _, _ := newTest(t, Options{Headers: map[string]string{"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}},
		func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Clone()
			_, _ = w.Write([]byte(`{}`))
		})
	if _, err := c.Do(context.Background(), Request{Path: "/"}, nil); err != nil {
		t.Fatal(err)
	}
	if got.Get("Accept") != "application/vnd.github+json" || got.Get("X-GitHub-Api-Version") != "2022-11-28" || len(got.Values("Accept")) != 1 {
		t.Errorf("headers %v", got)
	}
}

func TestPlainHTTPCredentialsWarnedOnce(t *testing.T) {
	var log strings.Builder
	logger := slog.New(slog.NewTextHandler(&log, nil))
	c, _, _, _ := newTest(t, Options{Auth: Basic{User: "bot", Password: "s3cret-pw"}, Logger: logger},
		ok(`{}`), ok(`{}`), ok(`{}`))
	for range 3 {
		if _, err := c.Do(context.Background(), Request{Path: "/x"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	out := log.String()
	if n := strings.Count(out, "plain HTTP"); n != 1 {
		t.Errorf("%d warnings about plain HTTP, want 1:\n%s", n, out)
	}
	if strings.Contains(out, "Basic Auth in HTTP mode") || strings.Contains(out, "s3cret-pw") {
		t.Errorf("the log repeats resty's warning or shows the secret:\n%s", out)
	}
}

// A write marked Once is not sent again after a server error (the server
// may have acted), but is after a rate limit (it did not).
func TestOnceRetriesOnlyRateLimits(t *testing.T) {
	tests := []struct {
		name  string
		steps []http.HandlerFunc
		calls int
		fails bool
	}{
		{"server error", []http.HandlerFunc{status(502, nil, "bad gateway"), ok(`{}`)}, 1, true},
		{"rate limited", []http.HandlerFunc{status(429, map[string]string{"Retry-After": "2"}, ""), ok(`{}`)}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s, _, _ := newTest(t, Options{}, tt.steps...)
			_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/notes", Body: map[string]string{"body": "x"}, Once: true}, nil)
			if (err != nil) != tt.fails || len(s.calls) != tt.calls {
				t.Errorf("err %v, %d requests; want failure %v, %d requests", err, len(s.calls), tt.fails, tt.calls)
			}
		})
	}
}
