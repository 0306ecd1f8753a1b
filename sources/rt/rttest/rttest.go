// Package rttest drives the real Request Tracker that
// scripts/e2e/rt5-up.sh starts, for the tests that need one: it reads the
// server's address and credentials from the environment, writes tickets
// through REST2 as the customer, the agent or root, and back-dates them in
// RT's SQLite database, which REST2 cannot do.
package rttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NotRunning is why a test skips without a server.
const NotRunning = "Request Tracker is not running: start it with scripts/e2e/rt5-up.sh and load /tmp/support-sla-e2e/rt5/env (make e2e does both)"

// DefaultDB is where the Debian package keeps RT's SQLite database.
const DefaultDB = "/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb"

// Server is a running RT 5.
type Server struct {
	URL      string // RT_URL, the web address
	Token    string // RT_TOKEN, root's
	Customer string // RT_CUSTOMER, user:password of the requestor
	Agent    string // RT_AGENT, user:password of a staff member
	Queue    string // RT_QUEUE, SLA enabled
	DB       string // RT_DB, the SQLite database
}

// FromEnv is the server the environment names (what
// /tmp/support-sla-e2e/rt5/env exports); without RT_URL and RT_TOKEN the
// test is skipped.
func FromEnv(t testing.TB) *Server {
	t.Helper()
	s := &Server{URL: strings.TrimRight(os.Getenv("RT_URL"), "/"), Token: os.Getenv("RT_TOKEN"),
		Customer: os.Getenv("RT_CUSTOMER"), Agent: os.Getenv("RT_AGENT"), Queue: os.Getenv("RT_QUEUE"), DB: os.Getenv("RT_DB")}
	if s.URL == "" || s.Token == "" {
		t.Skip(NotRunning)
	}
	if s.Customer == "" {
		s.Customer = "customer:customerpass"
	}
	if s.Agent == "" {
		s.Agent = "agent:agentpass"
	}
	if s.Queue == "" {
		s.Queue = "Support"
	}
	if s.DB == "" {
		s.DB = DefaultDB
	}
	return s
}

// Root, the customer and the agent: who a call is made as.
const (
	Root     = "root"
	Customer = "customer"
	Agent    = "agent"
)

// client bounds every call: a stuck RT fails the test rather than hang it.
var client = &http.Client{Timeout: time.Minute}

// Call sends a REST2 request as who and decodes the JSON answer into out
// (when not nil); an answer other than 2xx fails the test.
func (s *Server) Call(t testing.TB, who, method, path string, body, out any) {
	t.Helper()
	if err := s.call(who, method, path, body, out); err != nil {
		t.Fatal(err)
	}
}

// call is Call without a test: cleanups run after the test's context
// ends, and one that fails must not fail the test.
func (s *Server) call(who, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+"/REST/2.0"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	switch who {
	case Root:
		req.Header.Set("Authorization", "token "+s.Token)
	case Customer, Agent:
		cred := s.Customer
		if who == Agent {
			cred = s.Agent
		}
		u, p, _ := strings.Cut(cred, ":")
		req.SetBasicAuth(u, p)
	default:
		return fmt.Errorf("unknown RT user %q", who)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s as %s: HTTP %d: %s", method, path, who, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w: %s", method, path, err, b)
		}
	}
	return nil
}

// Create makes a ticket in the queue as the customer, who is its
// requestor (so that RT sets a Response deadline), with the extra fields
// (SLA, Priority …), and returns its id.
func (s *Server) Create(t testing.TB, subject string, fields map[string]any) string {
	t.Helper()
	body := map[string]any{"Queue": s.Queue, "Subject": subject, "Requestor": userOf(s.Customer),
		"Content": "Please help.", "ContentType": "text/plain"}
	for k, v := range fields {
		body[k] = v
	}
	var out struct {
		ID string `json:"id"`
	}
	s.Call(t, Customer, http.MethodPost, "/ticket", body, &out)
	if out.ID == "" {
		t.Fatal("RT created a ticket without an id")
	}
	return out.ID
}

