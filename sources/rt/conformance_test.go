package rt

import (
	"strconv"
	"testing"
	"time"

	"github.com/support-sla/support_sla_exporter/sources/rt/rttest"
	"github.com/support-sla/support_sla_exporter/sources/sourcetest"
)

// backend is the real Request Tracker of scripts/e2e/rt5-up.sh: cases are
// tickets the customer opens, changed by a staff reply and removed by
// deleting them.
// It reads the tickets after those of earlier runs (after).
type backend struct {
	rt    *rttest.Server
	after int
	top   *testing.T // the suite's test, which deletes the tickets at its end
}

func (b *backend) URL() string { return b.rt.URL }

func (b *backend) Config(url string, good bool) string {
	tok := "${RT_TOKEN}"
	if !good {
		tok = "${RT_WRONG}"
	}
	return "type: rt\nurl: " + url + "\ntoken: " + tok + "\nqueues: [" + b.rt.Queue + "]\nquery: \"id > " + strconv.Itoa(b.after) + "\"\n"
}

func (b *backend) Env() map[string]string {
	return map[string]string{"RT_TOKEN": b.rt.Token, "RT_WRONG": "1-14-00000000000000000000000000000000"}
}

func (b *backend) Create(t testing.TB) string {
	id := b.rt.Create(t, "conformance "+time.Now().UTC().Format(time.RFC3339Nano), map[string]any{"Priority": 50})
	b.rt.DeleteAtEnd(b.top, id)
	return id
}

func (b *backend) Change(t testing.TB, id string) {
	b.rt.Reply(t, rttest.Agent, id)
	b.rt.Update(t, rttest.Agent, id, map[string]any{"Priority": 95})
}

func (b *backend) Remove(t testing.TB, id string) bool {
	b.rt.Update(t, rttest.Root, id, map[string]any{"Status": "deleted"})
	return true
}

// MaxRequests: the search pages, one page of deletions and one history
// page per changed ticket (they have fewer than 100 transactions).
func (b *backend) MaxRequests(changed int) int { return changed/perPage + 1 + 1 + changed }

func TestConformance(t *testing.T) {
	srv := rttest.FromEnv(t)
	sourcetest.Run(t, New, &backend{rt: srv, after: srv.MaxID(t), top: t})
}
