// Package rest is the polite REST client every ticket-system source uses:
// it authenticates, keeps to a request budget, honours 429 with
// Retry-After and the vendors' rate-limit headers, retries server errors
// and transport failures with capped exponential backoff and jitter, bounds
// every request with a timeout, and counts requests by status code.
//
// Requests go through resty; the pacing (waits and retries) is done here,
// on a clock that tests replace, so that a wait is checked without
// sleeping.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, whichever comes first.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Auth sets a request's credentials.
type Auth interface{ apply(*resty.Client) }

// Basic is HTTP basic authentication (Jira Cloud's e-mail and API token,
// Zendesk's "email/token", Freshdesk's API key with any password).
type Basic struct{ User, Password string }

func (a Basic) apply(c *resty.Client) { c.SetBasicAuth(a.User, a.Password) }

// Bearer is an OAuth or personal access token.
type Bearer struct{ Token string }

func (a Bearer) apply(c *resty.Client) { c.SetAuthToken(a.Token) }

// Header is a token in a header of the vendor's own (X-Redmine-API-Key,
// or RT's "Authorization: token …").
type Header struct{ Name, Value string }

func (a Header) apply(c *resty.Client) { c.SetHeader(a.Name, a.Value) }

// Options configure a client.
type Options struct {
	BaseURL string
	Auth    Auth // nil: none
	// Timeout bounds each request; default 30 s.
	Timeout time.Duration
	// MaxRetries is how many times a request is tried again after a 429, a
	// 5xx or a transport failure; default 4, negative for none.
	MaxRetries int
	// Backoff is the first retry's wait; each retry doubles it, up to
	// MaxBackoff, with full jitter. Defaults 1 s and 1 min.
	Backoff, MaxBackoff time.Duration
	// RequestsPerMinute is the client-side budget; 0 is none.
	RequestsPerMinute int
	// Requests counts requests by "code" (support_sla_source_requests_total
	// with the source label set); may be nil.
	Requests *prometheus.CounterVec
	Clock    Clock // the real clock when nil
	Logger   *slog.Logger
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// Headers are sent with every request, after the defaults (Accept:
	// application/json), which they may replace: GitHub's media type and
	// API version.
	Headers map[string]string
}

// Client is a REST client for one source. It is safe for concurrent use.
type Client struct {
	o Options
	r *resty.Client

	mu        sync.Mutex
	notBefore time.Time   // no request before: a 429 or an exhausted rate limit
	sent      []time.Time // the last minute's requests, for the budget
}

// New makes a client.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := resty.New().SetBaseURL(o.BaseURL).SetTimeout(o.Timeout).SetLogger(restyLogger{o.Logger}).
		SetHeader("Accept", "application/json").SetHeader("User-Agent", "support_sla_exporter")
	if o.Transport != nil {
		r.SetTransport(o.Transport)
	}
	r.SetHeaders(o.Headers)
	if o.Auth != nil {
		o.Auth.apply(r)
		if strings.HasPrefix(o.BaseURL, "http://") {
			// Once here, rather than resty's warning on every request.
			o.Logger.Warn("The source sends its credentials over plain HTTP: use https outside a trusted network", "url", o.BaseURL)
		}
	}
	r.SetDisableWarn(true)
	return &Client{o: o, r: r}
}

// restyLogger sends resty's own messages to the source's structured log
// rather than to stderr.
type restyLogger struct{ l *slog.Logger }

func (r restyLogger) Errorf(format string, v ...any) {
	r.l.Error("HTTP client: " + fmt.Sprintf(format, v...))
}
func (r restyLogger) Warnf(format string, v ...any) {
	r.l.Warn("HTTP client: " + fmt.Sprintf(format, v...))
}
func (r restyLogger) Debugf(format string, v ...any) {
	r.l.Debug("HTTP client: " + fmt.Sprintf(format, v...))
}

// StatusError is an answer that is neither a success nor worth retrying
// (or still failing after every retry).
type StatusError struct {
	Method, Path string
	Code         int
	// Body is the start of the vendor's error body: it says why.
	Body string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Code)
	switch e.Code {
	case http.StatusUnauthorized:
		msg += " (the credentials were refused)"
	case http.StatusForbidden:
		msg += " (the API user lacks a permission)"
	}
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Auth reports whether the error is an authentication or permission
// failure: retrying will not help.
func (e *StatusError) Auth() bool {
	return e.Code == http.StatusUnauthorized || e.Code == http.StatusForbidden
}

// Request is one call.
type Request struct {
	Method string // GET by default
	Path   string // relative to the base URL, or absolute (a next-page link)
	Query  url.Values
	Body   any // JSON-encoded when not nil
	// Once marks a write that adds something (a note): a server error or
	// a lost answer may come after the server acted, so only rate-limit
	// answers, given before it acts, are retried.
	Once bool
}

