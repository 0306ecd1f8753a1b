package freshdesk

import (
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/freshdesk/freshdeskfake"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

// backend is the fake, for the conformance suite. Freshdesk's ticket list
// leaves deleted tickets out without a trace, so Remove reports that it
// cannot.
type backend struct {
	fake *freshdeskfake.Server
	url  string
	mu   sync.Mutex
	next int64
}

func (b *backend) URL() string { return b.url }

func (b *backend) Config(url string, good bool) string {
	key := "${FD_KEY}"
	if !good {
		key = "${FD_WRONG}"
	}
	return "type: freshdesk\nurl: " + url + "\napi_key: " + key + "\n"
}

func (b *backend) Env() map[string]string {
	return map[string]string{"FD_KEY": apiKey, "FD_WRONG": "not-" + apiKey}
}

func (b *backend) Create(testing.TB) string {
	b.mu.Lock()
	b.next++
	id := 8000 + b.next
	b.mu.Unlock()
	b.fake.AddTicket(freshdeskfake.Ticket{ID: id, CreatedAt: time.Now(), Priority: freshdeskfake.Medium, RequesterID: customer})
	return strconv.FormatInt(id, 10)
}

func (b *backend) Change(_ testing.TB, id string) {
	n, _ := strconv.ParseInt(id, 10, 64)
	b.fake.SetPriority(n, time.Now(), freshdeskfake.High)
}

func (b *backend) Remove(testing.TB, string) bool { return false }

// MaxRequests: the list's pages and at most two reads per changed ticket.
func (b *backend) MaxRequests(changed int) int { return changed/100 + 1 + 2*changed }

func TestConformance(t *testing.T) {
	fake := freshdeskfake.New(apiKey)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	sourcetest.Run(t, New, &backend{fake: fake, url: srv.URL})
}
