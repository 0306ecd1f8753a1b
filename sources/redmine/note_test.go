package redmine

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// noteServer records the requests of Note and answers code.
type noteServer struct {
	code int
	mu   sync.Mutex
	got  []string // "METHOD path content-type body"
}

func (n *noteServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	n.mu.Lock()
	n.got = append(n.got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
	n.mu.Unlock()
	if r.Header.Get("X-Redmine-API-Key") != testKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(n.code) // Redmine answers 204 No Content
}

// Note writes a private note.
func TestNote(t *testing.T) {
	const text = "SLA resolution breached: due 09:00 UTC, 12 min ago"
	body := `{"issue":{"notes":"SLA resolution breached: due 09:00 UTC, 12 min ago","private_notes":true}}`
	for _, c := range []struct {
		name, id string
		code     int
		want     []string
		err      string
	}{
		{"a private note", "17", http.StatusNoContent, []string{"PUT /issues/17.json application/json " + body}, ""},
		{"not a number", "17.json?x=1", 0, nil, "not a Redmine issue number"},
		{"gone", "18", http.StatusNotFound, []string{"PUT /issues/18.json application/json " + body}, "issue 18: private note: PUT /issues/18.json: HTTP 404"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := &noteServer{code: c.code}
			srv := httptest.NewServer(ns)
			t.Cleanup(srv.Close)
			s, err := newSource(t, srv.URL, "", time.Date(2026, 3, 3, 9, 12, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			s.setTestClient(nil, nil)
			err = s.Note(context.Background(), c.id, text)
			if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
				t.Errorf("error %v, want %q", err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Errorf("the error holds the key: %v", err)
			}
			if strings.Join(ns.got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("requests\n%s\nwant\n%s", strings.Join(ns.got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
