package exporter_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/collector"
	"github.com/support-sla/support_sla_exporter/exporter"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/demo"
	"github.com/support-sla/support_sla_exporter/sources/file"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

// testAt is the instant the tests run at: a Tuesday, 14:00 UTC.
var testAt = time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)

// policyYAML is the policy every test configuration uses: first-response
// goals around the clock.
const policyYAML = `policies:
  p:
    default_tier: basic
    warning_ratio: 0.75
    tiers:
      basic:
        calendar: 24x7
        first_response: {1: 1h, 2: 2h, 3: 4h, 4: 8h}
`

// clock is a clock the test sets.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.Set(t)
	return c
}

func (c *clock) Now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// fakes builds in-test sources and keeps the last one built under each
// name, for the test to look at.
type fakes struct {
	release chan struct{} // unblocks the hanging sources at the end of the test
	mu      sync.Mutex
	byName  map[string]*fake
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	f := &fakes{release: make(chan struct{}), byName: map[string]*fake{}}
	t.Cleanup(func() { close(f.release) })
	return f
}

// registry has the fake types and the real file and demo sources.
func (f *fakes) registry() sources.Registry {
	r := sources.Registry{"file": file.New, "demo": demo.New}
	for _, kind := range []string{"fake-ok", "fake-error", "fake-panic", "fake-hang", "fake-slow"} {
		r[kind] = f.factory(kind)
	}
	return r
}

// factory decodes a fake source's keys: cases (how many open cases
// fake-ok returns, 4 by default) and message (what fake-error and
// fake-panic fail with).
// fake-ok counts one request with code 200 at each Sync.
func (f *fakes) factory(kind string) sources.Factory {
	return func(d *strictyaml.Decoder, n *yaml.Node, path string, env sources.Env) sources.Source {
		s := &fake{
			kind: kind, name: env.Name, cases: 4, message: kind + " failed", requests: env.Requests,
			release: f.release, entered: make(chan struct{}), returned: make(chan struct{}),
		}
		sources.Fields(d, n, path, map[string]func(*yaml.Node, string){
			"cases":   func(v *yaml.Node, p string) { d.Int(v, p, &s.cases) },
			"message": func(v *yaml.Node, p string) { d.String(v, p, &s.message) },
		})
		f.mu.Lock()
		defer f.mu.Unlock()
		f.byName[env.Name] = s
		return s
	}
}

func (f *fakes) get(t *testing.T, name string) *fake {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.byName[name]
	if !ok {
		t.Fatalf("no fake source %q was built", name)
	}
	return s
}

// fake is a source that works, fails, panics, hangs ignoring its context
// (fake-hang) or until its context ends (fake-slow), as its kind says.
type fake struct {
	kind, name, message string
	cases               int
	requests            *prometheus.CounterVec
	release             <-chan struct{}
	syncs               atomic.Int64
	entered             chan struct{} // closed when a Sync starts
	enter               sync.Once
	returned            chan struct{} // closed when fake-slow's Sync returns
}

func (s *fake) Sync(ctx context.Context, cursor string) (sources.Batch, error) {
	s.syncs.Add(1)
	s.enter.Do(func() { close(s.entered) })
	switch s.kind {
	case "fake-slow":
		defer close(s.returned)
		<-ctx.Done()
		return sources.Batch{}, ctx.Err()
	case "fake-error":
		return sources.Batch{}, errors.New(s.message)
	case "fake-panic":
		panic(s.message)
	case "fake-hang":
		<-s.release
		return sources.Batch{}, errors.New("released at the end of the test")
	}
	if s.requests != nil {
		s.requests.WithLabelValues("200").Inc()
	}
	cases := make([]sla.Case, s.cases)
	for i := range cases {
		cases[i] = sla.Case{
			Source: s.name, ID: fmt.Sprintf("F-%d", i), Customer: "acme", Severity: i%4 + 1,
			Status: sla.StatusOpen, Created: testAt.Add(-time.Duration(i+1) * 50 * time.Minute),
		}
	}
	return sources.Batch{Full: true, Cases: cases, Cursor: "c"}, nil
}

