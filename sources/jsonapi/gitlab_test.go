package jsonapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/fakeapi"
	"github.com/support-sla/support_sla_exporter/strictyaml"
)

const gitlabToken = "glpat-example-token"

// gitlab serves testdata/gitlab-issues.json (GitLab's documented example
// of GET /projects/:id/issues, dated 2026, with an incident added) as
// GitLab does: PRIVATE-TOKEN, updated_after, page and per_page, and the
// Link and X-* paging headers. It caps per_page at 2 (GitLab at 100) so
// that the three issues take two pages.
func gitlab(t *testing.T) (*httptest.Server, *[]string) {
	t.Helper()
	data, err := os.ReadFile("testdata/gitlab-issues.json")
	if err != nil {
		t.Fatal(err)
	}
	var issues []json.RawMessage
	if err := json.Unmarshal(data, &issues); err != nil {
		t.Fatal(err)
	}
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("PRIVATE-TOKEN") != gitlabToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
			return
		}
		if r.URL.Path != "/api/v4/projects/4/issues" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"404 Not found"}`))
			return
		}
		queries = append(queries, r.URL.RawQuery)
		q := r.URL.Query()
		var list []json.RawMessage
		for _, is := range issues {
			var u struct {
				UpdatedAt time.Time `json:"updated_at"`
			}
			_ = json.Unmarshal(is, &u)
			if s := q.Get("updated_after"); s != "" {
				after, err := time.Parse(time.RFC3339, s)
				if err != nil {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error":"updated_after is invalid"}`))
					return
				}
				if u.UpdatedAt.Before(after) {
					continue
				}
			}
			list = append(list, is)
		}
		perPage, _ := strconv.Atoi(q.Get("per_page"))
		perPage = min(max(perPage, 1), 2)
		page, _ := strconv.Atoi(q.Get("page"))
		page = max(page, 1)
		pages := max((len(list)+perPage-1)/perPage, 1)
		start, end := min((page-1)*perPage, len(list)), min(page*perPage, len(list))
		link := func(p int) string {
			q.Set("page", strconv.Itoa(p))
			q.Set("per_page", strconv.Itoa(perPage))
			return fmt.Sprintf("<http://%s%s?%s>", r.Host, r.URL.Path, q.Encode())
		}
		links := []string{}
		if page > 1 {
			links = append(links, link(page-1)+`; rel="prev"`)
		}
		if page < pages {
			links = append(links, link(page+1)+`; rel="next"`)
			w.Header().Set("X-Next-Page", strconv.Itoa(page+1))
		}
		links = append(links, link(1)+`; rel="first"`, link(pages)+`; rel="last"`)
		w.Header().Set("Link", strings.Join(links, ", "))
		w.Header().Set("X-Page", strconv.Itoa(page))
		w.Header().Set("X-Per-Page", strconv.Itoa(perPage))
		w.Header().Set("X-Total", strconv.Itoa(len(list)))
		w.Header().Set("X-Total-Pages", strconv.Itoa(pages))
		out, _ := json.Marshal(list[start:end])
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &queries
}

// TestGitLabExample configures the source exactly as the README's GitLab
// example (testdata/gitlab.yml, the server's address aside) and reads
// GitLab's documented answer.
func TestGitLabExample(t *testing.T) {
	srv, queries := gitlab(t)
	cfg, err := os.ReadFile("testdata/gitlab.yml")
	if err != nil {
		t.Fatal(err)
	}
	d := &strictyaml.Decoder{File: "gitlab.yml", LookupEnv: func(k string) (string, bool) {
		return gitlabToken, k == "GITLAB_TOKEN"
	}}
	root := d.Parse([]byte(strings.ReplaceAll(string(cfg), "https://gitlab.example.com", srv.URL)))
	if root == nil || len(root.Content) != 2 || root.Content[1].Kind != yaml.SequenceNode {
		t.Fatalf("testdata/gitlab.yml: %v", d.Err())
	}
	src := New(d, root.Content[1].Content[0], "sources[0]", sources.Env{Name: "gitlab-support", Dir: t.TempDir(), Now: func() time.Time { return now }})
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	s := src.(*source)
	s.setTestClient(fakeapi.NewClock(now), srv.Client().Transport)

	b, err := s.Sync(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []sla.Case{
		{Source: "gitlab-support", ID: "41", Key: "my-group/my-project#1", URL: "http://gitlab.example.com/my-group/my-project/issues/1",
			Status: sla.StatusClosed, Created: at("2026-02-20T15:31:46Z"), Resolved: at("2026-02-21T15:31:46Z"),
			Labels: []string{"foo", "bar"}, Type: "issue"},
		{Source: "gitlab-support", ID: "76", Key: "my-group/my-project#6", URL: "http://gitlab.example.com/my-group/my-project/issues/6",
			Status: sla.StatusOpen, Created: at("2026-03-02T08:31:51Z"), Type: "issue"},
		{Source: "gitlab-support", ID: "80", Key: "my-group/my-project#9", URL: "http://gitlab.example.com/my-group/my-project/-/issues/9",
			Customer: "ops@acme.example", Severity: 2, Status: sla.StatusOpen, Created: at("2026-03-03T09:02:10Z"),
			Labels: []string{"customer::acme", "backup"}, Type: "incident"},
	}
	if !reflect.DeepEqual(b.Cases, want) || len(b.Problems) != 0 || !b.Full || b.Cursor != "2026-03-03T09:12:03Z" {
		t.Errorf("full sync: cursor %q, problems %v, cases\n%+v\nwant\n%+v", b.Cursor, b.Problems, b.Cases, want)
	}
	b2, err := s.Sync(context.Background(), b.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Full || ids(b2.Cases) != "80" || b2.Cursor != b.Cursor {
		t.Errorf("incremental: full %v, cases %s, cursor %q", b2.Full, ids(b2.Cases), b2.Cursor)
	}
	// Two pages, the second from the Link header; then one page from the
	// cursor less the overlap.
	base := url.Values{"scope": {"all"}, "state": {"all"}, "order_by": {"updated_at"}, "sort": {"desc"}, "per_page": {"100"}}
	first := base.Encode()
	base.Set("page", "2")
	base.Set("per_page", "2")
	second := base.Encode()
	base.Del("page")
	base.Set("per_page", "100")
	base.Set("updated_after", "2026-03-03T09:07:03Z")
	third := base.Encode()
	if want := []string{first, second, third}; !reflect.DeepEqual(*queries, want) {
		t.Errorf("queries\n%q\nwant\n%q", *queries, want)
	}
}
