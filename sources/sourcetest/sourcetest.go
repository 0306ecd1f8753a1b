// Package sourcetest is the conformance suite every API source runs, against
// its fake or against the real server: full and incremental sync,
// deleted cases, the window, a wrong credential, 429 and 5xx answers, a
// malformed payload, and the last good cases kept through a failed poll.
//
// The suite puts a fault-injecting proxy (fakeapi.Proxy) in front of the
// backend, so the same faults reach a fake and a real Request Tracker
// alike, and counts the requests each sync makes.
package sourcetest

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/policy"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// Backend is a ticket system under test. Its cases are created at the
// real time: the source runs on the real clock (only its waits are
// faked).
type Backend interface {
	// URL is the server's address.
	URL() string
	// Config is the source's configuration mapping, `type:` included,
	// for a server at url (the suite's proxy), with the right credentials
	// or, when good is false, a wrong one. Secrets are ${VAR} references
	// to Env.
	Config(url string, good bool) string
	// Env holds the variables Config refers to.
	Env() map[string]string
	// Create makes a new open case and returns its id as the source
	// reports it (sla.Case.ID).
	Create(t testing.TB) string
	// Change updates a case so that an incremental sync sees it.
	Change(t testing.TB, id string)
	// Remove deletes or merges a case; false when the system cannot, and
	// the suite skips that part.
	Remove(t testing.TB, id string) bool
	// MaxRequests is the most requests an incremental sync that returns
	// `changed` cases may make: its pages plus the per-case history calls.
	MaxRequests(changed int) int
}

