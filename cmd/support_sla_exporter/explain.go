package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/support-sla/support_sla_exporter/sla"
)

// maxStretches is how many counted stretches explain lists before it sums
// up the rest.
const maxStretches = 40

type explainCmd struct {
	at     atFlag
	caseID string
	source string
}

func newExplainCmd(k *kingpin.Application, a *app) *kingpin.CmdClause {
	c := k.Command("explain", "Explain one case's SLA computation in words: the time counted, pauses, goal and due.")
	c.Arg("case", "The case's id or key.").Required().StringVar(&a.explainArgs.caseID)
	c.Flag("at", "The instant (RFC 3339, or a date for its midnight UTC); default now.").PlaceHolder("T").SetValue(&a.explainArgs.at)
	c.Flag("source", "Look in this source only.").StringVar(&a.explainArgs.source)
	return c
}

func (a *app) explain(ctx context.Context) int {
	cfg, err := a.loadConfig()
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return 1
	}
	at := a.explainArgs.at.or(a.now)
	all, _ := a.fetch(ctx, cfg)
	found := 0
	for _, sc := range all {
		if a.explainArgs.source != "" && sc.src.Name != a.explainArgs.source {
			continue
		}
		for i := range sc.cases {
			c := &sc.cases[i]
			if c.ID != a.explainArgs.caseID && c.Key != a.explainArgs.caseID {
				continue
			}
			ex, err := sc.src.Evaluator.Explain(c, at)
			if err != nil {
				fmt.Fprintln(a.stderr, err)
				return 1
			}
			if found > 0 {
				fmt.Fprintln(a.stdout)
			}
			found++
			writeExplanation(a.stdout, ex, sc.src.PolicyName, sc.src.Evaluator.Policy)
		}
	}
	if found == 0 {
		fmt.Fprintf(a.stderr, "no case %q in any source as of %s\n", a.explainArgs.caseID, at.Format(time.RFC3339))
		return 1
	}
	return 0
}

func writeExplanation(w io.Writer, ex *sla.Explanation, policyName string, p *sla.Policy) {
	c := ex.Case
	name := c.ID
	if c.Key != "" && c.Key != c.ID {
		name = c.Key + " (id " + c.ID + ")"
	}
	fmt.Fprintf(w, "Case %s, source %s, as of %s\n", name, c.Source, when(ex.At, nil))
	if c.Created.After(ex.At) {
		fmt.Fprintf(w, "  It was opened later, %s: at this instant it does not exist yet.\n", when(c.Created, nil))
		return
	}
	fmt.Fprintf(w, "  Customer %s, tier %s (from the %s) of policy %s.\n", dash(c.Customer), ex.Tier, ex.TierFrom, policyName)
	if ex.Timezone != "" {
		fmt.Fprintf(w, "  Customer time zone %s (from the %s).\n", ex.Timezone, ex.TimezoneFrom)
	}
	var caseLoc *time.Location
	if ex.Timezone != "" {
		caseLoc, _ = time.LoadLocation(ex.Timezone)
	}
	fmt.Fprintf(w, "  Opened %s; status at that instant: %s.\n", when(c.Created, caseLoc), strings.ReplaceAll(c.StatusAt(ex.At).String(), "_", " "))
	if len(c.SeverityHistory) > 1 {
		var parts []string
		for _, h := range c.SeverityHistory {
			if h.At.After(ex.At) {
				break
			}
			parts = append(parts, fmt.Sprintf("%d from %s", h.Severity, when(h.At, nil)))
		}
		fmt.Fprintf(w, "  Severity changes: %s. A change re-targets the whole case from its opening.\n", strings.Join(parts, ", "))
	}
	if ex.ExcludedBy != nil {
		fmt.Fprintf(w, "  Excluded by the policy's rule %s: this case has no SLA.\n", ruleText(*ex.ExcludedBy))
	}
	if len(ex.Targets) == 0 {
		fmt.Fprintf(w, "  Tier %s has no targets.\n", ex.Tier)
	}
	for _, t := range ex.Targets {
		fmt.Fprintln(w)
		writeTarget(w, ex, &t, p)
	}
}