func (s *fake) Window(context.Context, time.Time, time.Time) ([]sla.Case, error) {
	return nil, errors.New("not used")
}

// writeConfig writes a configuration file into dir, policyYAML appended.
func writeConfig(t *testing.T, dir, yml string) string {
	t.Helper()
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(yml+policyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// copyFile copies a fixture into dir.
func copyFile(t *testing.T, from, dir, name string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// start builds an exporter and starts it until the end of the test.
func start(t *testing.T, o exporter.Options) *exporter.Exporter {
	t.Helper()
	e, err := exporter.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.Start(ctx)
	return e
}

// waitFor waits, a bounded time, until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// within runs f and fails the test if it does not return in a bounded
// time: a guard against a scrape that hangs, not a timing assertion.
func within[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("%s does not return", what)
		panic("unreachable")
	}
}

func pollerOf(t *testing.T, e *exporter.Exporter, name string) *poller.Poller {
	t.Helper()
	for _, p := range e.Pollers() {
		if p.Name() == name {
			return p
		}
	}
	t.Fatalf("no poller %q", name)
	return nil
}

func polled(t *testing.T, e *exporter.Exporter, names ...string) func() bool {
	t.Helper()
	return func() bool {
		for _, n := range names {
			if !pollerOf(t, e, n).Snapshot().Polled {
				return false
			}
		}
		return true
	}
}

// gather scrapes g and returns every sample as `name{label="value",...}`;
// histograms give their _count and _sum.
func gather(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	type result struct {
		m   map[string]float64
		err error
	}
	r := within(t, "a scrape", func() result {
		mfs, err := g.Gather()
		if err != nil {
			return result{err: err}
		}
		out := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				sort.Strings(labels)
				key := "{" + strings.Join(labels, ",") + "}"
				switch {
				case m.GetHistogram() != nil:
					out[mf.GetName()+"_count"+key] = float64(m.GetHistogram().GetSampleCount())
					out[mf.GetName()+"_sum"+key] = m.GetHistogram().GetSampleSum()
				case m.GetCounter() != nil:
					out[mf.GetName()+key] = m.GetCounter().GetValue()
				case m.GetGauge() != nil:
					out[mf.GetName()+key] = m.GetGauge().GetValue()
				default:
					out[mf.GetName()+key] = m.GetUntyped().GetValue()
				}
			}
		}
		return result{m: out}
	})
	if r.err != nil {
		t.Fatalf("gathering: %v", r.err)
	}
	return r.m
}

// ofSource keeps the support_sla_* samples of one source.
func ofSource(m map[string]float64, source string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, "support_sla_") && strings.Contains(k, fmt.Sprintf("source=%q", source)) {
			out[k] = v
		}
	}
	return out
}

