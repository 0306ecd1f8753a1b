package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	amclient "github.com/prometheus/alertmanager/api/v2/client"
	amalert "github.com/prometheus/alertmanager/api/v2/client/alert"
	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/alerts"
	"github.com/support-sla/support_sla_exporter/dashboards"
)

// TestStackE2E runs the whole monitoring stack a user deploys: the
// exporter binary, the real Prometheus loading alerts/support_sla.rules.yml
// and the real Alertmanager loading alerts/alertmanager.yml, and checks
// that the alerts reach the right receiver, resolve, are inhibited while
// their source is down, and that every dashboard query has data. It needs
// the prometheus and alertmanager binaries (make e2e installs them) and
// skips without them.
func TestStackE2E(t *testing.T) {
	promBin := lookBinary(t, "prometheus")
	amBin := lookBinary(t, "alertmanager", "prometheus-alertmanager")
	queries, err := dashboards.Queries()
	if err != nil {
		t.Fatal(err)
	}
	variables, err := dashboards.Variables()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	exe := buildExporter(t, dir)
	now := time.Now().UTC()

	// The exporter: a file source with a case in each alerting state and
	// a jsonapi source, whose first answer is a 429, for the request
	// counters.
	api := &ticketAPI{created: now.Add(-time.Hour)}
	apiSrv := httptest.NewServer(api)
	t.Cleanup(apiSrv.Close)
	casesFile := filepath.Join(dir, "cases.json")
	writeCases(t, casesFile, stackCases(now, false))
	cfgFile := filepath.Join(dir, "config.yml")
	writeFile(t, cfgFile, fixture(t, "config.yml", "%API%", apiSrv.URL))
	exporterAddr := freeAddr(t)
	startProcess(t, dir, "exporter", exe, "--config.file="+cfgFile, "--web.listen-address="+exporterAddr)
	waitReady(t, "exporter", "http://"+exporterAddr+"/-/ready")

	// Alertmanager, its receivers pointing at the test's webhook server.
	hooks := &webhookRecorder{}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	amAddr := startAlertmanager(t, dir, amBin, hookSrv.URL)

	// Prometheus.
	writeFile(t, filepath.Join(dir, "rules.yml"), testRules(t, alerts.Rules))
	promFile := filepath.Join(dir, "prometheus.yml")
	writeFile(t, promFile, fixture(t, "prometheus.yml", "%EXPORTER%", exporterAddr, "%AM%", amAddr))
	promAddr := freeAddr(t)
	startProcess(t, dir, "prometheus", promBin, "--config.file="+promFile,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+promAddr)
	waitReady(t, "prometheus", "http://"+promAddr+"/-/ready")
	prom := promAPI("http://" + promAddr)

	// The firing alerts, each at its receiver.
	imminent := map[string]string{"source": "helpdesk", "tier": "premium", "case_severity": "1", "target": "first_response"}
	caseImminent := map[string]string{"source": "helpdesk", "case": "C-IMMINENT", "tier": "premium", "case_severity": "1", "target": "first_response"}
	breached := map[string]string{"source": "helpdesk", "tier": "basic", "case_severity": "3", "target": "first_response"}
	for _, w := range []struct {
		alert, receiver string
		labels          map[string]string
	}{
		{"SupportSLABreachImminent", "sla-page", imminent},
		{"SupportSLACaseBreachImminent", "sla-page", caseImminent},
		{"SupportSLABreached", "sla-ticket", breached},
	} {
		hooks.wait(t, w.receiver, w.alert, "firing", w.labels)
	}

	t.Run("dashboard queries", func(t *testing.T) {
		// $__rate_interval is 1m here: wait for a few scrapes in it, so
		// that every rate has two samples and the rules have run.
		eventually(t, 30*time.Second, "three scrapes of the exporter", func() (bool, string) {
			n, err := prom.scalar(`min(count_over_time(up{job="support_sla_exporter"}[1m]))`)
			return err == nil && n >= 3, fmt.Sprintf("%v scrapes, %v", n, err)
		})
		// The jsonapi source's first request was rate limited: the
		// dashboards' rate-limit panel has a series to show.
		if n, err := prom.scalar(`sum(support_sla_source_requests_total{source="tickets", code="429"})`); err != nil || n != 1 {
			t.Errorf("429 answers counted: %v, %v; want 1", n, err)
		}
		checkQueries(t, prom, queries)
		checkVariables(t, prom, variables)
	})

	// The premium case is answered: both imminent alerts resolve.
	writeCases(t, casesFile, stackCases(now, true))
	hooks.wait(t, "sla-page", "SupportSLABreachImminent", "resolved", imminent)
	hooks.wait(t, "sla-page", "SupportSLACaseBreachImminent", "resolved", caseImminent)

	// The file breaks: the source is down, pages, and inhibits the breach
	// alert of its source, which still fires from the cached cases.
	writeFile(t, casesFile, []byte(`[{"id": "C-`))
	down := hooks.wait(t, "sla-page", "SupportSLASourceDown", "firing", map[string]string{"source": "helpdesk", "severity": "critical"})
	am := amclient.NewHTTPClientWithConfig(nil, amclient.DefaultTransportConfig().WithHost(amAddr))
	eventually(t, 20*time.Second, "SupportSLABreached of helpdesk inhibited in Alertmanager", func() (bool, string) {
		ok, err := am.Alert.GetAlerts(amalert.NewGetAlertsParams().WithTimeout(5 * time.Second).
			WithFilter([]string{`alertname="SupportSLABreached"`, `source="helpdesk"`}))
		if err != nil {
			return false, err.Error()
		}
		var states []string
		for _, a := range ok.Payload {
			if a.Status == nil {
				continue
			}
			if slices.Contains(a.Status.InhibitedBy, down.Fingerprint) {
				return true, ""
			}
			states = append(states, fmt.Sprintf("%s inhibited by %v", str(a.Status.State), a.Status.InhibitedBy))
		}
		return false, fmt.Sprintf("%d alerts (%v), not inhibited by SupportSLASourceDown %s", len(ok.Payload), states, down.Fingerprint)
	})
}

