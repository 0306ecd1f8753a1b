package exporter_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/support-sla/support_sla_exporter/exporter"
)

// alertmanagerAPI records the alerts posted to /api/v2/alerts.
type alertmanagerAPI struct {
	mu    sync.Mutex
	posts []models.PostableAlerts
}

func (a *alertmanagerAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v2/alerts" {
		http.NotFound(w, r)
		return
	}
	var as models.PostableAlerts
	if err := json.NewDecoder(r.Body).Decode(&as); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.posts = append(a.posts, as)
	a.mu.Unlock()
}

// count is the number of posts with a firing alert of name for case id.
func (a *alertmanagerAPI) count(name, id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, p := range a.posts {
		for _, x := range p {
			if x.Labels["alertname"] == name && x.Labels["case"] == id && time.Time(x.EndsAt).After(time.Now()) {
				n++
			}
		}
	}
	return n
}

// With alerting.alertmanagers the exporter runs the bridge, restarts it on
// reload, and exposes its metrics.
func TestBridgeWiring(t *testing.T) {
	t.Parallel()
	am := &alertmanagerAPI{}
	srv := httptest.NewServer(am)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	created := time.Now().UTC().Add(-3 * time.Hour).Format(time.RFC3339)
	if err := os.WriteFile(filepath.Join(dir, "cases.jsonl"),
		[]byte(`{"id":"B-1","severity":1,"status":"open","created":"`+created+`"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`sources:
  - {name: helpdesk, type: file, path: cases.jsonl, policy: p}
alerting:
  alertmanagers: [%q]
`, srv.URL)
	e := start(t, exporter.Options{ConfigFile: writeConfig(t, dir, cfg), Registry: newFakes(t).registry()})
	waitFor(t, "SupportSLACaseBreached of B-1 posted", func() bool { return am.count("SupportSLACaseBreached", "B-1") > 0 })
	waitFor(t, "the post counted", func() bool {
		return gather(t, e.Registry())[`support_sla_bridge_alerts_sent_total{alertname="SupportSLACaseBreached"}`] >= 1
	})
	m := gather(t, e.Registry())
	for _, k := range []string{"support_sla_bridge_errors_total{}", "support_sla_bridge_pending_alerts{}"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s is not exposed", k)
		}
	}
	before := am.count("SupportSLACaseBreached", "B-1")
	if err := e.Reload(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new bridge posting", func() bool { return am.count("SupportSLACaseBreached", "B-1") > before })
}