// withPrefix keeps the samples whose name starts with prefix.
func withPrefix(m map[string]float64, prefix string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

func serve(t *testing.T, e *exporter.Exporter) *httptest.Server {
	t.Helper()
	h, err := e.Handler("test")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// request sends a request with a bounded wait and returns the status, the
// body and the headers.
func request(t *testing.T, method, url string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), resp.Header
}

const fourSources = `sources:
  - {name: ok, type: fake-ok, policy: p, cases: 6}
  - {name: failing, type: fake-error, policy: p, message: ticket system down}
  - {name: broken, type: fake-panic, policy: p, message: nil map}
  - {name: stuck, type: fake-hang, policy: p}
`

const okAlone = `sources:
  - {name: ok, type: fake-ok, policy: p, cases: 6}
`

// A failing, a panicking and a hanging source do not stop scrapes nor
// change what the working source shows; the hanging one keeps the
// exporter unready.
func TestFailingSources(t *testing.T) {
	t.Parallel()
	f := newFakes(t)
	now := func() time.Time { return testAt }
	e := start(t, exporter.Options{ConfigFile: writeConfig(t, t.TempDir(), fourSources), Registry: f.registry(), Now: now})
	waitFor(t, "the hanging source's Sync", func() bool {
		select {
		case <-f.get(t, "stuck").entered:
			return true
		default:
			return false
		}
	})
	waitFor(t, "the other sources' first polls", polled(t, e, "ok", "failing", "broken"))

	m := gather(t, e.Registry())
	for source, want := range map[string]float64{"ok": 1, "failing": 0, "broken": 0, "stuck": 0} {
		if got, ok := m[fmt.Sprintf("support_sla_source_up{source=%q}", source)]; !ok || got != want {
			t.Errorf("support_sla_source_up{source=%q} = %v (present %v), want %v", source, got, ok, want)
		}
	}
	if n := within(t, "GatherAndCount", func() int {
		n, err := testutil.GatherAndCount(e.Registry(), "support_sla_source_up")
		if err != nil {
			t.Error(err)
		}
		return n
	}); n != 4 {
		t.Errorf("%d support_sla_source_up series, want 4", n)
	}
	if _, ok := m[`support_sla_source_last_success_timestamp_seconds{source="failing"}`]; ok {
		t.Error("a source that never succeeded has a last-success timestamp")
	}
	if got := m[`support_sla_source_last_success_timestamp_seconds{source="ok"}`]; got != float64(testAt.Unix()) {
		t.Errorf("last success of ok = %v, want %v", got, testAt.Unix())
	}
	for name, want := range map[string]string{"failing": "ticket system down", "broken": "source panicked: nil map"} {
		if err := pollerOf(t, e, name).Snapshot().LastError; err == nil || err.Error() != want {
			t.Errorf("LastError of %s = %v, want %q", name, err, want)
		}
	}
	if pollerOf(t, e, "stuck").Snapshot().Polled {
		t.Error("the hanging source says it has polled")
	}
	// The panicking source is polled again like any other: it did not take
	// its poller down. (Its next poll is a minute away; poll it now.)
	if err := pollerOf(t, e, "broken").Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "source panicked") {
		t.Errorf("second poll of the panicking source: %v", err)
	}
	if n := f.get(t, "broken").syncs.Load(); n != 2 {
		t.Errorf("the panicking source was synced %d times, want 2", n)
	}

	srv := serve(t, e)
	code, body, _ := request(t, http.MethodGet, srv.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", code, body)
	}
	for _, want := range []string{`support_sla_source_up{source="ok"} 1`, `support_sla_source_up{source="stuck"} 0`, `support_sla_targets{`, `support_sla_exporter_build_info{`} {
		if !strings.Contains(body, want) {
			t.Errorf("GET /metrics lacks %s", want)
		}
	}
	// Every metric served is in the catalogue the dashboards and rules are
	// checked against.
	catalogue := map[string]bool{}
	for _, n := range collector.MetricNames() {
		catalogue[n] = true
	}
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "TYPE" && strings.HasPrefix(f[2], "support_sla_") && !catalogue[f[2]] {
			t.Errorf("GET /metrics serves %s, which collector.MetricNames lacks", f[2])
		}
	}
	if code, body, _ := request(t, http.MethodGet, srv.URL+"/-/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("GET /-/ready with a source never polled: %d %q, want 503", code, body)
	}
	if code, body, _ := request(t, http.MethodGet, srv.URL+"/-/healthy"); code != http.StatusOK {
		t.Errorf("GET /-/healthy: %d %q, want 200", code, body)
	}

	// The working source shows what it would show alone.
	alone := start(t, exporter.Options{ConfigFile: writeConfig(t, t.TempDir(), okAlone), Registry: newFakes(t).registry(), Now: now})
	waitFor(t, "the source alone to be polled", alone.Ready)
	got, want := ofSource(m, "ok"), ofSource(gather(t, alone.Registry()), "ok")
	if len(withPrefix(want, "support_sla_targets")) == 0 {
		t.Fatalf("the ok source alone has no support_sla_targets: %v", want)
	}
	if !maps.Equal(got, want) {
		t.Errorf("the ok source's series differ among failing sources:\n got %v\nwant %v", got, want)
	}
	if code, _, _ := request(t, http.MethodGet, serve(t, alone).URL+"/-/ready"); code != http.StatusOK {
		t.Errorf("GET /-/ready once every source has polled: %d, want 200", code)
	}
}

