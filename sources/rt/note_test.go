package rt

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
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
	if r.Header.Get("Authorization") != "token "+token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(n.code)
	_, _ = io.WriteString(w, `["Comments added"]`)
}

// Note writes a comment (never a correspond) through REST2.
func TestNote(t *testing.T) {
	for _, c := range []struct {
		name, id string
		code     int
		want     []string
		err      string
	}{
		{"a comment", "42", http.StatusCreated,
			[]string{`POST /REST/2.0/ticket/42/comment application/json {"Content":"SLA first response due 14:05 UTC, 15 min left","ContentType":"text/plain"}`}, ""},
		{"not a number", "42/correspond", 0, nil, "not an RT ticket number"},
		{"zero", "0", 0, nil, "not an RT ticket number"},
		{"refused", "43", http.StatusForbidden,
			[]string{`POST /REST/2.0/ticket/43/comment application/json {"Content":"SLA first response due 14:05 UTC, 15 min left","ContentType":"text/plain"}`},
			"ticket 43: comment: POST /REST/2.0/ticket/43/comment: HTTP 403 (the API user lacks a permission)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := &noteServer{code: c.code}
			srv := httptest.NewServer(ns)
			t.Cleanup(srv.Close)
			s, err := decode(t, "type: rt\nurl: "+srv.URL+"\ntoken: ${RT_TOKEN}\n", map[string]string{"RT_TOKEN": token})
			if err != nil {
				t.Fatal(err)
			}
			s.setTestClient(fakeapi.NewClock(now), nil)
			err = s.Note(context.Background(), c.id, "SLA first response due 14:05 UTC, 15 min left")
			if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
				t.Errorf("error %v, want %q", err, c.err)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("the error holds the token: %v", err)
			}
			if strings.Join(ns.got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("requests\n%s\nwant\n%s", strings.Join(ns.got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
