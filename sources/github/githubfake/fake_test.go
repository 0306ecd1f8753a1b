package githubfake

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, srv *httptest.Server, path, tok string) (*http.Response, []map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []map[string]any
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	return resp, out
}

func TestFake(t *testing.T) {
	f := New("tok")
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 150 {
		f.AddIssue("o/r", Issue{User: "bob", CreatedAt: t0.Add(time.Duration(i) * time.Minute), PullRequest: i%50 == 0})
	}
	f.Comment("o/r", 3, t0.Add(time.Hour), "alice", "OWNER")
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)

	resp, _ := get(t, srv, "/repos/o/r/issues", "wrong")
	if resp.StatusCode != 401 {
		t.Errorf("a wrong token: %d", resp.StatusCode)
	}
	// per_page is capped at 100; the Link header leads on; pull requests
	// are listed too; every answer has the rate-limit headers.
	resp, page := get(t, srv, "/repos/o/r/issues?state=all&per_page=500&sort=updated&direction=asc", "tok")
	if len(page) != 100 || !strings.Contains(resp.Header.Get("Link"), `page=2&per_page=500&sort=updated&state=all>; rel="next"`) {
		t.Errorf("%d issues, Link %q", len(page), resp.Header.Get("Link"))
	}
	if page[0]["pull_request"] == nil || page[0]["number"] != 1.0 || page[1]["pull_request"] != nil {
		t.Errorf("first issues %v %v", page[0]["number"], page[1]["number"])
	}
	if resp.Header.Get("X-RateLimit-Remaining") != "4999" || resp.Header.Get("X-RateLimit-Limit") != "5000" || resp.Header.Get("X-RateLimit-Reset") == "" {
		t.Errorf("rate-limit headers %v", resp.Header)
	}
	// since filters on updated_at.
	_, page = get(t, srv, "/repos/o/r/issues?state=all&since=2026-03-02T11:00:00Z&per_page=100", "tok")
	if len(page) != 30 {
		t.Errorf("since: %d issues, want 30", len(page))
	}
	// The shape of the documentation's example, with its nulls.
	b, err := os.ReadFile("../testdata/issues.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc []map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if want, got := slices.Sorted(maps.Keys(doc[1])), slices.Sorted(maps.Keys(page[0])); !slices.Equal(got, want) {
		t.Errorf("issue keys\n got %v\nwant %v", got, want)
	}
	_, comments := get(t, srv, CommentsPath("o/r", 3), "tok")
	if len(comments) != 1 || comments[0]["author_association"] != "OWNER" || comments[0]["created_at"] != "2026-03-02T10:00:00Z" {
		t.Errorf("comments %v", comments)
	}
	f.Delete("o/r", 3)
	if resp, _ := get(t, srv, EventsPath("o/r", 3), "tok"); resp.StatusCode != 410 {
		t.Errorf("a deleted issue's events: %d", resp.StatusCode)
	}
	f.Exhaust(time.Now().Add(time.Hour))
	if resp, _ := get(t, srv, "/repos/o/r/issues", "tok"); resp.StatusCode != 403 || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("limit used up: %d, remaining %q", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
}
