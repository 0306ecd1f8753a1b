package freshdesk

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
	"github.com/support-sla/support_sla_exporter/sources/freshdesk/freshdeskfake"
	"github.com/support-sla/support_sla_exporter/sources/rest"
)

func TestNote(t *testing.T) {
	const text = "SLA first response due 14:05 UTC, 15 min left <now>\nsecond line"
	const html = "SLA first response due 14:05 UTC, 15 min left &lt;now&gt;<br>second line"
	tests := []struct {
		name    string
		id      string
		setup   func(f *freshdeskfake.Server)
		key     string // the source's API key; the fake's when empty
		notes   int    // private notes that land on ticket 101
		code    int    // the error's HTTP status; 0 no error
		sleeps  []time.Duration
		request int // requests to the notes path
	}{
		{name: "private note", id: "101", notes: 1, request: 1},
		{name: "missing ticket", id: "199", code: http.StatusNotFound, request: 1},
		{name: "deleted ticket", id: "101", code: http.StatusNotFound, request: 1,
			setup: func(f *freshdeskfake.Server) { f.DeleteTicket(101) }},
		{name: "rate limited", id: "101", notes: 1, request: 2, sleeps: []time.Duration{17 * time.Second},
			setup: func(f *freshdeskfake.Server) {
				f.Inject(freshdeskfake.Fault{Path: freshdeskfake.NotesPath(101), Code: http.StatusTooManyRequests, RetryAfter: 17})
			}},
		{name: "out of scope", id: "101", code: http.StatusForbidden, request: 1,
			setup: func(f *freshdeskfake.Server) { f.DenyNotes(true) }},
		{name: "wrong key", id: "101", key: "wrong-s3cret-key", code: http.StatusUnauthorized, request: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := freshdeskfake.New(apiKey)
			fake.Now = func() time.Time { return now }
			srv := httptest.NewTLSServer(fake)
			t.Cleanup(srv.Close)
			fake.AddTicket(freshdeskfake.Ticket{ID: 101, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer})
			if tt.setup != nil {
				tt.setup(fake)
			}
			key := apiKey
			if tt.key != "" {
				key = tt.key
			}
			s, err := decode(t, "type: freshdesk\nname: fd\nurl: "+srv.URL+"\napi_key: ${FD_KEY}\n", map[string]string{"FD_KEY": key})
			if err != nil {
				t.Fatal(err)
			}
			clock := fakeapi.NewClock(now)
			s.setTestClient(clock, srv.Client().Transport)

			err = s.Note(context.Background(), tt.id, text)
			var se *rest.StatusError
			switch {
			case tt.code == 0 && err != nil:
				t.Fatalf("Note: %v", err)
			case tt.code != 0 && (!errors.As(err, &se) || se.Code != tt.code):
				t.Fatalf("Note: got %v, want HTTP %d", err, tt.code)
			}
			if err != nil {
				for _, secret := range []string{apiKey, key} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error shows the credential: %v", err)
					}
				}
				if !strings.Contains(err.Error(), "ticket "+tt.id) {
					t.Errorf("the error %q does not name ticket %s", err, tt.id)
				}
			}
			notes := fake.Notes(101)
			if len(notes) != tt.notes {
				t.Fatalf("%d notes on ticket 101, want %d: %+v", len(notes), tt.notes, notes)
			}
			for _, n := range notes {
				if !n.Private || n.Body != html {
					t.Errorf("note %+v, want a private note with %q", n, html)
				}
			}
			path := "/api/v2/tickets/" + tt.id + "/notes"
			if got := fake.Requests(path); got != tt.request {
				t.Errorf("%d requests to %s, want %d", got, path, tt.request)
			}
			if got := clock.Sleeps(); len(got) != len(tt.sleeps) || (len(got) > 0 && got[0] != tt.sleeps[0]) {
				t.Errorf("sleeps %v, want %v", got, tt.sleeps)
			}
		})
	}
}

// TestNoteNotRead checks that the private note is not taken for the first
// response on the next poll.
func TestNoteNotRead(t *testing.T) {
	fake, s, _ := setup(t, "")
	fake.AddTicket(freshdeskfake.Ticket{ID: 101, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer})
	if err := s.Note(context.Background(), "101", "SLA breached"); err != nil {
		t.Fatal(err)
	}
	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cases) != 1 || !b.Cases[0].FirstResponse.IsZero() {
		t.Fatalf("cases %+v, want ticket 101 without a first response", b.Cases)
	}
}
