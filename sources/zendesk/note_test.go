package zendesk

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
	"github.com/support-sla/support_sla_exporter/sources/rest"
	"github.com/support-sla/support_sla_exporter/sources/zendesk/zendeskfake"
)

func TestNote(t *testing.T) {
	const text = "SLA first response due 14:05 UTC, 15 min left"
	tests := []struct {
		name    string
		id      string
		setup   func(f *zendeskfake.Server)
		token   string // the source's token; the fake's when empty
		notes   int    // private notes that land on ticket 300
		code    int    // the error's HTTP status; 0 no error
		sleeps  []time.Duration
		request int // requests to the ticket's path
	}{
		{name: "private note", id: "300", notes: 1, request: 1},
		{name: "missing ticket", id: "399", code: http.StatusNotFound, request: 1},
		{name: "deleted ticket", id: "300", code: http.StatusNotFound, request: 1,
			setup: func(f *zendeskfake.Server) { f.Delete(300, now) }},
		{name: "closed ticket", id: "300", code: http.StatusUnprocessableEntity, request: 1,
			setup: func(f *zendeskfake.Server) { f.Change(300, now, agent, "status", "closed") }},
		{name: "rate limited", id: "300", notes: 1, request: 2, sleeps: []time.Duration{17 * time.Second},
			setup: func(f *zendeskfake.Server) {
				f.Inject(zendeskfake.Fault{Path: zendeskfake.TicketPath(300), Code: http.StatusTooManyRequests, RetryAfter: 17})
			}},
		{name: "may not edit", id: "300", code: http.StatusForbidden, request: 1,
			setup: func(f *zendeskfake.Server) { f.DenyNotes(true) }},
		{name: "wrong token", id: "300", token: "wrong-s3cret-token", code: http.StatusUnauthorized, request: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := zendeskfake.New(email, apiToken)
			srv := httptest.NewTLSServer(fake)
			t.Cleanup(srv.Close)
			fake.AddTicket(zendeskfake.Ticket{ID: 300, CreatedAt: at("2026-03-02T09:15:00Z"), RequesterID: customer, Status: "open"})
			if tt.setup != nil {
				tt.setup(fake)
			}
			tok := apiToken
			if tt.token != "" {
				tok = tt.token
			}
			s, err := decode(t, "type: zendesk\nname: zd\nurl: "+srv.URL+"\nemail: "+email+"\ntoken: ${ZD_TOKEN}\n",
				map[string]string{"ZD_TOKEN": tok})
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
				for _, secret := range []string{apiToken, tok} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error shows the credential: %v", err)
					}
				}
				if !strings.Contains(err.Error(), "ticket "+tt.id) {
					t.Errorf("the error %q does not name ticket %s", err, tt.id)
				}
			}
			notes := fake.Notes(300)
			if len(notes) != tt.notes {
				t.Fatalf("%d notes on ticket 300, want %d: %+v", len(notes), tt.notes, notes)
			}
			for _, n := range notes {
				if n.Public || n.Body != text {
					t.Errorf("note %+v, want a private comment with %q", n, text)
				}
			}
			path := "/api/v2/tickets/" + tt.id + ".json"
			if got := fake.Requests(path); got != tt.request {
				t.Errorf("%d requests to %s, want %d", got, path, tt.request)
			}
			if got := clock.Sleeps(); len(got) != len(tt.sleeps) || (len(got) > 0 && got[0] != tt.sleeps[0]) {
				t.Errorf("sleeps %v, want %v", got, tt.sleeps)
			}
		})
	}
}
