package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/support-sla/support_sla_exporter/config"
	"github.com/support-sla/support_sla_exporter/sla"
)

// atFlag is an instant on the command line: RFC 3339, or a date (its
// midnight UTC). Empty means now.
type atFlag struct{ t time.Time }

func (f *atFlag) Set(s string) error {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			f.t = t
			return nil
		}
	}
	return fmt.Errorf("%q is not an RFC 3339 instant (2026-03-03T14:00:00Z) or a date (2026-03-03)", s)
}

func (f *atFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *atFlag) or(now func() time.Time) time.Time {
	if f.t.IsZero() {
		return now().Truncate(time.Second)
	}
	return f.t
}

type casesCmd struct {
	at     atFlag
	format string
}

func newCasesCmd(k *kingpin.Application, a *app) *kingpin.CmdClause {
	c := k.Command("cases", "Show the SLA state of every case and target at an instant.")
	c.Flag("at", "The instant (RFC 3339, or a date for its midnight UTC); default now.").PlaceHolder("T").SetValue(&a.casesArgs.at)
	c.Flag("format", "Output format: table, or json (one object per line).").Default("table").EnumVar(&a.casesArgs.format, "table", "json")
	return c
}

// sourceCases are the cases one source holds, with its evaluator.
type sourceCases struct {
	src   *config.Source
	cases []sla.Case
}

// fetch syncs every source once. A source that fails is reported and left
// out; the others are kept. ok is false when any source failed.
func (a *app) fetch(ctx context.Context, cfg *config.Config) (all []sourceCases, ok bool) {
	ok = true
	for _, s := range cfg.Sources {
		b, err := s.Source.Sync(ctx, "")
		if err != nil {
			a.logger.Error("Source failed", "source_name", s.Name, "err", err)
			ok = false
			continue
		}
		for _, p := range b.Problems {
			a.logger.Warn("Skipped a record", "source_name", s.Name, "err", p)
		}
		all = append(all, sourceCases{src: s, cases: b.Cases})
	}
	return all, ok
}

// caseLine is one line of `cases --format json`, in the documented field
// order.
type caseLine struct {
	Source        string   `json:"source"`
	Case          string   `json:"case"`
	Key           string   `json:"key"`
	Customer      string   `json:"customer"`
	Tier          string   `json:"tier"`
	Severity      int      `json:"severity"`
	Target        string   `json:"target"`
	State         string   `json:"state"`
	GoalSeconds   *int64   `json:"goal_seconds"`
	ElapsedSecs   *int64   `json:"elapsed_seconds"`
	RemainingSecs *int64   `json:"remaining_seconds"`
	ConsumedRatio *float64 `json:"consumed_ratio"`
	Due           *string  `json:"due"`
	Stopped       *string  `json:"stopped"`
}

func newCaseLine(c *sla.Case, r *sla.Result) caseLine {
	l := caseLine{
		Source: c.Source, Case: c.ID, Key: c.Key, Customer: c.Customer,
		Tier: r.Tier, Severity: r.Severity, Target: r.Target.String(), State: r.State.String(),
	}
	if l.Key == "" {
		l.Key = c.ID
	}
	if r.State.Measured() {
		goal, elapsed, remaining := r.Goal, r.Elapsed, r.Remaining()
		ratio := math.Round(r.Consumed()*1000) / 1000
		l.GoalSeconds, l.ElapsedSecs, l.RemainingSecs, l.ConsumedRatio = &goal, &elapsed, &remaining, &ratio
		if r.HasDue {
			s := r.DueTime().Format(time.RFC3339)
			l.Due = &s
		}
	}
	if r.HasStopped {
		s := r.StoppedTime().Format(time.RFC3339)
		l.Stopped = &s
	}
	return l
}

func (a *app) cases(ctx context.Context) int {
	cfg, err := a.loadConfig()
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return 1
	}
	at := a.casesArgs.at.or(a.now)
	all, ok := a.fetch(ctx, cfg)

	enc := json.NewEncoder(a.stdout)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	if a.casesArgs.format == "table" {
		fmt.Fprintln(tw, "SOURCE\tCASE\tCUSTOMER\tTIER\tSEV\tTARGET\tSTATE\tELAPSED\tGOAL\tREMAINING\tDUE (UTC)")
	}
	var buf []sla.Result
	for _, sc := range all {
		for i := range sc.cases {
			c := &sc.cases[i]
			buf, err = sc.src.Evaluator.Evaluate(c, at, buf[:0])
			if err != nil {
				a.logger.Error("Cannot evaluate case", "source_name", sc.src.Name, "err", err)
				ok = false
				continue
			}
			for j := range buf {
				l := newCaseLine(c, &buf[j])
				if a.casesArgs.format == "json" {
					if err := enc.Encode(l); err != nil {
						fmt.Fprintln(a.stderr, err)
						return 1
					}
					continue
				}
				remaining := l.RemainingSecs
				if !buf[j].State.Running() {
					remaining = nil // what is left matters only while the clock runs
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Source, l.Key, dash(l.Customer), l.Tier, l.Severity,
					l.Target, l.State, secs(l.ElapsedSecs), secs(l.GoalSeconds), secs(remaining), dueCell(&buf[j]))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func secs(p *int64) string {
	if p == nil {
		return "-"
	}
	return humanDuration(time.Duration(*p) * time.Second)
}

func dueCell(r *sla.Result) string {
	if !r.HasDue {
		return "-"
	}
	return r.DueTime().Format(time.DateTime)
}

// humanDuration writes a duration the way people say it: 2d4h, 6h08m, 45m,
// 30s; negative with a leading minus.
func humanDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Truncate(time.Second)
	days, h, m, s := d/(24*time.Hour), d/time.Hour%24, d/time.Minute%60, d/time.Second%60
	switch {
	case days > 0:
		return fmt.Sprintf("%s%dd%dh%02dm", sign, days, h, m)
	case h > 0:
		return fmt.Sprintf("%s%dh%02dm", sign, h, m)
	case m > 0:
		return fmt.Sprintf("%s%dm%02ds", sign, m, s)
	}
	return fmt.Sprintf("%s%ds", sign, s)
}
