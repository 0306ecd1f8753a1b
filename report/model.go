// Package report is the monthly SLA report: the outcomes decided in a
// month (sla-semantics.md, "Month of an outcome"), counted per source,
// tier, severity and target from the cases of the month's window, and
// rendered as CSV, JSON, XLSX or a self-contained HTML page.
package report

import "time"

// Report is one month's report. Every renderer draws from it alone: the
// figures are computed once (Build), the formats only lay them out.
type Report struct {
	// Month is the month reported, "2026-10", in Timezone.
	Month    string `json:"month"`
	Timezone string `json:"timezone"`
	// From and To bound the month: [From, To).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// AsOf is the instant the cases were evaluated at: the month's last
	// second, or the generation instant for the current month.
	AsOf      time.Time `json:"as_of"`
	Generated time.Time `json:"generated"`
	// Partial is true for the current month: outcomes may still come.
	Partial bool `json:"partial"`
	// Customer is set for one customer's own report (--customer).
	Customer string `json:"customer,omitempty"`

	// Rows are the counts per source, tier, severity and target, sorted
	// by those; a row exists when at least one case is counted in it.
	Rows []Row `json:"rows"`
	// Tiers are the headline: compliance per tier over every source,
	// severity and target, against the tier's objective.
	Tiers []TierSummary `json:"tiers"`
	// Totals are the month's case counts.
	Totals Totals `json:"totals"`
	// Worst are the 10 decided targets that overran their goal the most
	// (missed and breached, by elapsed / goal), worst first.
	Worst []CaseLine `json:"worst"`
	// Cases are every target counted in Rows (one line per case and
	// target), for the XLSX cases sheet and the JSON.
	Cases []CaseLine `json:"cases"`
	// Customers are the same figures per customer (--by customer),
	// sorted by name; cases without a customer are under "".
	Customers []CustomerReport `json:"customers,omitempty"`
	// Trend is the compliance of the months before (--months N), oldest
	// first, then this month.
	Trend []MonthSummary `json:"trend,omitempty"`
}

// Row is one source, tier, severity and target. The CSV columns, in order:
// month, source, tier, severity, target, decided, met, missed, breached,
// compliance_ratio, median_elapsed_seconds, p90_elapsed_seconds,
// excluded, not_applicable, best_effort.
type Row struct {
	Source   string `json:"source"`
	Tier     string `json:"tier"`
	Severity int    `json:"severity"`
	Target   string `json:"target"`
	// Decided = Met + Missed + Breached, outcomes decided in the month.
	Decided  int `json:"decided"`
	Met      int `json:"met"`
	Missed   int `json:"missed"`
	Breached int `json:"breached"` // past due and still running at AsOf
	// Compliance is Met / Decided, nil when nothing was decided.
	Compliance *float64 `json:"compliance_ratio"`
	// MedianElapsed and P90Elapsed are over the met and missed targets,
	// nearest rank, in the tier's counted (business) seconds; nil when
	// there are none.
	MedianElapsed *int64 `json:"median_elapsed_seconds"`
	P90Elapsed    *int64 `json:"p90_elapsed_seconds"`
	// Cases created in the month whose target is in that state.
	Excluded      int `json:"excluded"`
	NotApplicable int `json:"not_applicable"`
	BestEffort    int `json:"best_effort"`
}

// TierSummary is one tier's headline.
type TierSummary struct {
	Tier       string   `json:"tier"`
	Decided    int      `json:"decided"`
	Met        int      `json:"met"`
	Compliance *float64 `json:"compliance_ratio"`
	// Objective is the tier's objective, nil when it has none.
	Objective *float64 `json:"objective"`
	// Breaches are missed + breached, by case severity 1–4 (index 0 is
	// severity 1).
	Breaches [4]int `json:"breaches_by_severity"`
}

// Totals are case counts, each case once (not per target).
type Totals struct {
	Opened   int `json:"opened"`   // created in the month
	Resolved int `json:"resolved"` // resolved in the month
	// Backlog is the cases open at the month's end (AsOf for the current
	// month).
	Backlog int `json:"backlog"`
}

// CaseLine is one target of one case.
type CaseLine struct {
	Source   string `json:"source"`
	Case     string `json:"case"`
	Key      string `json:"key,omitempty"`
	URL      string `json:"url,omitempty"`
	Customer string `json:"customer,omitempty"`
	Tier     string `json:"tier"`
	Severity int    `json:"severity"`
	Target   string `json:"target"`
	// State is the target's state at AsOf (met, missed, breached, …).
	State   string     `json:"state"`
	Created time.Time  `json:"created"`
	Due     *time.Time `json:"due"`
	Stopped *time.Time `json:"stopped"`
	// GoalSeconds and ElapsedSeconds are counted seconds; nil when the
	// state is not measured.
	GoalSeconds    *int64 `json:"goal_seconds"`
	ElapsedSeconds *int64 `json:"elapsed_seconds"`
}

// CustomerReport is one customer's rows and headline.
type CustomerReport struct {
	Customer string        `json:"customer"`
	Rows     []Row         `json:"rows"`
	Tiers    []TierSummary `json:"tiers"`
	Totals   Totals        `json:"totals"`
}

// MonthSummary is one month of the trend.
type MonthSummary struct {
	Month string        `json:"month"`
	Tiers []TierSummary `json:"tiers"`
}
