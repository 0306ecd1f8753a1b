package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
	"golang.org/x/crypto/bcrypt"

	"github.com/support-sla/support_sla_exporter/exporter"
	"github.com/support-sla/support_sla_exporter/sources/github"
	"github.com/support-sla/support_sla_exporter/sources/github/githubfake"
)

// TestWriteBackServe: the web configuration's basic authentication guards
// the webhook as it guards /metrics; an authenticated notification writes
// one comment on the GitHub issue (the fake), the next one none.
func TestWriteBackServe(t *testing.T) {
	const token, repo = "ghp_writeBackToken", "acme/support"
	fake := githubfake.New(token)
	n := fake.AddIssue(repo, githubfake.Issue{User: "bob", CreatedAt: fixedNow().Add(-time.Hour)})
	gh := httptest.NewServer(fake)
	t.Cleanup(gh.Close)
	t.Setenv("GH_TOKEN", token)

	dir := t.TempDir()
	password := "pw-writeback"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	cfg := filepath.Join(dir, "config.yml")
	for file, text := range map[string]string{
		webConfig: "basic_auth_users:\n  admin: " + string(hash) + "\n",
		cfg: "sources:\n  - name: gh\n    type: github\n    url: " + gh.URL + "\n    token: ${GH_TOKEN}\n    repositories: [" + repo + "]\n    policy: p\n" +
			"alerting:\n  write_back: true\n" +
			"policies:\n  p:\n    default_tier: basic\n    tiers:\n      basic:\n        calendar: 24x7\n        first_response: {1: 1h, 2: 2h, 3: 4h, 4: 8h}\n",
	} {
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)
	s := startServe(t, addr, "--web.listen-address="+addr, "--web.config.file="+webConfig, "--config.file="+cfg)
	s.waitReady(t, "admin", password)

	due := fixedNow().Add(15 * time.Minute)
	m := webhook.Message{Version: "4", Data: &template.Data{Receiver: "write-back", Status: "firing",
		Alerts: template.Alerts{wbAlert("firing", "gh", repo+"#1", "f00d", fixedNow(), due)}}}
	payload, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := github.NoteMarker + "SLA first response due " + wbDueText(due, fixedNow()) + ", 15 min left"
	for _, step := range []struct {
		name, user, password string
		code, comments       int
	}{
		{"no credentials", "", "", http.StatusUnauthorized, 0},
		{"a wrong password", "admin", password + "x", http.StatusUnauthorized, 0},
		{"the right password", "admin", password, http.StatusOK, 1},
		{"the same alert again", "admin", password, http.StatusOK, 1},
	} {
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+exporter.WebhookPath, bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		if step.user != "" {
			req.SetBasicAuth(step.user, step.password)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != step.code {
			t.Errorf("%s: POST %s: %d, want %d", step.name, exporter.WebhookPath, resp.StatusCode, step.code)
		}
		got := fake.Bodies(repo, n)
		if len(got) != step.comments || (len(got) > 0 && got[0] != want) {
			t.Errorf("%s: comments %q, want %d of %q", step.name, got, step.comments, want)
		}
	}
	if strings.Contains(s.stderr.String(), token) || strings.Contains(s.stderr.String(), password) {
		t.Errorf("the log holds a secret:\n%s", s.stderr)
	}
}

// mustInt is a numeric case id.
func mustInt(id string) int64 {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}

// TestWriteBackSaaS: through the webhook, an alert on a case of each SaaS
// source writes one note on its fake, and the next notification of the
// same alert none.
func TestWriteBackSaaS(t *testing.T) {
	for _, src := range saasSources {
		t.Run(src.name, func(t *testing.T) {
			keys, notes := src.serve(t)
			path := saasConfig(t, src.name, keys)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(b, "alerting: {write_back: true}\n"...), 0o600); err != nil {
				t.Fatal(err)
			}
			// The id of the case of the first scenario, as the source gives it.
			code, out, errOut := runMain(t, "--config.file="+path, "cases", "--format=json", "--at=2026-03-03T14:00:00Z")
			if code != 0 {
				t.Fatalf("cases: exit %d: %s", code, errOut)
			}
			var id string
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var l caseLine
				if err := json.Unmarshal([]byte(line), &l); err == nil && l.Key == src.key(1) {
					id = l.Case
					break
				}
			}
			if id == "" {
				t.Fatalf("no case with key %s:\n%s", src.key(1), out)
			}
			e, srv := wbServer(t, path)
			alert := wbAlert("firing", src.name, id, "5aa5", fixedNow(), fixedNow().Add(15*time.Minute))
			for i := 1; i <= 2; i++ {
				wbNotify(t, srv.URL, alert)
				if n := notes(id); n != 1 {
					t.Errorf("after notification %d: %d notes on case %s, want 1", i, n, id)
				}
			}
			if n := wbNotesWritten(t, e, src.name); n != 1 {
				t.Errorf("support_sla_writeback_notes_total{result=written} = %v, want 1", n)
			}
		})
	}
}