const (
	oneFile = `sources:
  - name: helpdesk
    type: file
    path: cases.jsonl
    policy: p
    interval: 1s
`
	twoFiles = oneFile + `  - name: second
    type: file
    path: cases.jsonl
    policy: p
`
	twoFilesTypo = oneFile + `  - name: second
    type: file
    path: cases.jsonl
    intervall: 1m
    policy: p
`
)

// unknownKeyError is the error of twoFilesTypo written at path.
func unknownKeyError(path string) string {
	line := slices.Index(strings.Split(twoFilesTypo, "\n"), "    intervall: 1m") + 1
	return fmt.Sprintf("%s:%d: sources[1]: unknown field \"intervall\"", path, line)
}

// A good configuration is applied on reload; a broken one is refused with
// its located error and the running one goes on, polled as before.
func TestReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyFile(t, "testdata/cases.jsonl", dir, "cases.jsonl")
	path := writeConfig(t, dir, oneFile)
	clk := newClock(testAt)
	e := start(t, exporter.Options{ConfigFile: path, Registry: newFakes(t).registry(), Now: clk.Now})
	waitFor(t, "the first poll", e.Ready)
	const (
		reloadOK = "support_sla_config_last_reload_successful{}"
		reloadAt = "support_sla_config_last_reload_success_timestamp_seconds{}"
	)
	if m := gather(t, e.Registry()); m[reloadOK] != 1 || m[reloadAt] != float64(testAt.Unix()) {
		t.Errorf("after the first load: reload gauges %v and %v", m[reloadOK], m[reloadAt])
	}

	// A second source.
	clk.Set(testAt.Add(time.Minute))
	writeConfig(t, dir, twoFiles)
	if err := e.Reload(); err != nil {
		t.Fatalf("Reload() = %v", err)
	}
	good := e.Config()
	if len(good.Sources) != 2 {
		t.Fatalf("%d sources after the reload, want 2", len(good.Sources))
	}
	waitFor(t, "both sources' first polls", polled(t, e, "helpdesk", "second"))
	m := gather(t, e.Registry())
	for _, s := range []string{"helpdesk", "second"} {
		if m[fmt.Sprintf("support_sla_source_up{source=%q}", s)] != 1 || m[fmt.Sprintf("support_sla_source_cases{source=%q}", s)] != 10 {
			t.Errorf("source %s not served after the reload: %v", s, ofSource(m, s))
		}
	}
	if m[reloadOK] != 1 || m[reloadAt] != float64(testAt.Add(time.Minute).Unix()) {
		t.Errorf("after a good reload: reload gauges %v and %v", m[reloadOK], m[reloadAt])
	}

	// A typo: refused, with the file, line and key.
	clk.Set(testAt.Add(2 * time.Minute))
	writeConfig(t, dir, twoFilesTypo)
	err := e.Reload()
	if err == nil || !strings.HasPrefix(err.Error(), unknownKeyError(path)) {
		t.Fatalf("Reload() = %v, want an error starting %q", err, unknownKeyError(path))
	}
	if e.Config() != good {
		t.Error("a failed reload replaced the configuration")
	}
	m = gather(t, e.Registry())
	if m[reloadOK] != 0 || m[reloadAt] != float64(testAt.Add(time.Minute).Unix()) {
		t.Errorf("after a failed reload: reload gauges %v and %v, want 0 and the last good one's time", m[reloadOK], m[reloadAt])
	}
	for _, s := range []string{"helpdesk", "second"} {
		if m[fmt.Sprintf("support_sla_source_up{source=%q}", s)] != 1 {
			t.Errorf("source %s not served after a failed reload: %v", s, ofSource(m, s))
		}
	}
	// Still polled: helpdesk polls every second.
	const polls = `support_sla_source_poll_duration_seconds_count{source="helpdesk"}`
	before := m[polls]
	waitFor(t, "a poll after the failed reload", func() bool { return gather(t, e.Registry())[polls] > before })

	// The same over HTTP.
	srv := serve(t, e)
	code, body, _ := request(t, http.MethodPost, srv.URL+"/-/reload")
	if code != http.StatusInternalServerError || !strings.Contains(body, unknownKeyError(path)) || !strings.Contains(body, "previous configuration keeps running") {
		t.Errorf("POST /-/reload of a broken file: %d\n%s", code, body)
	}
	if e.Config() != good {
		t.Error("a failed POST /-/reload replaced the configuration")
	}
	writeConfig(t, dir, oneFile)
	if code, body, _ := request(t, http.MethodPost, srv.URL+"/-/reload"); code != http.StatusOK {
		t.Errorf("POST /-/reload of a good file: %d\n%s", code, body)
	}
	if n := len(e.Config().Sources); n != 1 {
		t.Errorf("%d sources after POST /-/reload, want 1", n)
	}
	if m := gather(t, e.Registry()); m[reloadOK] != 1 {
		t.Errorf("after a good POST /-/reload: support_sla_config_last_reload_successful %v", m[reloadOK])
	}
	code, body, h := request(t, http.MethodGet, srv.URL+"/-/reload")
	if code != http.StatusMethodNotAllowed || !strings.Contains(h.Get("Allow"), "POST") {
		t.Errorf("GET /-/reload: %d, Allow %q\n%s", code, h.Get("Allow"), body)
	}
	if n := len(e.Config().Sources); n != 1 {
		t.Errorf("GET /-/reload reloaded: %d sources", n)
	}
}

