package snowfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	s := New("u", "p")
	s.Token = "tok"
	for i, id := range []string{"c", "a", "b"} {
		s.AddIncident(Incident{SysID: id, Number: "INC" + id, Opened: time.Date(2026, 3, 2, 9, i, 0, 0, time.UTC)})
	}
	w, body := get(t, s, TablePath("incident"), nil)
	if w.Code != 401 || !strings.Contains(w.Body.String(), `"message":"User Not Authenticated"`) || body["status"] != "failure" {
		t.Fatalf("no auth: %d %s", w.Code, w.Body)
	}
	q := url.Values{"sysparm_query": {"active=true^ORDERBYsys_id"}, "sysparm_limit": {"2"}, "sysparm_fields": {"sys_id,number"}}
	w, body = get(t, s, TablePath("incident")+"?"+q.Encode(), func(r *http.Request) { r.SetBasicAuth("u", "p") })
	res, _ := body["result"].([]any)
	if w.Code != 200 || len(res) != 2 || res[0].(map[string]any)["sys_id"] != "a" || w.Header().Get("X-Total-Count") != "3" ||
		!strings.Contains(w.Header().Get("Link"), `rel="next"`) {
		t.Fatalf("page 1: %d %v %v", w.Code, w.Header(), body)
	}
	if _, ok := res[0].(map[string]any)["state"]; ok {
		t.Errorf("sysparm_fields not applied: %v", res[0])
	}
	q.Set("sysparm_offset", "2")
	w, body = get(t, s, TablePath("incident")+"?"+q.Encode(), func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok") })
	res, _ = body["result"].([]any)
	if w.Code != 200 || len(res) != 1 || strings.Contains(w.Header().Get("Link"), `rel="next"`) {
		t.Fatalf("page 2: %d %v %v", w.Code, w.Header(), body)
	}
	if n := s.Requests(TablePath("incident")); n != 3 {
		t.Errorf("%d requests", n)
	}
}

func TestQuery(t *testing.T) {
	match, _, err := parseQuery("a=1^ORb>=5^cNOT INx,y^dISEMPTY")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		r    map[string]string
		want bool
	}{
		{map[string]string{"a": "1", "c": "z"}, true},
		{map[string]string{"b": "7", "c": "z"}, true},
		{map[string]string{"a": "2", "b": "4"}, false},
		{map[string]string{"a": "1", "c": "x"}, false},
		{map[string]string{"a": "1", "d": "q"}, false},
	} {
		if got := match(tc.r); got != tc.want {
			t.Errorf("%v: %v", tc.r, got)
		}
	}
	if _, _, err := parseQuery("a=1^NQb=2"); err == nil {
		t.Error("^NQ accepted")
	}
}
