package jira

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/jira/jirafake"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

func TestNote(t *testing.T) {
	const text = "SLA first response due 14:05 UTC, 15 min left"
	tests := []struct {
		name    string
		id      string // the case id given to Note
		setup   func(f *jirafake.Server)
		token   string // the source's token; the fake's by default
		dc      bool   // Data Center with a personal access token
		notes   int    // internal comments that land on SUP-1
		code    int    // the error's HTTP status; 0 no error
		sleeps  []time.Duration
		errHas  string
		request int // requests to the endpoint
	}{
		{name: "internal comment", id: "10001", notes: 1, request: 1},
		{name: "by key", id: "SUP-1", notes: 1, request: 1},
		{name: "data center", id: "10001", dc: true, notes: 1, request: 1},
		{name: "data center, wrong token", id: "10001", dc: true, token: "wrong-s3cret-token", code: http.StatusUnauthorized, errHas: "10001", request: 1},
		{name: "deleted issue", id: "10999", code: http.StatusNotFound, errHas: "10999", request: 1},
		{name: "rate limited", id: "10001", notes: 1, request: 2, sleeps: []time.Duration{42 * time.Second},
			setup: func(f *jirafake.Server) {
				f.Inject(jirafake.Fault{Path: jirafake.RequestCommentPath("10001"), Code: http.StatusTooManyRequests, RetryAfter: 42})
			}},
		{name: "not an agent", id: "10001", code: http.StatusForbidden, errHas: "10001", request: 1,
			setup: func(f *jirafake.Server) { f.DenyNotes(true) }},
		{name: "wrong token", id: "10001", token: "wrong-s3cret-token", code: http.StatusUnauthorized, errHas: "10001", request: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeEmail, cfg := email, cloudCfg
			if tt.dc {
				fakeEmail, cfg = "", "flavor: datacenter\ntoken: ${JIRA_TOKEN}\n"
			}
			f, srv := newFake(t, fakeEmail, token)
			f.Put(plainIssue(1, now.Add(-time.Hour)))
			if tt.setup != nil {
				tt.setup(f)
			}
			tok := token
			if tt.token != "" {
				tok = tt.token
			}
			s, clock, err := newSource(t, srv.URL, cfg, map[string]string{"JIRA_TOKEN": tok})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Note(context.Background(), tt.id, text)
			var se *rest.StatusError
			switch {
			case tt.code == 0 && err != nil:
				t.Fatalf("Note: %v", err)
			case tt.code != 0 && (!errors.As(err, &se) || se.Code != tt.code):
				t.Fatalf("Note: got %v, want HTTP %d", err, tt.code)
			}
			if err != nil {
				for _, secret := range []string{token, tok} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error shows the credential: %v", err)
					}
				}
				if !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("the error %q does not name the case %s", err, tt.errHas)
				}
			}
			notes := f.Notes("SUP-1")
			if len(notes) != tt.notes {
				t.Fatalf("%d comments on SUP-1, want %d: %+v", len(notes), tt.notes, notes)
			}
			for _, n := range notes {
				if n.Public || n.Body != text {
					t.Errorf("comment %+v, want an internal comment with %q", n, text)
				}
			}
			path := jirafake.RequestCommentPath(tt.id)
			if got := f.Count(path); got != tt.request {
				t.Errorf("%d requests to %s, want %d", got, path, tt.request)
			}
			if got := clock.Sleeps(); len(got) != len(tt.sleeps) || (len(got) > 0 && got[0] != tt.sleeps[0]) {
				t.Errorf("sleeps %v, want %v", got, tt.sleeps)
			}
		})
	}
}

// TestNoteNotRead checks that the internal comment does not count as the
// first response on the next poll: it is not public (jsdPublic false).
func TestNoteNotRead(t *testing.T) {
	f, srv := newFake(t, email, token)
	f.Put(plainIssue(1, now.Add(-time.Hour)))
	s, _ := mustSource(t, srv.URL, cloudCfg)
	if err := s.Note(context.Background(), "10001", "SLA breached"); err != nil {
		t.Fatal(err)
	}
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 1 || !b.Cases[0].FirstResponse.IsZero() {
		t.Fatalf("cases %+v, want SUP-1 without a first response", b.Cases)
	}
}
