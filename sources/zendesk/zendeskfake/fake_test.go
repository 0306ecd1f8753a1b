package zendeskfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, target string, auth func(*http.Request)) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if auth != nil {
		auth(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var body map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w, body
}

func TestAuthAndPaging(t *testing.T) {
	s := New("a@b.example", "tok")
	s.OAuthToken = "oauth"
	s.PageSize = 2
	for i := range int64(3) {
		s.AddTicket(Ticket{ID: 10 + i, CreatedAt: time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC), RequesterID: 1})
	}
	basic := func(r *http.Request) { r.SetBasicAuth("a@b.example/token", "tok") }
	for name, auth := range map[string]func(*http.Request){
		"none":         nil,
		"wrong token":  func(r *http.Request) { r.SetBasicAuth("a@b.example/token", "nope") },
		"password":     func(r *http.Request) { r.SetBasicAuth("a@b.example", "tok") },
		"wrong bearer": func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") },
	} {
		w, body := get(t, s, ExportPath+"?start_time=0", auth)
		if w.Code != 401 || body["error"] != "Couldn't authenticate you" {
			t.Errorf("%s: %d %v", name, w.Code, body)
		}
	}
	w, body := get(t, s, ExportPath+"?start_time=0&include=organizations", basic)
	if w.Code != 200 || len(body["tickets"].([]any)) != 2 || body["end_of_stream"] != false || w.Header().Get("ratelimit-remaining") == "" {
		t.Fatalf("page 1: %d %v", w.Code, body)
	}
	first := body["tickets"].([]any)[0].(map[string]any)
	if first["created_at"] != "2026-03-02T09:15:00Z" || first["priority"] != nil || first["status"] != "new" {
		t.Errorf("ticket %v", first)
	}
	_, body = get(t, s, ExportPath+"?cursor="+body["after_cursor"].(string), func(r *http.Request) { r.Header.Set("Authorization", "Bearer oauth") })
	if len(body["tickets"].([]any)) != 1 || body["end_of_stream"] != true || !strings.Contains(body["after_url"].(string), "cursor=") {
		t.Fatalf("page 2: %v", body)
	}
	_, body = get(t, s, ExportPath+"?cursor="+body["after_cursor"].(string), basic)
	if len(body["tickets"].([]any)) != 0 || body["end_of_stream"] != true {
		t.Fatalf("page 3: %v", body)
	}
	if n := s.Requests(ExportPath); n != 7 {
		t.Errorf("%d requests counted, want 7", n)
	}

	s.Inject(Fault{Code: 429, RetryAfter: 3})
	if w, _ := get(t, s, AuditsPath(10), basic); w.Code != 429 || w.Header().Get("Retry-After") != "3" {
		t.Errorf("429: %d %v", w.Code, w.Header())
	}
	if w, body := get(t, s, AuditsPath(10), basic); w.Code != 200 || body["count"] != 1.0 {
		t.Errorf("audits: %d %v", w.Code, body)
	}
}