// stackCases are the cases of the file source, relative to now: a premium
// severity-1 case 10 minutes from its first-response due (inside the 15
// minutes of lead time; answered when answered is set), a basic case past
// its due, and a case resolved in time a few seconds ago, so that this
// month's compliance exists.
func stackCases(now time.Time, answered bool) []map[string]any {
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	imminent := map[string]any{"id": "C-IMMINENT", "key": "SUP-1", "customer": "acme", "tier": "premium", "severity": 1,
		"status": "open", "created": ts(-20 * time.Minute)}
	if answered {
		imminent["first_response"] = ts(0)
	}
	return []map[string]any{
		imminent,
		{"id": "C-BREACHED", "key": "SUP-2", "customer": "globex", "tier": "basic", "severity": 3,
			"status": "open", "created": ts(-13 * time.Hour)},
		{"id": "C-RESOLVED", "key": "SUP-3", "customer": "initech", "tier": "production", "severity": 2,
			"status": "resolved", "created": ts(-3 * time.Minute), "first_response": ts(-10 * time.Second), "resolved": ts(-5 * time.Second)},
	}
}

// fixture is testdata/stack/name with the placeholders replaced, as
// pairs of old and new.
func fixture(t *testing.T, name string, oldnew ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "stack", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(oldnew...).Replace(string(b)))
}

// writeCases writes the cases as a JSON array.
func writeCases(t *testing.T, path string, cases []map[string]any) {
	t.Helper()
	b, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, b)
}

// writeFile writes atomically (write, then rename), as the file source
// asks.
func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// ticketAPI is the jsonapi source's server: one open case, and a 429 with
// Retry-After for the first request.
type ticketAPI struct {
	created  time.Time
	requests atomic.Int64
}