// Do sends a request, paced and retried, and decodes a JSON answer into out
// (when not nil). It returns the final response's headers for paging.
func (c *Client) Do(ctx context.Context, req Request, out any) (http.Header, error) {
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	for attempt := 0; ; attempt++ {
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
		r := c.r.R().SetContext(ctx).SetQueryParamsFromValues(req.Query)
		if req.Body != nil {
			r.SetHeader("Content-Type", "application/json").SetBody(req.Body)
		}
		resp, err := r.Execute(req.Method, req.Path)
		retry, wait := false, time.Duration(0)
		switch {
		case err != nil:
			c.count("error")
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			err = fmt.Errorf("%s %s: %w", req.Method, pathOf(req.Path), redact(err))
			retry = true
		case resp.StatusCode() == http.StatusTooManyRequests || limited403(resp):
			c.count(strconv.Itoa(resp.StatusCode()))
			wait = c.retryAfter(resp.Header())
			c.hold(wait)
			err = c.statusError(req, resp)
			retry = true
		case resp.StatusCode() >= 500:
			c.count(strconv.Itoa(resp.StatusCode()))
			err = c.statusError(req, resp)
			retry = true
		case resp.StatusCode() >= 300:
			c.count(strconv.Itoa(resp.StatusCode()))
			return resp.Header(), c.statusError(req, resp)
		default:
			c.count(strconv.Itoa(resp.StatusCode()))
			c.observeLimits(resp.Header())
			if out != nil {
				if err := json.Unmarshal(resp.Body(), out); err != nil {
					return resp.Header(), fmt.Errorf("%s %s: malformed JSON answer: %w", req.Method, pathOf(req.Path), err)
				}
			}
			return resp.Header(), nil
		}
		rateLimited := resp != nil && (resp.StatusCode() == http.StatusTooManyRequests || limited403(resp))
		if !retry || attempt >= c.o.MaxRetries || req.Once && !rateLimited {
			return nil, err
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		c.o.Logger.Debug("Retrying", "path", pathOf(req.Path), "attempt", attempt+1, "wait", wait, "err", err)
		if err := c.o.Clock.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// wait blocks until a request may go: after any hold, and within the
// budget of requests per minute. It then books the request.
func (c *Client) wait(ctx context.Context) error {
	for {
		c.mu.Lock()
		now := c.o.Clock.Now()
		d := c.notBefore.Sub(now)
		if c.o.RequestsPerMinute > 0 {
			cut := 0
			for cut < len(c.sent) && !c.sent[cut].After(now.Add(-time.Minute)) {
				cut++
			}
			c.sent = c.sent[cut:]
			if len(c.sent) >= c.o.RequestsPerMinute {
				d = max(d, c.sent[0].Add(time.Minute).Sub(now))
			}
		}
		if d <= 0 {
			if c.o.RequestsPerMinute > 0 {
				c.sent = append(c.sent, now)
			}
			c.mu.Unlock()
			return nil
		}
		c.mu.Unlock()
		if err := c.o.Clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// hold delays every request of the client by d from now.
func (c *Client) hold(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.o.Clock.Now().Add(d); t.After(c.notBefore) {
		c.notBefore = t
	}
}

// retryAfter is how long a 429 asks to wait: Retry-After (seconds or an
// HTTP date), else the vendor's reset header, else one backoff step.
func (c *Client) retryAfter(h http.Header) time.Duration {
	now := c.o.Clock.Now()
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	if d, ok := resetIn(h, now); ok {
		return d
	}
	return c.o.Backoff
}

// limited403 reports a 403 that is a rate limit rather than a refusal:
// GitHub answers an exhausted primary limit with 403 and
// X-RateLimit-Remaining 0, and a secondary limit with 403 and Retry-After.
// It is waited out like a 429.
func limited403(resp *resty.Response) bool {
	if resp.StatusCode() != http.StatusForbidden {
		return false
	}
	h := resp.Header()
	if h.Get("Retry-After") != "" {
		return true
	}
	for _, name := range remainingHeaders {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			n, err := strconv.Atoi(v)
			return err == nil && n <= 0
		}
	}
	return false
}

// remainingHeaders name the requests left in the vendors' rate limits.
var remainingHeaders = []string{"X-RateLimit-Remaining", "X-Rate-Limit-Remaining", "RateLimit-Remaining"}

// observeLimits holds the client until the reset when a success says the
// rate limit is used up, rather than run into a 429.
func (c *Client) observeLimits(h http.Header) {
	for _, name := range remainingHeaders {
		if v := h.Get(name); v != "" {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n <= 0 {
				if d, ok := resetIn(h, c.o.Clock.Now()); ok {
					c.hold(d)
				}
			}
			return
		}
	}
}

// resetIn reads a rate-limit reset header: an epoch (GitHub's
// X-RateLimit-Reset) or a number of seconds (RateLimit-Reset,
// Zendesk's ratelimit-reset).
func resetIn(h http.Header, now time.Time) (time.Duration, bool) {
	for _, name := range []string{"X-RateLimit-Reset", "X-Rate-Limit-Reset", "RateLimit-Reset"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			continue
		}
		if n > 1_000_000_000 { // an epoch
			return max(time.Unix(n, 0).Sub(now), 0), true
		}
		return time.Duration(n) * time.Second, true
	}
	return 0, false
}

// backoff is the wait before retry attempt+1: full jitter over a doubling
// window, capped.
func (c *Client) backoff(attempt int) time.Duration {
	window := c.o.Backoff << min(attempt, 30)
	if window <= 0 || window > c.o.MaxBackoff {
		window = c.o.MaxBackoff
	}
	return window/2 + time.Duration(rand.Int64N(int64(window/2)+1))
}

func (c *Client) count(code string) {
	if c.o.Requests != nil {
		c.o.Requests.WithLabelValues(code).Inc()
	}
}

func (c *Client) statusError(req Request, resp *resty.Response) error {
	body := strings.Join(strings.Fields(string(resp.Body())), " ")
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return &StatusError{Method: req.Method, Path: pathOf(req.Path), Code: resp.StatusCode(), Body: body}
}

// pathOf is a request's path without its query, which may hold a token.
func pathOf(p string) string {
	if u, err := url.Parse(p); err == nil {
		u.RawQuery, u.User = "", nil
		return u.String()
	}
	return p
}

// redact drops the URL, and so any query or credentials in it, from a
// transport error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s", ue.Err)
	}
	return err
}
