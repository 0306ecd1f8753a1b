package freshdeskfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, srv *httptest.Server, key, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.SetBasicAuth(key, "X")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServer(t *testing.T) {
	f := New("key")
	created := time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)
	for i := range int64(5) {
		f.AddTicket(Ticket{ID: 1 + i, CreatedAt: created.Add(time.Duration(i) * time.Minute)})
	}
	f.Reply(1, created.Add(time.Hour), 9, false, false, true)
	srv := httptest.NewTLSServer(f)
	defer srv.Close()

	resp, body := get(t, srv, "wrong", TicketsPath)
	if resp.StatusCode != 401 || !strings.Contains(body, `"code":"invalid_credentials"`) || !strings.Contains(body, "You have to be logged in") {
		t.Errorf("bad key: %d %s", resp.StatusCode, body)
	}

	// The list embeds requester, stats and description only.
	resp, body = get(t, srv, "key", TicketsPath+"?include=stats,company")
	if resp.StatusCode != 400 || !strings.Contains(body, `"field":"include"`) {
		t.Errorf("include=company on the list: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, srv, "key", TicketsPath+"?updated_since=2026-03-01T00:00:00Z&order_by=updated_at&order_type=asc&per_page=2&include=stats")
	var page []map[string]any
	if err := json.Unmarshal([]byte(body), &page); err != nil || resp.StatusCode != 200 || len(page) != 2 {
		t.Fatalf("page 1: %d %s", resp.StatusCode, body)
	}
	if page[0]["id"].(float64) != 2 || page[0]["stats"] == nil {
		t.Errorf("page 1 order or stats: %s", body)
	}
	link := resp.Header.Get("Link")
	if !strings.Contains(link, "page=2") || !strings.HasSuffix(link, `>; rel="next"`) {
		t.Errorf("link %q", link)
	}
	next := strings.TrimPrefix(strings.TrimSuffix(link, `>; rel="next"`), "<"+srv.URL)
	resp, _ = get(t, srv, "key", next)
	if resp.Header.Get("Link") == "" {
		t.Errorf("page 2 has no next link")
	}
	resp, _ = get(t, srv, "key", TicketsPath+"?per_page=101")
	if resp.StatusCode != 400 {
		t.Errorf("per_page 101: %d", resp.StatusCode)
	}
	f.Inject(Fault{Path: ConversationsPath(1), Code: 429, RetryAfter: 9})
	resp, _ = get(t, srv, "key", ConversationsPath(1))
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "9" {
		t.Errorf("429: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	_, body = get(t, srv, "key", ConversationsPath(1))
	if !strings.Contains(body, `"incoming":false`) {
		t.Errorf("conversations: %s", body)
	}
	f.AddCompany(7, "Acme")
	if _, body := get(t, srv, "key", "/api/v2/companies/7"); !strings.Contains(body, `"name":"Acme"`) {
		t.Errorf("company 7: %s", body)
	}
	if resp, _ := get(t, srv, "key", "/api/v2/companies/8"); resp.StatusCode != 404 {
		t.Errorf("unknown company: %d", resp.StatusCode)
	}
	if f.Requests(TicketsPath) != 5 || f.Requests(ConversationsPath(1)) != 2 || f.Requests("") != 9 {
		t.Errorf("counts %d %d %d", f.Requests(TicketsPath), f.Requests(ConversationsPath(1)), f.Requests(""))
	}
}
