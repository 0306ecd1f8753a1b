package servicenow

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
	"github.com/support-sla/support_sla_exporter/sources/servicenow/snowfake"
)

func TestNote(t *testing.T) {
	const text = "SLA first response due 14:05 UTC, 15 min left"
	tests := []struct {
		name     string
		id       string
		setup    func(f *snowfake.Server)
		password string // the source's password; the fake's when empty
		notes    int    // work notes that land on incident 1
		code     int    // the error's HTTP status; 0 no error
		sleeps   []time.Duration
		request  int // requests to the record's path
	}{
		{name: "work note", id: id(1), notes: 1, request: 1},
		{name: "deleted record", id: id(9), code: http.StatusNotFound, request: 1},
		{name: "rate limited", id: id(1), notes: 1, request: 2, sleeps: []time.Duration{17 * time.Second},
			setup: func(f *snowfake.Server) {
				f.Inject(snowfake.Fault{Path: incidentPath + "/" + id(1), Code: http.StatusTooManyRequests, RetryAfter: 17})
			}},
		{name: "ACL", id: id(1), code: http.StatusForbidden, request: 1,
			setup: func(f *snowfake.Server) { f.DenyNotes(true) }},
		{name: "wrong password", id: id(1), password: "wrong-s3cret-pass", code: http.StatusUnauthorized, request: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := snowfake.New(user, password)
			srv := httptest.NewTLSServer(fake)
			t.Cleanup(srv.Close)
			fake.AddIncident(snowfake.Incident{SysID: id(1), Number: "INC0000001", Opened: at("2026-03-02T09:15:00Z"), CallerUser: caller})
			if tt.setup != nil {
				tt.setup(fake)
			}
			pass := password
			if tt.password != "" {
				pass = tt.password
			}
			s, err := decode(t, "type: servicenow\nname: snow\nurl: "+srv.URL+"\nusername: "+user+"\npassword: ${SN_PASS}\n",
				map[string]string{"SN_PASS": pass})
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
				for _, secret := range []string{password, pass} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error shows the credential: %v", err)
					}
				}
				if !strings.Contains(err.Error(), "incident "+tt.id) {
					t.Errorf("the error %q does not name incident %s", err, tt.id)
				}
			}
			notes := fake.Notes(id(1))
			if len(notes) != tt.notes {
				t.Fatalf("%d notes on incident 1, want %d: %+v", len(notes), tt.notes, notes)
			}
			for _, n := range notes {
				if n.Element != "work_notes" || n.Value != text {
					t.Errorf("note %+v, want a work note with %q", n, text)
				}
			}
			path := incidentPath + "/" + tt.id
			if got := fake.Requests(path); got != tt.request {
				t.Errorf("%d requests to %s, want %d", got, path, tt.request)
			}
			if got := clock.Sleeps(); len(got) != len(tt.sleeps) || (len(got) > 0 && got[0] != tt.sleeps[0]) {
				t.Errorf("sleeps %v, want %v", got, tt.sleeps)
			}
		})
	}
}
