// Package redminetest drives the real Redmine that scripts/e2e/redmine-up.sh
// starts, for the tests that run against it: it reads the env file's
// variables, creates, changes and deletes issues through the REST API, and
// back-dates them in the SQLite database (Redmine's API cannot set
// created_on or a journal's date).
package redminetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// SkipMessage says how to start Redmine when it is not running.
const SkipMessage = "Redmine is not running: start it with scripts/e2e/redmine-up.sh and load /tmp/support-sla-e2e/redmine/env (make e2e does both)"

// defaultDB is where Debian's redmine-sqlite keeps the database.
const defaultDB = "/var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default"

// Server is a running Redmine.
type Server struct {
	URL      string
	Key      string // admin's API key
	AgentKey string // a Developer of Project
	Project  string
	DB       string // the SQLite database
}

// FromEnv is the Redmine of the environment (REDMINE_URL, REDMINE_API_KEY,
// REDMINE_AGENT_API_KEY, REDMINE_PROJECT, REDMINE_DB), or skips the test.
func FromEnv(t testing.TB) *Server {
	t.Helper()
	s := &Server{URL: os.Getenv("REDMINE_URL"), Key: os.Getenv("REDMINE_API_KEY"),
		AgentKey: os.Getenv("REDMINE_AGENT_API_KEY"), Project: os.Getenv("REDMINE_PROJECT"), DB: os.Getenv("REDMINE_DB")}
	if s.URL == "" || s.Key == "" {
		t.Skip(SkipMessage)
	}
	if s.Project == "" {
		s.Project = "sla-test"
	}
	if s.AgentKey == "" {
		s.AgentKey = s.Key
	}
	if s.DB == "" {
		s.DB = defaultDB
	}
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Skip(SkipMessage + ": " + err.Error())
	}
	resp.Body.Close()
	return s
}

// Do sends a request with key and decodes a JSON answer into out (when
// not nil); it fails the test on any answer but 2xx.
func (s *Server) Do(t testing.TB, key, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Redmine-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: HTTP %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// Create makes an issue in the project as the user of key, with the given
// fields (subject, priority_id, status_id …), and returns its id.
func (s *Server) Create(t testing.TB, key string, fields map[string]any) int64 {
	t.Helper()
	f := map[string]any{"project_id": s.Project, "tracker_id": 3, "subject": "sla test"}
	for k, v := range fields {
		f[k] = v
	}
	var out struct {
		Issue struct {
			ID int64 `json:"id"`
		} `json:"issue"`
	}
	s.Do(t, key, http.MethodPost, "/issues.json", map[string]any{"issue": f}, &out)
	return out.Issue.ID
}

// Update changes an issue as the user of key (notes, private_notes,
// status_id, priority_id …) and returns the id of the journal it made.
func (s *Server) Update(t testing.TB, key string, id int64, fields map[string]any) int64 {
	t.Helper()
	s.Do(t, key, http.MethodPut, "/issues/"+strconv.FormatInt(id, 10)+".json", map[string]any{"issue": fields}, nil)
	js := s.Journals(t, id)
	if len(js) == 0 {
		t.Fatalf("issue %d: the update made no journal", id)
	}
	return js[len(js)-1]
}

// Journals are the ids of an issue's journals, oldest first.
func (s *Server) Journals(t testing.TB, id int64) []int64 {
	t.Helper()
	var out struct {
		Issue struct {
			Journals []struct {
				ID int64 `json:"id"`
			} `json:"journals"`
		} `json:"issue"`
	}
	s.Do(t, s.Key, http.MethodGet, "/issues/"+strconv.FormatInt(id, 10)+".json?include=journals", nil, &out)
	ids := make([]int64, 0, len(out.Issue.Journals))
	for _, j := range out.Issue.Journals {
		ids = append(ids, j.ID)
	}
	return ids
}

// Delete deletes an issue.
func (s *Server) Delete(t testing.TB, id int64) {
	t.Helper()
	s.Do(t, s.Key, http.MethodDelete, "/issues/"+strconv.FormatInt(id, 10)+".json", nil, nil)
}

// Backdate sets an issue's created_on (and start_date) and the given
// journals' dates, and its updated_on to updated (closed_on too when
// closed is not zero).
func (s *Server) Backdate(t testing.TB, id int64, created, updated, closed time.Time, journals map[int64]time.Time) {
	t.Helper()
	ts := func(x time.Time) string { return "'" + x.UTC().Format("2006-01-02 15:04:05") + "'" }
	sql := fmt.Sprintf("UPDATE issues SET created_on=%s, updated_on=%s, start_date='%s' WHERE id=%d;\n",
		ts(created), ts(updated), created.UTC().Format(time.DateOnly), id)
	if !closed.IsZero() {
		sql += fmt.Sprintf("UPDATE issues SET closed_on=%s WHERE id=%d;\n", ts(closed), id)
	}
	for j, at := range journals {
		sql += fmt.Sprintf("UPDATE journals SET created_on=%s WHERE id=%d AND journalized_id=%d;\n", ts(at), j, id)
	}
	s.SQL(t, sql)
}

// SQL runs statements on the database with the sqlite3 program.
func (s *Server) SQL(t testing.TB, sql string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "sqlite3", "-bail", "-cmd", ".timeout 10000", s.DB)
	cmd.Stdin = bytes.NewBufferString("BEGIN;\n" + sql + "COMMIT;\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3 %s: %v: %s (the test needs the sqlite3 program and write access to Redmine's database)", s.DB, err, out)
	}
}
