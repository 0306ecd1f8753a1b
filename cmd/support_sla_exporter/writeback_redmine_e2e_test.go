package main

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/redmine/redminetest"
)

// TestWriteBackRedmineE2E: an alert on an issue of the real Redmine,
// posted to the webhook, writes one private note per state, and the next
// notification of the same alert none.
func TestWriteBackRedmineE2E(t *testing.T) {
	srv := redminetest.FromEnv(t)
	id := srv.Create(t, srv.Key, map[string]any{"subject": "e2e " + t.Name(), "priority_id": prioUrgent})
	defer srv.Delete(t, id) // before the test's context ends
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "key.txt"), []byte(srv.Key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("%URL%", srv.URL, "%PROJECT%", srv.Project).Replace(redmineE2EConfig) + "alerting:\n  write_back: true\n"
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	e, web := wbServer(t, path)

	notes := func() (texts []string, public int) {
		var out struct {
			Issue struct {
				Journals []struct {
					Notes        string `json:"notes"`
					PrivateNotes bool   `json:"private_notes"`
				} `json:"journals"`
			} `json:"issue"`
		}
		srv.Do(t, srv.Key, http.MethodGet, "/issues/"+strconv.FormatInt(id, 10)+".json?include=journals", nil, &out)
		for _, j := range out.Issue.Journals {
			if j.Notes == "" {
				continue
			}
			texts = append(texts, j.Notes)
			if !j.PrivateNotes {
				public++
			}
		}
		return texts, public
	}
	for _, step := range wbSteps("redmine", strconv.FormatInt(id, 10), time.Now().UTC()) {
		wbNotify(t, web.URL, step.alert)
		got, public := notes()
		if !slices.Equal(got, step.want) {
			t.Errorf("%s: the issue's notes are %q, want %q", step.name, got, step.want)
		}
		if public != 0 {
			t.Errorf("%s: %d notes are public, want all private", step.name, public)
		}
	}
	if got := wbNotesWritten(t, e, "redmine"); got != 2 {
		t.Errorf("%v notes counted as written, want 2", got)
	}
}
