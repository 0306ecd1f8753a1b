package rt

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
)

// fakeRT answers the three REST2 collections the source reads from
// items recorded on a real RT 5 (testdata/), paged as RT pages them. It
// does not run TicketSQL: it answers every search with all its tickets and
// records the queries for the tests to check.
type fakeRT struct {
	mu        sync.Mutex
	token     string
	tickets   []json.RawMessage
	histories map[string][]json.RawMessage
	removed   []json.RawMessage
	// uncounted answers pages and total null, as RT does for users who
	// may not see everything.
	uncounted bool
	queries   []string
	rec       fakeapi.Recorder
}

func (f *fakeRT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rec.Count(r.URL.Path)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if fault, ok := f.rec.Take(r.URL.Path); ok {
		if fault.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(fault.RetryAfter))
		}
		if fault.Malformed {
			_, _ = w.Write([]byte(`{"items": [{"id": "1", "Subj`))
			return
		}
		w.WriteHeader(fault.Code)
		_, _ = w.Write([]byte(`{"message":"` + http.StatusText(fault.Code) + `"}`))
		return
	}
	if r.Header.Get("Authorization") != "token "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Unauthorized"}`))
		return
	}
	var items []json.RawMessage
	switch p := r.URL.Path; {
	case p == ticketsPath:
		f.queries = append(f.queries, r.URL.Query().Get("query"))
		items = f.tickets
	case p == txnsPath:
		f.queries = append(f.queries, r.URL.Query().Get("query"))
		items = f.removed
	case strings.HasPrefix(p, apiPath+"/ticket/") && strings.HasSuffix(p, "/history"):
		id := strings.TrimSuffix(strings.TrimPrefix(p, apiPath+"/ticket/"), "/history")
		h, ok := f.histories[id]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Not Found"}`))
			return
		}
		items = h
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Not Found"}`))
		return
	}
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > 100 {
		per = 20
	}
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pg = max(pg, 1)
	lo, hi := min((pg-1)*per, len(items)), min(pg*per, len(items))
	out := map[string]any{"count": hi - lo, "page": pg, "per_page": per, "items": items[lo:hi]}
	if f.uncounted {
		out["total"], out["pages"] = nil, nil
	} else {
		out["total"], out["pages"] = len(items), (len(items)+per-1)/per
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeRT) requests(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rec.Requests(path)
}

func (f *fakeRT) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rec.ResetCounts()
	f.queries = nil
}

func (f *fakeRT) lastQueries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

// items reads the items of a recorded REST2 collection in testdata.
func items(t testing.TB, name string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p.Items
}

// recorded is a fake holding the tickets of testdata/search.json with
// their histories and the deletions of testdata/removed.json.
func recorded(t testing.TB) *fakeRT {
	t.Helper()
	f := &fakeRT{token: token, tickets: items(t, "search.json"), removed: items(t, "removed.json"),
		histories: map[string][]json.RawMessage{}}
	for _, id := range []string{"5", "6", "7", "8"} {
		f.histories[id] = items(t, "history-"+id+".json")
	}
	return f
}