func writeTarget(w io.Writer, ex *sla.Explanation, t *sla.TargetExplanation, p *sla.Policy) {
	title := strings.ToUpper(t.Target.String()[:1]) + strings.ReplaceAll(t.Target.String()[1:], "_", " ")
	goal := humanDuration(time.Duration(t.Goal) * time.Second)
	switch t.State {
	case sla.StateExcluded:
		fmt.Fprintf(w, "%s (severity %d): excluded, no SLA.\n", title, t.Severity)
		return
	case sla.StateNotApplicable:
		fmt.Fprintf(w, "%s (severity %d): no SLA. Tier %s offers no %s target for severity %d.\n", title, t.Severity, ex.Tier, strings.ReplaceAll(t.Target.String(), "_", " "), t.Severity)
		return
	case sla.StateBestEffort:
		fmt.Fprintf(w, "%s (severity %d): best effort. Tier %s promises no time for severity %d.\n", title, t.Severity, ex.Tier, t.Severity)
		return
	}
	var verdict string
	switch t.State {
	case sla.StateOK:
		verdict = fmt.Sprintf("on track, %s left of %s", humanDuration(time.Duration(t.Remaining())*time.Second), goal)
	case sla.StateWarning:
		verdict = fmt.Sprintf("AT RISK, %s left of %s (%.0f%% used; a warning from %.0f%%)", humanDuration(time.Duration(t.Remaining())*time.Second), goal, 100*t.Consumed(), 100*p.WarningRatio)
	case sla.StatePaused:
		verdict = fmt.Sprintf("paused while the case waits on the customer, %s left of %s", humanDuration(time.Duration(t.Remaining())*time.Second), goal)
	case sla.StateBreached:
		verdict = fmt.Sprintf("BREACHED, over the goal of %s by %s", goal, humanDuration(time.Duration(-t.Remaining())*time.Second))
	case sla.StateMet:
		verdict = fmt.Sprintf("met, in %s of %s", humanDuration(time.Duration(t.Elapsed)*time.Second), goal)
	case sla.StateMissed:
		verdict = fmt.Sprintf("missed, %s against a goal of %s", humanDuration(time.Duration(t.Elapsed)*time.Second), goal)
	}
	fmt.Fprintf(w, "%s (severity %d): %s.\n", title, t.Severity, verdict)

	cal := t.Calendar
	if cal.IsAlwaysOpen() {
		fmt.Fprintf(w, "  The clock runs around the clock (calendar 24x7).\n")
	} else {
		fmt.Fprintf(w, "  The clock runs in the open hours of calendar %q, in %s: %s.\n", cal.Name, t.Location, hoursText(cal))
	}
	if t.HasStopped {
		fmt.Fprintf(w, "  It stopped %s.\n", when(t.StoppedTime(), t.Location))
	}
	if t.Pausable {
		if len(t.Pauses) == 0 {
			fmt.Fprintf(w, "  Waiting on the customer stops this clock; it has not waited.\n")
		}
		for _, ps := range t.Pauses {
			fmt.Fprintf(w, "  Not counted, waiting on the customer: %s.\n", stretch(ps, t.Location))
		}
	} else if !cal.IsAlwaysOpen() || len(ex.Case.StatusHistory) > 0 {
		fmt.Fprintf(w, "  Waiting on the customer does not stop this clock.\n")
	}
	fmt.Fprintf(w, "  Counted: %s (%.0f%% of the goal)", humanDuration(time.Duration(t.Elapsed)*time.Second), 100*t.Consumed())
	if len(t.Counted) == 0 {
		fmt.Fprintf(w, "; no open time has passed yet.\n")
	} else {
		fmt.Fprintf(w, ", in these stretches:\n")
	}
	for i, s := range t.Counted {
		if i == maxStretches {
			var rest time.Duration
			for _, r := range t.Counted[i:] {
				rest += r.Duration()
			}
			fmt.Fprintf(w, "    … and %d more stretches, %s in all\n", len(t.Counted)-i, humanDuration(rest))
			break
		}
		fmt.Fprintf(w, "    %-48s %s\n", stretch(s, t.Location), humanDuration(s.Duration()))
	}
	switch {
	case t.HasDue && t.State.Running():
		fmt.Fprintf(w, "  Due %s, if the case does not wait on the customer before then.\n", when(t.DueTime(), t.Location))
	case t.HasDue:
		fmt.Fprintf(w, "  It was due %s.\n", when(t.DueTime(), t.Location))
	case t.State == sla.StatePaused:
		fmt.Fprintf(w, "  No due instant while paused: it moves on when the customer answers.\n")
	}
}

// when writes an instant in UTC and, when given and different, in a zone.
func when(t time.Time, loc *time.Location) string {
	s := t.UTC().Format("Mon 2 Jan 2006 15:04 UTC")
	if loc == nil || loc.String() == "UTC" {
		return s
	}
	local := t.In(loc)
	if sameDay(local, t.UTC()) {
		return s + local.Format(" (15:04 MST)")
	}
	return s + local.Format(" (Mon 2 Jan 15:04 MST)")
}

// stretch writes an interval in a zone, as a person reads a diary.
func stretch(i sla.Interval, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	from, to := i.From.In(loc), i.To.In(loc)
	if sameDay(from, to.Add(-time.Second)) {
		end := to.Format("15:04")
		if !sameDay(from, to) {
			end = "24:00"
		}
		return fmt.Sprintf("%s–%s %s", from.Format("Mon 2 Jan 2006 15:04"), end, from.Format("MST"))
	}
	return fmt.Sprintf("%s – %s", from.Format("Mon 2 Jan 2006 15:04 MST"), to.Format("Mon 2 Jan 2006 15:04 MST"))
}

func sameDay(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

func hoursText(c *sla.Calendar) string {
	var parts []string
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		rs := c.Hours[wd]
		if len(rs) == 0 {
			continue
		}
		var ranges []string
		for _, r := range rs {
			ranges = append(ranges, r.String())
		}
		parts = append(parts, wd.String()[:3]+" "+strings.Join(ranges, ", "))
	}
	s := strings.Join(parts, "; ")
	if len(c.HolidayDates) > 0 || len(c.Holidays) > 0 {
		s += "; closed on holidays"
	}
	if len(c.Exclusions) > 0 {
		s += "; closed in planned maintenance windows"
	}
	return s
}

func ruleText(r sla.ExclusionRule) string {
	var parts []string
	if r.Label != "" {
		parts = append(parts, "label "+r.Label)
	}
	if r.Type != "" {
		parts = append(parts, "type "+r.Type)
	}
	if r.Customer != "" {
		parts = append(parts, "customer "+r.Customer)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
