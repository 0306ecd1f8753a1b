package jsonapi

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

// backend is the fake in one paging style, for the conformance suite. A
// removed ticket is marked deleted, as the configuration's deleted key
// reads.
type backend struct {
	fake  *fake
	url   string
	style string
	mu    sync.Mutex
	next  int
}

func (b *backend) URL() string { return b.url }

func (b *backend) Config(url string, good bool) string {
	cfg := strings.ReplaceAll(fakeConfig(b.style), "URL", url)
	if !good {
		cfg = strings.Replace(cfg, "${TICKETS_TOKEN}", "${TICKETS_WRONG}", 1)
	}
	return cfg
}

func (b *backend) Env() map[string]string {
	return map[string]string{"TICKETS_TOKEN": token, "TICKETS_WRONG": "not-" + token}
}

func (b *backend) Create(testing.TB) string {
	b.mu.Lock()
	b.next++
	id := "C-" + strconv.Itoa(b.next)
	b.mu.Unlock()
	now := time.Now()
	b.fake.Put(fakeTicket{ID: id, Updated: now, Body: map[string]any{"created_at": now.UTC().Format(time.RFC3339), "state": "new"}})
	return id
}

func (b *backend) Change(t testing.TB, id string) {
	if !b.fake.Update(id, time.Now(), func(body map[string]any) { body["state"] = "pending_customer" }) {
		t.Fatalf("no ticket %s", id)
	}
}

func (b *backend) Remove(t testing.TB, id string) bool {
	if !b.fake.Update(id, time.Now(), func(body map[string]any) { body["deleted"] = true }) {
		t.Fatalf("no ticket %s", id)
	}
	return true
}

// MaxRequests: the pages of three, and one empty page after a full last
// one in the page and offset styles; no per-case request.
func (b *backend) MaxRequests(changed int) int { return changed/3 + 1 }

// TestConformance runs the suite in the page style, and in the cursor and
// link styles, which page differently.
func TestConformance(t *testing.T) {
	for _, style := range []string{"page", "cursor", "link"} {
		t.Run(style, func(t *testing.T) {
			f := newFake(token, style)
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			sourcetest.Run(t, New, &backend{fake: f, url: srv.URL, style: style})
		})
	}
}
