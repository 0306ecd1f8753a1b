package zendesk

import (
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
	"github.com/support-sla/support_sla_exporter/sources/zendesk/zendeskfake"
)

// backend is the fake, for the conformance suite.
type backend struct {
	fake *zendeskfake.Server
	url  string
	mu   sync.Mutex
	next int64
}

func (b *backend) URL() string { return b.url }

func (b *backend) Config(url string, good bool) string {
	tok := "${ZD_TOKEN}"
	if !good {
		tok = "${ZD_WRONG}"
	}
	return "type: zendesk\nurl: " + url + "\nemail: " + email + "\ntoken: " + tok + "\n"
}

func (b *backend) Env() map[string]string {
	return map[string]string{"ZD_TOKEN": apiToken, "ZD_WRONG": "not-" + apiToken}
}

func (b *backend) Create(testing.TB) string {
	b.mu.Lock()
	b.next++
	id := 7000 + b.next
	b.mu.Unlock()
	b.fake.AddTicket(zendeskfake.Ticket{ID: id, CreatedAt: time.Now(), Status: "open", Priority: "normal", RequesterID: customer})
	return strconv.FormatInt(id, 10)
}

func (b *backend) Change(t testing.TB, id string) {
	n, _ := strconv.ParseInt(id, 10, 64)
	b.fake.Comment(n, time.Now(), agent, true)
}

func (b *backend) Remove(t testing.TB, id string) bool {
	n, _ := strconv.ParseInt(id, 10, 64)
	b.fake.Delete(n, time.Now())
	return true
}

// MaxRequests: the export's pages and the audits of each changed ticket.
func (b *backend) MaxRequests(changed int) int { return changed/b.fake.PageSize + 1 + changed }

func TestConformance(t *testing.T) {
	fake := zendeskfake.New(email, apiToken)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	sourcetest.Run(t, New, &backend{fake: fake, url: srv.URL})
}
