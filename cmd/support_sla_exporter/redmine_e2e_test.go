package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/redmine/redminetest"
)

// redmineE2EConfig is a 24x7 policy whose resolution pauses while the
// customer is asked for feedback; %s are the URL and the project.
const redmineE2EConfig = `sources:
  - name: redmine
    type: redmine
    url: %URL%
    api_key_file: key.txt
    projects: [%PROJECT%]
    policy: e2e
policies:
  e2e:
    default_tier: standard
    default_severity: 3
    pause_statuses: [pending_customer]
    tiers:
      standard:
        calendar: 24x7
        first_response: {1: 1h, 2: 4h, 3: 8h, 4: 24h}
        resolution: {1: 4h, 2: 24h, 3: 72h, 4: 120h}
`

// Redmine's default data (redmine:load_default_data), which
// scripts/e2e/redmine-up.sh loads.
const (
	prioLow, prioNormal, prioHigh, prioUrgent, prioImmediate = 1, 2, 3, 4, 5
	statusResolved, statusFeedback                           = 3, 4
)

// TestRedmineStates seeds the real Redmine with a case in each state,
// back-dated to fixed instants, and checks what `cases` computes for them.
func TestRedmineStates(t *testing.T) {
	srv := redminetest.FromEnv(t)
	at := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	h := func(day, hour, minute int) time.Time { return time.Date(2026, 3, day, hour, minute, 0, 0, time.UTC) }

	// step is one change made by a user, at a back-dated instant.
	type step struct {
		agent  bool // else the author (admin)
		at     time.Time
		fields map[string]any
	}
	type want struct{ firstResponse, resolution string }
	cases := []struct {
		name     string
		priority int
		created  time.Time
		steps    []step
		severity int
		want     want
	}{
		{"responded in time", prioNormal, h(4, 8, 0),
			[]step{{true, h(4, 9, 0), map[string]any{"notes": "On it."}}},
			3, want{"met", "ok"}},
		{"responded late", prioNormal, h(3, 8, 0),
			[]step{{true, h(3, 20, 0), map[string]any{"notes": "Sorry for the wait."}}},
			3, want{"missed", "ok"}},
		{"never responded", prioHigh, h(4, 6, 0), []step{
			// Neither the author's own note nor a private note is a response.
			{false, h(4, 7, 0), map[string]any{"notes": "Any news?"}},
			{true, h(4, 7, 30), map[string]any{"notes": "internal: check logs", "private_notes": true}},
		}, 2, want{"breached", "ok"}},
		{"paused for feedback", prioNormal, h(4, 0, 0), []step{
			{true, h(4, 1, 0), map[string]any{"notes": "Which version do you run?"}},
			{true, h(4, 2, 0), map[string]any{"status_id": statusFeedback}},
		}, 3, want{"met", "paused"}},
		{"severity raised", prioLow, h(4, 2, 0),
			// Low would still be ok (10h of 24h); Immediate breaches both.
			[]step{{true, h(4, 3, 0), map[string]any{"priority_id": prioImmediate}}},
			1, want{"breached", "breached"}},
		{"resolved", prioUrgent, h(3, 10, 0), []step{
			{true, h(3, 10, 30), map[string]any{"notes": "Restarting the service."}},
			{true, h(3, 12, 0), map[string]any{"status_id": statusResolved, "notes": "Fixed."}},
		}, 1, want{"met", "met"}},
	}
	ids := map[string]string{} // issue id → case name
	for _, c := range cases {
		id := srv.Create(t, srv.Key, map[string]any{"subject": "e2e: " + c.name, "priority_id": c.priority})
		journals := map[int64]time.Time{}
		updated := c.created
		for _, s := range c.steps {
			key := srv.Key
			if s.agent {
				key = srv.AgentKey
			}
			journals[srv.Update(t, key, id, s.fields)] = s.at
			updated = s.at
		}
		srv.Backdate(t, id, c.created, updated, time.Time{}, journals)
		ids[strconv.FormatInt(id, 10)] = c.name
	}

	dir := t.TempDir()
	cfg := strings.NewReplacer("%URL%", srv.URL, "%PROJECT%", srv.Project).Replace(redmineE2EConfig)
	for name, data := range map[string]string{"config.yml": cfg, "key.txt": srv.AgentKey + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"--config.file=" + filepath.Join(dir, "config.yml"), "cases", "--format=json",
		"--at=" + at.Format(time.RFC3339)}, &out, &errOut, func() time.Time { return at })
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got := map[string]want{}
	sev := map[string]int{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var row struct {
			Case     string `json:"case"`
			Severity int    `json:"severity"`
			Target   string `json:"target"`
			State    string `json:"state"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		name, ok := ids[row.Case]
		if !ok {
			continue // an issue of another run
		}
		w := got[name]
		switch row.Target {
		case "first_response":
			w.firstResponse = row.State
			sev[name] = row.Severity
		case "resolution":
			w.resolution = row.State
		}
		got[name] = w
	}
	for _, c := range cases {
		if got[c.name] != c.want {
			t.Errorf("%s: first_response %q, resolution %q; want %q, %q", c.name,
				got[c.name].firstResponse, got[c.name].resolution, c.want.firstResponse, c.want.resolution)
		}
		if sev[c.name] != c.severity {
			t.Errorf("%s: severity %d, want %d", c.name, sev[c.name], c.severity)
		}
	}
}
