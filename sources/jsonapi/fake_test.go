package jsonapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
)

// fakePath is where the fake in-house API lists its tickets.
const fakePath = "/api/tickets"

// fake is an in-house ticket API as the tests imagine one: GET
// /api/tickets with a bearer token, an updated_since filter (RFC 3339),
// the tickets oldest update first in {"data": {"tickets": [...]}, "meta":
// {"next_cursor": ...}}, paged in one of the styles the source reads.
// Faults are injected through its Recorder.
type fake struct {
	Token string
	Style string // page, offset, cursor, link or none
	// Size is the page size when the client asks for none; Max caps what
	// it may ask.
	Size, Max int

	mu      sync.Mutex
	rec     fakeapi.Recorder
	tickets []*fakeTicket // oldest update first when not dirty
	dirty   bool
	byID    map[string]*fakeTicket
	queries []string // the query of every list request
}

// fakeTicket is a ticket: its body as the API answers it, and the update
// instant the filter and the order use.
type fakeTicket struct {
	ID      string
	Updated time.Time
	Body    map[string]any
}

func newFake(token, style string) *fake {
	return &fake{Token: token, Style: style, Size: 20, Max: 100}
}

// Put adds or replaces a ticket.
func (f *fake) Put(t fakeTicket) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.Body == nil {
		t.Body = map[string]any{}
	}
	t.Body["id"] = t.ID
	t.Body["updated_at"] = t.Updated.UTC().Format(time.RFC3339)
	f.dirty = true
	if old, ok := f.byID[t.ID]; ok {
		*old = t
		return
	}
	if f.byID == nil {
		f.byID = map[string]*fakeTicket{}
	}
	f.byID[t.ID] = &t
	f.tickets = append(f.tickets, &t)
}

// Update changes a ticket's body and moves its update instant to at.
func (f *fake) Update(id string, at time.Time, change func(body map[string]any)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.byID[id]
	if !ok {
		return false
	}
	change(t.Body)
	t.Updated, f.dirty = at, true
	t.Body["updated_at"] = at.UTC().Format(time.RFC3339)
	return true
}

func (f *fake) Inject(faults ...fakeapi.Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rec.Inject(faults...)
}

func (f *fake) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rec.Requests("")
}

// Queries returns and forgets the queries of the list requests so far.
func (f *fake) Queries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queries
	f.queries = nil
	f.rec.ResetCounts()
	return q
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rec.Count(r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	if fault, ok := f.rec.Take(r.URL.Path); ok {
		switch {
		case fault.Malformed:
			_, _ = w.Write([]byte(`{"data": {"tickets": [{"id": "T-`))
		default:
			if fault.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(fault.RetryAfter))
			}
			w.WriteHeader(fault.Code)
			_, _ = fmt.Fprintf(w, `{"error": %q}`, http.StatusText(fault.Code))
		}
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.Token {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error": "invalid token"}`))
		return
	}
	if r.URL.Path != fakePath {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error": "no such endpoint"}`))
		return
	}
	f.queries = append(f.queries, r.URL.RawQuery)
	q := r.URL.Query()
	if f.dirty {
		slices.SortStableFunc(f.tickets, func(a, b *fakeTicket) int {
			if c := a.Updated.Compare(b.Updated); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		f.dirty = false
	}
	list := f.tickets
	if s := q.Get("updated_since"); s != "" {
		since, err := time.Parse(time.RFC3339, s)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"error": "updated_since: %s is not RFC 3339"}`, s)
			return
		}
		i, _ := slices.BinarySearchFunc(list, since, func(t *fakeTicket, since time.Time) int {
			if t.Updated.Before(since) {
				return -1
			}
			return 1
		})
		list = list[i:]
	}
	size := f.Size
	number := func(name string, def int) (int, bool) {
		v := q.Get(name)
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"error": "%s: not a number"}`, name)
			return 0, false
		}
		return n, true
	}
	var ok bool
	sizeParam := map[string]string{"page": "per_page", "link": "per_page", "offset": "limit", "cursor": "limit"}[f.Style]
	if sizeParam != "" {
		if size, ok = number(sizeParam, f.Size); !ok {
			return
		}
		size = min(max(size, 1), f.Max)
	}
	start := 0
	switch f.Style {
	case "page", "link":
		p, ok := number("page", 1)
		if !ok {
			return
		}
		start = (max(p, 1) - 1) * size
	case "offset":
		if start, ok = number("offset", 0); !ok {
			return
		}
	case "cursor":
		if c := q.Get("cursor"); c != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(c, "after-"))
			if err != nil || !strings.HasPrefix(c, "after-") {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error": "bad cursor"}`))
				return
			}
			start = n
		}
	case "none":
		size = len(list)
	}
	start = min(start, len(list))
	end := min(start+size, len(list))
	page := list[start:end]
	var next any
	if end < len(list) {
		switch f.Style {
		case "cursor":
			next = "after-" + strconv.Itoa(end)
		case "link":
			nq := r.URL.Query()
			nq.Set("page", strconv.Itoa(end/size+1))
			nq.Set("per_page", strconv.Itoa(size))
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?%s>; rel="next", <http://%s%s?page=1>; rel="first"`, r.Host, fakePath, nq.Encode(), r.Host, fakePath))
		}
	}
	bodies := make([]map[string]any, len(page))
	for i, t := range page {
		bodies[i] = t.Body
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"tickets": bodies}, "meta": map[string]any{"next_cursor": next}})
}