func (a *ticketAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/tickets" {
		http.NotFound(w, r)
		return
	}
	if a.requests.Add(1) == 1 {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode([]map[string]any{
		{"id": "T-1", "created_at": a.created.Format(time.RFC3339), "state": "open", "severity": 4},
	})
}

// lookBinary finds the first of names in PATH, or skips the test.
func lookBinary(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skipf("%s is not installed (make e2e installs it)", strings.Join(names, " or "))
	return ""
}

// buildExporter builds the program into dir, to run it as a user does.
func buildExporter(t *testing.T, dir string) string {
	t.Helper()
	exe := filepath.Join(dir, "support_sla_exporter")
	out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// startProcess starts a program with its output in dir/name.log, stops it
// when the test ends, and shows the end of its log if the test failed.
func startProcess(t *testing.T, dir, name, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second // then killed
	if err := cmd.Start(); err != nil {
		cancel()
		logFile.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-done
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			t.Logf("last lines of the %s log:\n%s", name, strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
	})
}

// waitReady waits for a 200 from a readiness endpoint.
func waitReady(t *testing.T, name, u string) {
	t.Helper()
	eventually(t, 60*time.Second, name+" ready", func() (bool, string) {
		resp, err := http.Get(u)
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// eventually polls cond until it holds or the deadline passes, then fails
// with cond's last word on the state.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, still waiting for %s: %s", timeout, what, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testRules is the rules file with every `for:` and `keep_firing_for:`
// shortened to 2s and every group interval to 1s, so that alerts fire
// within the test; the expressions stay byte-identical (checked here), so
// the test exercises the shipped rules.
func testRules(t *testing.T, rules []byte) []byte {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		t.Fatalf("rules: %v", err)
	}
	for _, g := range seqOf(mapValue(docRoot(&doc), "groups")) {
		setScalar(g, "interval", "1s")
		for _, r := range seqOf(mapValue(g, "rules")) {
			setScalar(r, "for", "2s")
			setScalar(r, "keep_firing_for", "1s")
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := ruleExprs(t, rules), ruleExprs(t, out); !slices.Equal(a, b) || len(a) == 0 {
		t.Fatalf("rewriting the rules changed their expressions:\n%q\n%q", a, b)
	}
	return out
}

// ruleExprs lists the expressions of a rules file, in order.
func ruleExprs(t *testing.T, rules []byte) []string {
	t.Helper()
	var f struct {
		Groups []struct {
			Rules []struct {
				Expr string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rules, &f); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	return exprs
}

// testAlertmanagerConfig is the Alertmanager example with each receiver's
// webhook sent to base/<receiver name> and the grouping delays shortened;
// routes, matchers and inhibitions stay as shipped.
func testAlertmanagerConfig(t *testing.T, conf []byte, base string) []byte {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(conf, &doc); err != nil {
		t.Fatalf("alertmanager.yml: %v", err)
	}
	root := docRoot(&doc)
	var shorten func(route *yaml.Node)
	shorten = func(route *yaml.Node) {
		for _, k := range []string{"group_wait", "group_interval"} {
			setScalar(route, k, "1s")
		}
		setScalar(route, "repeat_interval", "1h")
		for _, r := range seqOf(mapValue(route, "routes")) {
			shorten(r)
		}
	}
	if route := mapValue(root, "route"); route != nil {
		shorten(route)
		addScalar(route, "group_wait", "1s")
		addScalar(route, "group_interval", "1s")
	}
	for _, r := range seqOf(mapValue(root, "receivers")) {
		name := ""
		if n := mapValue(r, "name"); n != nil {
			name = n.Value
		}
		hooks := seqOf(mapValue(r, "webhook_configs"))
		if name == "" || len(hooks) != 1 {
			t.Fatalf("alertmanager.yml: receiver %q: want a name and exactly one webhook_config, have %d", name, len(hooks))
		}
		// Another integration would notify a real service from the test.
		for i := 0; i < len(r.Content); i += 2 {
			if k := r.Content[i].Value; strings.HasSuffix(k, "_configs") && k != "webhook_configs" {
				t.Fatalf("alertmanager.yml: receiver %q: %s besides its webhook", name, k)
			}
		}
		deleteKey(hooks[0], "url_file")
		setScalar(hooks[0], "url", base+"/"+name)
		addScalar(hooks[0], "url", base+"/"+name)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := amconfig.Load(string(out)); err != nil {
		t.Fatalf("the rewritten alertmanager.yml: %v\n%s", err, out)
	}
	return out
}

// docRoot is a YAML document's top mapping.
func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return doc
}

// mapValue is the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// seqOf is the items of a sequence node, or none.
func seqOf(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// setScalar replaces the value of key in m, if m has it.
func setScalar(m *yaml.Node, key, value string) {
	if v := mapValue(m, key); v != nil {
		*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
	}
}

// addScalar adds key: value to m unless m has key.
func addScalar(m *yaml.Node, key, value string) {
	if m != nil && mapValue(m, key) == nil {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
	}
}

// deleteKey removes key from m.
func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

// webhookRecorder is Alertmanager's webhook receiver: it keeps every
// notification with the receiver its URL names.
type webhookRecorder struct {
	mu  sync.Mutex
	got []notification
}

type notification struct {
	receiver string // the last element of the URL's path
	msg      webhook.Message
}

func (h *webhookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var msg webhook.Message
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil || msg.Data == nil {
		http.Error(w, fmt.Sprintf("not a webhook message: %v", err), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, notification{strings.TrimPrefix(r.URL.Path, "/"), msg})
	h.mu.Unlock()
}

// wait waits for a notification to receiver of alertname in status whose
// labels include want, and a `severity` label, and returns that alert; it
// fails naming what came instead.
func (h *webhookRecorder) wait(t *testing.T, receiver, alertname, status string, want map[string]string) template.Alert {
	t.Helper()
	start := time.Now()
	var found template.Alert
	eventually(t, 45*time.Second, fmt.Sprintf("%s %s at %s with %v", alertname, status, receiver, want), func() (bool, string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		var seen []string
		for _, n := range h.got {
			for _, a := range n.msg.Alerts {
				if a.Labels["alertname"] != alertname {
					continue
				}
				if n.receiver == receiver && n.msg.Receiver == receiver && a.Status == status && hasLabels(a, want) {
					found = a
					return true, ""
				}
				seen = append(seen, fmt.Sprintf("%s at %s (%s) %v", a.Status, n.receiver, n.msg.Receiver, a.Labels))
			}
		}
		return false, fmt.Sprintf("%d notifications; of %s: %v", len(h.got), alertname, seen)
	})
	t.Logf("%s %s at %s after %s", alertname, status, receiver, time.Since(start).Round(100*time.Millisecond))
	return found
}

// hasLabels says whether a has every label of want and a known severity.
func hasLabels(a template.Alert, want map[string]string) bool {
	for k, v := range want {
		if a.Labels[k] != v {
			return false
		}
	}
	return slices.Contains([]string{"critical", "warning", "info"}, a.Labels["severity"])
}

// promAPI queries Prometheus's HTTP API.
type promAPI string

// query runs an instant query now and returns its result: a vector,
// matrix, scalar or string.
func (p promAPI) query(expr string) (model.Value, error) {
	resp, err := http.PostForm(string(p)+"/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("%s: %w", resp.Status, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("%s: %s", body.ErrorType, body.Error)
	}
	var v model.Value
	switch body.Data.ResultType {
	case "vector":
		v = &model.Vector{}
	case "matrix":
		v = &model.Matrix{}
	case "scalar":
		v = &model.Scalar{}
	case "string":
		v = &model.String{}
	default:
		return nil, fmt.Errorf("unknown result type %q", body.Data.ResultType)
	}
	if err := json.Unmarshal(body.Data.Result, v); err != nil {
		return nil, err
	}
	return v, nil
}

// scalar runs a query whose result is one number.
func (p promAPI) scalar(expr string) (float64, error) {
	v, err := p.query(expr)
	if err != nil {
		return 0, err
	}
	if vec, ok := v.(*model.Vector); ok && len(*vec) == 1 {
		return float64((*vec)[0].Value), nil
	}
	return 0, fmt.Errorf("%s: not one number: %v", expr, v)
}

// empty says whether a query result has no data.
func empty(v model.Value) bool {
	switch v := v.(type) {
	case *model.Vector:
		return len(*v) == 0
	case *model.Matrix:
		return len(*v) == 0
	}
	return false
}

// checkQueries runs every dashboard query. An error fails at once; an
// empty result is asked again until a deadline, as data appears with the
// scrapes, unless the panel may be empty.
func checkQueries(t *testing.T, prom promAPI, queries []dashboards.Query) {
	t.Helper()
	if len(queries) == 0 {
		t.Fatal("no dashboard queries")
	}
	pending := slices.Clone(queries)
	deadline := time.Now().Add(20 * time.Second)
	emptyOK := 0
	for {
		var still []dashboards.Query
		emptyOK = 0
		for _, q := range pending {
			v, err := prom.query(q.Expr)
			switch {
			case err != nil:
				t.Errorf("dashboard %s, panel %q, refId %s: %v\n%s", q.Dashboard, q.Panel, q.RefID, err, q.Expr)
			case empty(v) && q.MayBeEmpty:
				emptyOK++
			case empty(v):
				still = append(still, q)
			}
		}
		if t.Failed() {
			return
		}
		if len(still) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for _, q := range still {
				t.Errorf("dashboard %s, panel %q, refId %s: no data\n%s", q.Dashboard, q.Panel, q.RefID, q.Expr)
			}
			return
		}
		pending = still
		time.Sleep(time.Second)
	}
	t.Logf("%d dashboard queries ran; %d empty where the panel may be", len(queries), emptyOK)
}

// checkVariables asks Prometheus for the values of every dashboard
// variable, as Grafana does: a variable without values leaves its
// dashboard empty.
func checkVariables(t *testing.T, prom promAPI, variables []dashboards.Variable) {
	t.Helper()
	for _, v := range variables {
		u := string(prom) + "/api/v1/label/" + url.PathEscape(v.Label) + "/values?" + url.Values{"match[]": {v.Match}}.Encode()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Status string   `json:"status"`
			Error  string   `json:"error"`
			Data   []string `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		switch {
		case err != nil:
			t.Errorf("dashboard %s, variable %s: %s: %v", v.Dashboard, v.Name, resp.Status, err)
		case body.Status != "success":
			t.Errorf("dashboard %s, variable %s: %s\nlabel_values(%s, %s)", v.Dashboard, v.Name, body.Error, v.Match, v.Label)
		case len(body.Data) == 0:
			t.Errorf("dashboard %s, variable %s: no values\nlabel_values(%s, %s)", v.Dashboard, v.Name, v.Match, v.Label)
		}
	}
}

// startAlertmanager runs the real Alertmanager on alerts/alertmanager.yml
// with its receivers pointed at hooksURL (testAlertmanagerConfig), no
// gossip listener, and returns its address once it is ready.
func startAlertmanager(t *testing.T, dir, bin, hooksURL string) string {
	t.Helper()
	amFile := filepath.Join(dir, "alertmanager.yml")
	writeFile(t, amFile, testAlertmanagerConfig(t, alerts.Alertmanager, hooksURL))
	addr := freeAddr(t)
	startProcess(t, dir, "alertmanager", bin, "--config.file="+amFile,
		"--storage.path="+filepath.Join(dir, "am"), "--web.listen-address="+addr,
		"--cluster.listen-address=")
	waitReady(t, "alertmanager", "http://"+addr+"/-/ready")
	return addr
}
