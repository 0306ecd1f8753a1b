package redmine

import (
	"strconv"
	"testing"

	"github.com/support-sla/support_sla_exporter/sources/redmine/redminetest"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

// backend is the real Redmine of scripts/e2e/redmine-up.sh. Issues are
// created by the admin and changed by the agent.
type backend struct{ srv *redminetest.Server }

func (b *backend) URL() string { return b.srv.URL }

func (b *backend) Config(url string, good bool) string {
	key := "${REDMINE_API_KEY}"
	if !good {
		key = "${REDMINE_WRONG_KEY}"
	}
	return "type: redmine\nurl: " + url + "\napi_key: " + key + "\nprojects: [" + b.srv.Project + "]\n"
}

func (b *backend) Env() map[string]string {
	return map[string]string{"REDMINE_API_KEY": b.srv.AgentKey, "REDMINE_WRONG_KEY": "0123456789abcdef0123456789abcdef01234567"}
}

func (b *backend) Create(t testing.TB) string {
	return strconv.FormatInt(b.srv.Create(t, b.srv.Key, map[string]any{"subject": "conformance", "priority_id": 2}), 10)
}

func (b *backend) Change(t testing.TB, id string) {
	n, _ := strconv.ParseInt(id, 10, 64)
	b.srv.Update(t, b.srv.AgentKey, n, map[string]any{"priority_id": 3, "notes": "Looking into it."})
}

func (b *backend) Remove(t testing.TB, id string) bool {
	n, _ := strconv.ParseInt(id, 10, 64)
	b.srv.Delete(t, n)
	return true
}

// MaxRequests: the key check, the count, the pages and a journals request
// per changed issue.
func (b *backend) MaxRequests(changed int) int { return 2 + changed/pageSize + 1 + changed }

func TestConformance(t *testing.T) {
	sourcetest.Run(t, New, &backend{srv: redminetest.FromEnv(t)})
}
