package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/poller"
	"github.com/support-sla/support_sla_exporter/sla"
	"github.com/support-sla/support_sla_exporter/sources"
	"github.com/support-sla/support_sla_exporter/sources/file"
)

// fixed is a source that always returns the same cases.
type fixed []sla.Case

func (f fixed) Sync(context.Context, string) (sources.Batch, error) {
	return sources.Batch{Cases: f, Full: true, Cursor: "x"}, nil
}
func (f fixed) Window(context.Context, time.Time, time.Time) ([]sla.Case, error) { return f, nil }

func TestDueSkew(t *testing.T) {
	cfg, err := config.Load(fixture, config.Options{Registry: sources.Registry{"file": file.New}, Now: func() time.Time { return testAt }})
	if err != nil {
		t.Fatal(err)
	}
	ev := cfg.Sources[0].Evaluator
	// globex is premium: first response within 30 minutes, 24x7.
	created := testAt.Add(-time.Hour)
	ourDue := created.Add(30 * time.Minute)
	open := func(id string, own time.Time) sla.Case {
		return sla.Case{ID: id, Customer: "globex", Severity: 2, Created: created, SourceDue: own}
	}
	responded := open("answered", ourDue.Add(time.Hour))
	responded.FirstResponse = created.Add(time.Minute)
	resolved := open("done", ourDue.Add(time.Hour))
	resolved.Status, resolved.Resolved = sla.StatusResolved, created.Add(time.Minute)

	for _, tt := range []struct {
		name  string
		cases []sla.Case
		want  string // "" is no series
	}{
		{"agree", []sla.Case{open("a", ourDue)}, "0"},
		{"farthest from zero wins", []sla.Case{open("a", ourDue.Add(10*time.Minute)), open("b", ourDue.Add(-15*time.Minute)), open("c", ourDue)}, "-900"},
		{"later", []sla.Case{open("a", ourDue.Add(10*time.Minute))}, "600"},
		{"no own due", []sla.Case{open("a", time.Time{})}, ""},
		{"only decided targets", []sla.Case{responded}, ""},
		{"resolved cases left out", []sla.Case{resolved, open("a", ourDue)}, "0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := poller.New(poller.Config{Name: "rt", Interval: time.Minute, Source: fixed(tt.cases), Evaluator: ev, Now: func() time.Time { return testAt }}, nil)
			if err := p.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			c := New(func() State { return State{Pollers: []*poller.Poller{p}} }, func() time.Time { return testAt })
			want := ""
			if tt.want != "" {
				want = "# HELP support_sla_source_due_skew_seconds " + dueSkewHelp + "\n# TYPE support_sla_source_due_skew_seconds gauge\nsupport_sla_source_due_skew_seconds{source=\"rt\"} " + tt.want + "\n"
			}
			if err := testutil.CollectAndCompare(c, strings.NewReader(want), "support_sla_source_due_skew_seconds"); err != nil {
				t.Error(err)
			}
		})
	}
}
