package jira

import (
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/jira/jirafake"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

// backend is the fake, for the conformance suite. Jira's search cannot see
// a deleted issue, so Remove reports that it cannot.
type backend struct {
	fake *jirafake.Server
	url  string
	mu   sync.Mutex
	next int
}

func (b *backend) URL() string { return b.url }

func (b *backend) Config(url string, good bool) string {
	tok := "${JIRA_TOKEN}"
	if !good {
		tok = "${JIRA_WRONG}"
	}
	return "type: jira\nurl: " + url + "\nemail: " + email + "\ntoken: " + tok + "\n"
}

func (b *backend) Env() map[string]string {
	return map[string]string{"JIRA_TOKEN": token, "JIRA_WRONG": "not-" + token}
}

func (b *backend) Create(t testing.TB) string {
	b.mu.Lock()
	b.next++
	i := b.next
	b.mu.Unlock()
	now := time.Now()
	is := plainIssue(i, now)
	is.Created = now
	b.fake.Put(is)
	return is.ID
}

func (b *backend) Change(t testing.TB, id string) {
	n, _ := strconv.Atoi(id)
	key := "SUP-" + strconv.Itoa(n-10000)
	if !b.fake.Update(key, func(is *jirafake.Issue) { is.Updated = time.Now(); is.Priority = "High" }) {
		t.Fatalf("no issue %s", key)
	}
}

func (b *backend) Remove(testing.TB, string) bool { return false }

// MaxRequests: the search pages, a changelog and a comments request per
// changed issue.
func (b *backend) MaxRequests(changed int) int { return changed/b.fake.MaxResults + 1 + 2*changed }

func TestConformance(t *testing.T) {
	fake := jirafake.New(email, token)
	fake.MaxResults = 50
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	sourcetest.Run(t, New, &backend{fake: fake, url: srv.URL})
}
