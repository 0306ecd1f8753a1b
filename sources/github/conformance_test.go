package github

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/github/githubfake"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

// backend is the fake, for the conformance suite. GitHub's REST API
// deletes no issue: Remove closes it as a duplicate, which the source
// reports as deleted (merged).
type backend struct {
	fake *githubfake.Server
	url  string
}

func (b *backend) URL() string { return b.url }

func (b *backend) Config(url string, good bool) string {
	tok := "${GH_TOKEN}"
	if !good {
		tok = "${GH_WRONG}"
	}
	return "type: github\nurl: " + url + "\ntoken: " + tok + "\nrepositories: [" + repo + "]\n"
}

func (b *backend) Env() map[string]string {
	return map[string]string{"GH_TOKEN": token, "GH_WRONG": "ghp_not" + token}
}

func (b *backend) Create(t testing.TB) string {
	n := b.fake.AddIssue(repo, githubfake.Issue{Title: "It broke", User: customer, CreatedAt: time.Now(), Labels: []string{"severity/3"}})
	return caseID(repo, n)
}

func number(t testing.TB, id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, repo+"#"))
	if err != nil {
		t.Fatalf("case id %q", id)
	}
	return n
}

func (b *backend) Change(t testing.TB, id string) {
	if !b.fake.Label(repo, number(t, id), time.Now(), agent, "severity/2") {
		t.Fatalf("no issue %s", id)
	}
}

func (b *backend) Remove(t testing.TB, id string) bool {
	if !b.fake.Close(repo, number(t, id), time.Now(), agent, "duplicate") {
		t.Fatalf("no issue %s", id)
	}
	return true
}

// MaxRequests: the list's pages (one repository), then an events and a
// comments request per changed issue.
func (b *backend) MaxRequests(changed int) int { return (changed+99)/100 + 2*changed }

func TestConformance(t *testing.T) {
	fake := githubfake.New(token)
	fake.AddRepo(repo)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	sourcetest.Run(t, New, &backend{fake: fake, url: srv.URL})
}
