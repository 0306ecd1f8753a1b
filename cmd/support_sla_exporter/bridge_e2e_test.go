package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/alerts"
)

// timedRecorder is TestStackE2E's webhook recorder noting when each
// notification arrived.
type timedRecorder struct {
	webhookRecorder
	tmu sync.Mutex
	at  []time.Time // arrival of webhookRecorder.got[i]
}

func (h *timedRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.tmu.Lock()
	defer h.tmu.Unlock()
	h.webhookRecorder.ServeHTTP(w, r)
	h.mu.Lock()
	for len(h.at) < len(h.got) {
		h.at = append(h.at, time.Now())
	}
	h.mu.Unlock()
}

// arrived is when the first notification of alertname in status came.
func (h *timedRecorder) arrived(alertname, status string) time.Time {
	h.tmu.Lock()
	defer h.tmu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, n := range h.got {
		for _, a := range n.msg.Alerts {
			if a.Labels["alertname"] == alertname && a.Status == status {
				return h.at[i]
			}
		}
	}
	return time.Time{}
}

// TestBridgeE2E runs the exporter's alerting bridge against the real
// Alertmanager loading alerts/alertmanager.yml (group_wait cut to 1s): a
// file source case 20 s before its first-response due is paged as
// SupportSLACaseBreachImminent, ticketed as SupportSLACaseBreached right
// after its due, both with the case's labels, and resolved once the file
// records a response. It logs the delay from the due to the receiver.
func TestBridgeE2E(t *testing.T) {
	amBin := lookBinary(t, "alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()
	exe := buildExporter(t, dir)

	hooks := &timedRecorder{}
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)
	amAddr := startAlertmanager(t, dir, amBin, hookSrv.URL)

	// The exporter starts with no case; Prometheus, when installed,
	// scrapes it and evaluates the shipped rules every second, for the
	// delay of the rule-based path.
	casesFile := filepath.Join(dir, "cases.json")
	writeCases(t, casesFile, []map[string]any{})
	cfgFile := filepath.Join(dir, "config.yml")
	b, err := os.ReadFile(filepath.Join("testdata", "bridge", "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfgFile, []byte(strings.ReplaceAll(string(b), "%AM%", "http://"+amAddr)))
	exporterAddr := freeAddr(t)
	startProcess(t, dir, "exporter", exe, "--config.file="+cfgFile, "--web.listen-address="+exporterAddr)
	waitReady(t, "exporter", "http://"+exporterAddr+"/-/ready")
	promBin, promErr := exec.LookPath("prometheus")
	if promErr == nil {
		writeFile(t, filepath.Join(dir, "rules.yml"), testRules(t, alerts.Rules))
		promFile := filepath.Join(dir, "prometheus.yml")
		writeFile(t, promFile, fixture(t, "prometheus.yml", "%EXPORTER%", exporterAddr, "%AM%", amAddr))
		promAddr := freeAddr(t)
		startProcess(t, dir, "prometheus", promBin, "--config.file="+promFile,
			"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+promAddr)
		waitReady(t, "prometheus", "http://"+promAddr+"/-/ready")
	} else {
		t.Log("prometheus is not installed: the rule-based path is not measured")
	}

	// Premium severity 1: 30 min to the first response, due in 20 s.
	due := time.Now().UTC().Truncate(time.Second).Add(20 * time.Second)
	created := due.Add(-30 * time.Minute)
	kase := map[string]any{"id": "C-DUE", "key": "SUP-7", "customer": "acme", "tier": "premium", "severity": 1,
		"status": "open", "created": created.Format(time.RFC3339), "url": "https://help.example.com/SUP-7"}
	writeCases(t, casesFile, []map[string]any{kase})

	labels := map[string]string{"source": "helpdesk", "case": "C-DUE", "customer": "acme", "tier": "premium",
		"case_severity": "1", "target": "first_response"}
	imminent := hooks.wait(t, "sla-page", "SupportSLACaseBreachImminent", "firing", labels)
	if want := due.Add(-10 * time.Second); !imminent.StartsAt.Equal(want) {
		t.Errorf("SupportSLACaseBreachImminent startsAt %s, want the due minus the 10s lead time, %s", imminent.StartsAt, want)
	}
	if imminent.Annotations["due"] != due.Format(time.RFC3339) || imminent.Annotations["case_url"] != "https://help.example.com/SUP-7" ||
		imminent.GeneratorURL != "https://help.example.com/SUP-7" || imminent.Labels["severity"] != "warning" {
		t.Errorf("SupportSLACaseBreachImminent: labels %v, annotations %v, generatorURL %s", imminent.Labels, imminent.Annotations, imminent.GeneratorURL)
	}
	breached := hooks.wait(t, "sla-ticket", "SupportSLACaseBreached", "firing", labels)
	if want := due.Add(time.Second); !breached.StartsAt.Equal(want) {
		t.Errorf("SupportSLACaseBreached startsAt %s, want one second after the due, %s", breached.StartsAt, want)
	}
	got := hooks.arrived("SupportSLACaseBreached", "firing")
	const groupWait = time.Second // testAlertmanagerConfig's
	delay := got.Sub(due) - groupWait
	t.Logf("due %s; SupportSLACaseBreached at the receiver %s: %s after the due, %s minus group_wait",
		due.Format(time.RFC3339), got.Format(time.RFC3339Nano), got.Sub(due).Round(time.Millisecond), delay.Round(time.Millisecond))
	if delay > 3*time.Second {
		t.Errorf("SupportSLACaseBreached reached the receiver %s after the due, beyond group_wait", delay)
	}
	if got.Before(due) {
		t.Errorf("SupportSLACaseBreached reached the receiver before the due")
	}
	hooks.wait(t, "sla-page", "SupportSLACaseBreachImminent", "resolved", labels)
	if promErr == nil {
		hooks.wait(t, "sla-ticket", "SupportSLABreached", "firing", map[string]string{"source": "helpdesk", "tier": "premium", "case_severity": "1", "target": "first_response"})
		rule := hooks.arrived("SupportSLABreached", "firing")
		t.Logf("rule-based SupportSLABreached at the receiver %s: %s after the due, %s minus group_wait (scrape and evaluation every 1s, no for)",
			rule.Format(time.RFC3339Nano), rule.Sub(due).Round(time.Millisecond), (rule.Sub(due) - groupWait).Round(time.Millisecond))
	}

	// The case is answered: the breach resolves.
	kase["first_response"] = time.Now().UTC().Format(time.RFC3339)
	writeCases(t, casesFile, []map[string]any{kase})
	hooks.wait(t, "sla-ticket", "SupportSLACaseBreached", "resolved", labels)
}