// Run runs the suite: factory is the source's constructor.
func Run(t *testing.T, factory sources.Factory, b Backend) {
	proxy, err := fakeapi.NewProxy(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	clock := fakeapi.NewClock(time.Now())
	pol, err := policy.Preset("veeam")
	if err != nil {
		t.Fatal(err)
	}
	secrets := b.Env()
	newSource := func(t *testing.T, good bool) sources.Source {
		t.Helper()
		s, err := Decode(t, factory, "name: conformance\n"+b.Config(srv.URL, good), secrets, sources.Env{
			Name: "conformance", Policy: pol, Now: time.Now, Clock: clock, Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatalf("the backend's configuration: %v", err)
		}
		return s
	}
	src := newSource(t, true)
	ctx := t.Context()

	ids := []string{b.Create(t), b.Create(t)}
	var cursor string
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) && cursor == "" {
			t.FailNow() // the later steps need the first sync's cursor
		}
	}

	step("full sync", func(t *testing.T) {
		batch, err := src.Sync(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if !batch.Full || batch.Cursor == "" {
			t.Errorf("a first sync must be full with a cursor: full %v, cursor %q", batch.Full, batch.Cursor)
		}
		checkCases(t, batch)
		mustHave(t, batch.Cases, ids...)
		cursor = batch.Cursor
	})

	step("incremental sync", func(t *testing.T) {
		b.Change(t, ids[0])
		added := b.Create(t)
		ids = append(ids, added)
		proxy.ResetCounts()
		batch, err := src.Sync(ctx, cursor)
		if err != nil {
			t.Fatal(err)
		}
		checkCases(t, batch)
		mustHave(t, batch.Cases, ids[0], added)
		if batch.Full {
			t.Errorf("a sync from a cursor read everything again")
		}
		if got, most := proxy.Requests(""), b.MaxRequests(len(batch.Cases)); got > most {
			t.Errorf("an incremental sync returning %d cases made %d requests, want at most %d", len(batch.Cases), got, most)
		}
		if batch.Cursor == "" {
			t.Fatal("no cursor")
		}
		cursor = batch.Cursor
	})

	step("deleted", func(t *testing.T) {
		gone := ids[1]
		if !b.Remove(t, gone) {
			t.Skip("the system cannot delete or merge a case through its API")
		}
		batch, err := src.Sync(ctx, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if has(batch.Cases, gone) {
			t.Errorf("case %s was removed but is still returned", gone)
		}
		if !batch.Full && !slices.Contains(batch.Deleted, gone) {
			t.Errorf("case %s was removed but is not in Deleted %v", gone, batch.Deleted)
		}
		cursor = batch.Cursor
		ids = slices.Delete(ids, 1, 2)
	})

	step("window", func(t *testing.T) {
		now := time.Now()
		cases, err := src.Window(ctx, now.Add(-24*time.Hour), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		mustHave(t, cases, ids...)
		old, err := src.Window(ctx, now.AddDate(-30, 0, 0), now.AddDate(-29, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(old) != 0 {
			t.Errorf("a window 30 years ago holds %d cases", len(old))
		}
	})

	step("wrong credential", func(t *testing.T) {
		bad := newSource(t, false)
		proxy.ResetCounts()
		_, err := bad.Sync(ctx, "")
		var se *rest.StatusError
		if !errors.As(err, &se) || (se.Code != 401 && se.Code != 403) {
			t.Fatalf("got %v, want a 401 or 403 status error", err)
		}
		if n := proxy.Requests(""); n > 2 {
			t.Errorf("a refused credential was tried %d times", n)
		}
		for k, v := range secrets {
			if len(v) >= 4 && strings.Contains(err.Error(), v) {
				t.Errorf("the error shows the secret %s: %v", k, err)
			}
		}
	})

	step("429 with Retry-After", func(t *testing.T) {
		before := len(clock.Sleeps())
		proxy.Inject(fakeapi.Fault{Code: 429, RetryAfter: 2})
		if _, err := src.Sync(ctx, cursor); err != nil {
			t.Fatal(err)
		}
		waited := time.Duration(0)
		for _, d := range clock.Sleeps()[before:] {
			waited = max(waited, d)
		}
		if waited < 2*time.Second {
			t.Errorf("after a 429 with Retry-After: 2 the longest wait was %v", waited)
		}
	})

	step("5xx retried", func(t *testing.T) {
		proxy.ResetCounts()
		proxy.Inject(fakeapi.Fault{Code: 503})
		batch, err := src.Sync(ctx, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if n := proxy.Requests(""); n < 2 {
			t.Errorf("%d requests: the 503 was not retried", n)
		}
		checkCases(t, batch)
	})

	step("malformed payload", func(t *testing.T) {
		proxy.Inject(fakeapi.Fault{Malformed: true})
		if _, err := src.Sync(ctx, cursor); err == nil {
			t.Fatal("a truncated JSON answer was taken as a success")
		}
		if _, err := src.Sync(ctx, cursor); err != nil {
			t.Fatalf("the next sync failed too: %v", err)
		}
	})

	step("last good cases kept", func(t *testing.T) {
		p := poller.New(poller.Config{
			Name: "conformance", Interval: time.Minute, Source: src, Evaluator: &sla.Evaluator{Policy: pol},
			Logger: slog.New(slog.DiscardHandler),
		}, nil)
		if err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		good := p.Snapshot().Cases
		mustHave(t, good, ids...)
		proxy.Inject(fakeapi.Fault{Malformed: true})
		if err := p.Poll(ctx); err == nil {
			t.Fatal("the poll with a malformed answer succeeded")
		}
		snap := p.Snapshot()
		if snap.Up || len(snap.Cases) != len(good) {
			t.Errorf("after a failed poll: up %v, %d cases, want down with the %d last good", snap.Up, len(snap.Cases), len(good))
		}
		if err := p.Poll(ctx); err != nil || !p.Snapshot().Up {
			t.Errorf("the source did not come back: %v", err)
		}
	})
}

// checkCases fails on a case the engine would refuse.
func checkCases(t *testing.T, b sources.Batch) {
	t.Helper()
	for _, c := range b.Cases {
		if err := c.Validate(); err != nil {
			t.Errorf("case %s: %v", c.ID, err)
		}
	}
	for _, p := range b.Problems {
		t.Logf("skipped: %v", p)
	}
}

func has(cases []sla.Case, id string) bool {
	return slices.ContainsFunc(cases, func(c sla.Case) bool { return c.ID == id })
}

func mustHave(t *testing.T, cases []sla.Case, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if !has(cases, id) {
			got := make([]string, 0, len(cases))
			for _, c := range cases {
				got = append(got, c.ID)
			}
			t.Errorf("case %s is missing from %v", id, got)
		}
	}
}

// Decode builds a source the way the configuration does: factory decodes
// yml, one source's keys, reading ${VARS} from vars, with env around it
// (Dir, when empty, a temporary directory). The error is the decoder's,
// naming file (cfg.yml), line and key.
func Decode(t testing.TB, factory sources.Factory, yml string, vars map[string]string, env sources.Env) (sources.Source, error) {
	t.Helper()
	d := &strictyaml.Decoder{File: "cfg.yml", LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	n := d.Parse([]byte(yml))
	if n == nil {
		return nil, d.Err()
	}
	if env.Dir == "" {
		env.Dir = t.TempDir()
	}
	s := factory(d, n, "sources[0]", env)
	if err := d.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// MustTime is an RFC 3339 instant; it panics on anything else.
func MustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