// DeleteAtEnd deletes a ticket when the test t ends, so that tests do not
// pile up open tickets in RT.
func (s *Server) DeleteAtEnd(t testing.TB, id string) {
	t.Cleanup(func() {
		_ = s.call(Root, http.MethodPut, "/ticket/"+id, map[string]any{"Status": "deleted"}, nil)
	})
}

// MaxID is the highest ticket id so far (0 for none): a test reads the
// tickets after it, not those of earlier runs.
func (s *Server) MaxID(t testing.TB) int {
	t.Helper()
	var out struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	s.Call(t, Root, http.MethodGet, "/tickets?query=id%3E0&orderby=id&order=DESC&per_page=1", nil, &out)
	if len(out.Items) == 0 {
		return 0
	}
	n, err := strconv.Atoi(out.Items[0].ID)
	if err != nil {
		t.Fatalf("ticket id %q", out.Items[0].ID)
	}
	return n
}

// Reply adds a reply (Correspond) to a ticket as who.
func (s *Server) Reply(t testing.TB, who, id string) {
	t.Helper()
	s.Call(t, who, http.MethodPost, "/ticket/"+id+"/correspond", map[string]any{"Content": "A reply.", "ContentType": "text/plain"}, nil)
}

// Update sets a ticket's fields (Status, Priority, SLA …) as who.
func (s *Server) Update(t testing.TB, who, id string, fields map[string]any) {
	t.Helper()
	s.Call(t, who, http.MethodPut, "/ticket/"+id, fields, nil)
}

// Ticket reads a ticket as root.
func (s *Server) Ticket(t testing.TB, id string) map[string]any {
	t.Helper()
	var out map[string]any
	s.Call(t, Root, http.MethodGet, "/ticket/"+id, nil, &out)
	return out
}

func userOf(cred string) string {
	u, _, _ := strings.Cut(cred, ":")
	return u
}

// LastTxn is the id of the latest transaction on a ticket.
func (s *Server) LastTxn(t testing.TB, id string) int {
	t.Helper()
	out := s.SQL(t, "SELECT COALESCE(MAX(id), 0) FROM Transactions WHERE ObjectType = 'RT::Ticket' AND ObjectId = "+num(t, id)+";")
	n, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("the latest transaction of ticket %s: %q", id, out)
	}
	return n
}

// Backdate moves a ticket's transactions with ids in (after, upto] to the
// instant at.
func (s *Server) Backdate(t testing.TB, id string, after, upto int, at time.Time) {
	t.Helper()
	s.SQL(t, fmt.Sprintf("UPDATE Transactions SET Created = '%s' WHERE ObjectType = 'RT::Ticket' AND ObjectId = %s AND id > %d AND id <= %d;",
		at.UTC().Format(time.DateTime), num(t, id), after, upto))
}

// SetDates sets a ticket's own date columns (Created, Resolved, Started,
// LastUpdated …) to instants.
func (s *Server) SetDates(t testing.TB, id string, dates map[string]time.Time) {
	t.Helper()
	var set []string
	for col, at := range dates {
		if strings.ContainsFunc(col, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') }) {
			t.Fatalf("bad column %q", col)
		}
		set = append(set, col+" = '"+at.UTC().Format(time.DateTime)+"'")
	}
	s.SQL(t, "UPDATE Tickets SET "+strings.Join(set, ", ")+" WHERE id = "+num(t, id)+";")
}

// SQL runs statements on RT's database with the sqlite3 program (RT keeps
// the file open: wait for its locks) and returns the output.
func (s *Server) SQL(t testing.TB, stmt string) string {
	t.Helper()
	if _, err := os.Stat(s.DB); err != nil {
		t.Skipf("RT's database is not here (%v): these tests run on the machine RT runs on, as root", err)
	}
	out, err := exec.CommandContext(t.Context(), "sqlite3", "-cmd", ".timeout 10000", s.DB, stmt).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v: %s", stmt, err, out)
	}
	return strings.TrimSpace(string(out))
}

func num(t testing.TB, id string) string {
	t.Helper()
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("ticket id %q is not a number", id)
	}
	return id
}
