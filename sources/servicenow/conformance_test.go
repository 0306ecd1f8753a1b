package servicenow

import (
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/servicenow/snowfake"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

// backend is the fake, for the conformance suite. An incremental read of
// the Table API cannot see a deleted record, so Remove reports that it
// cannot.
type backend struct {
	fake *snowfake.Server
	url  string
	mu   sync.Mutex
	next int
}

func (b *backend) URL() string { return b.url }

func (b *backend) Config(url string, good bool) string {
	pass := "${SN_PASS}"
	if !good {
		pass = "${SN_WRONG}"
	}
	return "type: servicenow\nurl: " + url + "\nusername: " + user + "\npassword: " + pass + "\n"
}

func (b *backend) Env() map[string]string {
	return map[string]string{"SN_PASS": password, "SN_WRONG": "not-" + password}
}

func (b *backend) Create(testing.TB) string {
	b.mu.Lock()
	b.next++
	n := 9000 + b.next
	b.mu.Unlock()
	b.fake.AddIncident(snowfake.Incident{SysID: id(n), Number: fmt.Sprintf("INC%07d", n), Opened: time.Now(), Priority: "3", CallerUser: caller})
	return id(n)
}

func (b *backend) Change(_ testing.TB, sysID string) {
	b.fake.Change(sysID, time.Now(), agent, "priority", "2")
}

func (b *backend) Remove(testing.TB, string) bool { return false }

// MaxRequests: the table's pages, a sys_audit and a sys_journal_field read
// per changed incident.
func (b *backend) MaxRequests(changed int) int { return changed/100 + 1 + 2*changed }

func TestConformance(t *testing.T) {
	fake := snowfake.New(user, password)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	sourcetest.Run(t, New, &backend{fake: fake, url: srv.URL})
}