// gone's one case is answered at 14:30, after the exporter started: an
// outcome decided while it ran.
const goneCases = `{"id":"G-1","severity":1,"status":"open","created":"2026-03-03T14:00:00Z","first_response":"2026-03-03T14:30:00Z"}` + "\n"

// A reload keeps the cases of a source it keeps, even when the source's
// next polls fail, and drops every series of a source it removes.
func TestReloadKeepsCachesDropsRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyFile(t, "testdata/cases.jsonl", dir, "helpdesk.jsonl")
	if err := os.WriteFile(filepath.Join(dir, "gone.jsonl"), []byte(goneCases), 0o644); err != nil {
		t.Fatal(err)
	}
	const both = `sources:
  - {name: helpdesk, type: file, path: helpdesk.jsonl, policy: p}
  - {name: gone, type: file, path: gone.jsonl, policy: p}
  - {name: counted, type: fake-ok, policy: p}
`
	clk := newClock(testAt)
	e := start(t, exporter.Options{ConfigFile: writeConfig(t, dir, both), Registry: newFakes(t).registry(), Now: clk.Now})
	waitFor(t, "the first polls", e.Ready)
	clk.Set(testAt.Add(time.Hour))
	before := gather(t, e.Registry())
	for k, want := range map[string]float64{
		`support_sla_source_poll_duration_seconds_count{source="gone"}`:                                                  1,
		`support_sla_outcomes_total{case_severity="1",outcome="met",source="gone",target="first_response",tier="basic"}`: 1,
		`support_sla_source_cases{source="helpdesk"}`:                                                                    10,
		`support_sla_source_requests_total{code="200",source="counted"}`:                                                 1,
	} {
		if got, ok := before[k]; !ok || got != want {
			t.Fatalf("before the reload, %s = %v (present %v), want %v", k, got, ok, want)
		}
	}
	helpdesk := ofSource(before, "helpdesk")
	if len(withPrefix(helpdesk, "support_sla_targets")) == 0 {
		t.Fatalf("helpdesk has no targets before the reload: %v", helpdesk)
	}

	// helpdesk's file goes away: its polls fail from now on.
	if err := os.Remove(filepath.Join(dir, "helpdesk.jsonl")); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, dir, `sources:
  - {name: helpdesk, type: file, path: helpdesk.jsonl, policy: p}
`)
	if err := e.Reload(); err != nil {
		t.Fatalf("Reload() = %v", err)
	}
	sameCases := func(when string, m map[string]float64) {
		t.Helper()
		for _, prefix := range []string{"support_sla_source_cases", "support_sla_open_cases", "support_sla_targets", "support_sla_next_due", "support_sla_oldest_open"} {
			if got, want := withPrefix(ofSource(m, "helpdesk"), prefix), withPrefix(helpdesk, prefix); !maps.Equal(got, want) {
				t.Errorf("%s, helpdesk's %s series are %v, want %v as before", when, prefix, got, want)
			}
		}
	}
	sameCases("right after the reload", gather(t, e.Registry()))
	waitFor(t, "the first poll under the new configuration", polled(t, e, "helpdesk"))
	after := gather(t, e.Registry())
	if err := pollerOf(t, e, "helpdesk").Snapshot().LastError; err == nil || !strings.Contains(err.Error(), "reading cases") {
		t.Errorf("helpdesk's poll without its file: %v, want a failure reading cases", err)
	}
	if after[`support_sla_source_up{source="helpdesk"}`] != 0 {
		t.Error("helpdesk is up without its file")
	}
	if !e.Ready() {
		t.Error("not ready once every source has polled, if in vain")
	}
	sameCases("after a failed poll", after)

	for _, removed := range []string{"gone", "counted"} {
		t.Run("poll durations and requests of "+removed, func(t *testing.T) {
			got := ofSource(after, removed)
			for _, prefix := range []string{"support_sla_source_poll_duration_seconds", "support_sla_source_requests_total", "support_sla_source_up"} {
				if len(withPrefix(got, prefix)) != 0 {
					t.Errorf("%s of a removed source: %v", prefix, got)
				}
			}
		})
		t.Run("every series of "+removed, func(t *testing.T) {
			if got := ofSource(after, removed); len(got) != 0 {
				t.Errorf("series of a removed source are still served: %v", slices.Sorted(maps.Keys(got)))
			}
		})
	}
}

// The pollers of a configuration stop when a reload replaces it, and all
// of them when the context given to Start ends: a Sync waiting on its
// context returns.
func TestPollersStop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		stop func(t *testing.T, e *exporter.Exporter, dir string, cancel context.CancelFunc)
	}{
		{"a reload", func(t *testing.T, e *exporter.Exporter, dir string, _ context.CancelFunc) {
			writeConfig(t, dir, okAlone)
			if err := e.Reload(); err != nil {
				t.Fatalf("Reload() = %v", err)
			}
		}},
		{"the end of the context", func(_ *testing.T, _ *exporter.Exporter, _ string, cancel context.CancelFunc) { cancel() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakes(t)
			dir := t.TempDir()
			e, err := exporter.New(exporter.Options{ConfigFile: writeConfig(t, dir, "sources:\n  - {name: slow, type: fake-slow, policy: p}\n"), Registry: f.registry()})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e.Start(ctx)
			slow := f.get(t, "slow")
			within(t, "the first Sync", func() struct{} { <-slow.entered; return struct{}{} })
			tc.stop(t, e, dir, cancel)
			within(t, "the Sync to see its context end", func() struct{} { <-slow.returned; return struct{}{} })
		})
	}
}
