package collector

import "github.com/prometheus/client_golang/prometheus"

// The metric catalogue, in the order of the interface contract. Values
// that depend on time are computed at scrape time from the cases each
// source's poller holds, refreshed every poll interval.

const namespace = "support_sla"

// Label sets.
var (
	labelsOpen     = []string{"source", "tier", "case_severity", "status"}
	labelsTargets  = []string{"source", "tier", "case_severity", "target", "state"}
	labelsTarget   = []string{"source", "tier", "case_severity", "target"}
	labelsSeverity = []string{"source", "tier", "case_severity"}
	labelsOutcome  = []string{"source", "tier", "case_severity", "target", "outcome"}
	labelsCase     = []string{"source", "case", "customer", "tier", "case_severity", "target"}
	labelsSource   = []string{"source"}
)

// withCustomer adds the customer label, for metrics.by_customer.
func withCustomer(labels []string) []string {
	return append(append([]string(nil), labels...), "customer")
}

func desc(name, help string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

// descs are the descriptors of one label layout (with or without the
// customer label on the case-count gauges).
type descs struct {
	openCases, targets, monthOutcomes *prometheus.Desc
}

func newDescs(byCustomer bool) descs {
	l := func(labels []string) []string {
		if byCustomer {
			return withCustomer(labels)
		}
		return labels
	}
	return descs{
		openCases: desc("open_cases",
			"Open (not resolved or closed) cases, from the cached cases, as of the scrape.", l(labelsOpen)),
		targets: desc("targets",
			"Running targets of open cases by state (ok, warning, paused, breached), computed at scrape time from the cached cases.", l(labelsTargets)),
		monthOutcomes: desc("month_outcomes",
			"Outcomes (met, missed, breached) decided in the current calendar month (UTC): met in the month of the stop, missed and breached in the month of the due.", l(labelsOutcome)),
	}
}

var (
	nextDueDesc = desc("next_due_timestamp_seconds",
		"The earliest due instant among running targets that are neither paused nor breached, computed at scrape time; absent when there is none.", labelsTarget)
	remainingDesc = desc("remaining_seconds",
		"Remaining time to the goal of running, unpaused targets (negative once breached). A gauge histogram: recomputed at every scrape, its buckets can go down.", labelsTarget)
	oldestOpenDesc = desc("oldest_open_case_age_seconds",
		"Wall-clock age of the oldest open case, at the scrape.", labelsSeverity)
	monthComplianceDesc = desc("month_compliance_ratio",
		"Met outcomes over all outcomes decided in the current calendar month (UTC); absent when none was decided.", labelsTarget)
	outcomesTotalDesc = desc("outcomes_total",
		"Outcomes decided while this process ran, each case and target counted once, when first seen decided.", labelsOutcome)
	caseDueDesc = desc("case_due_timestamp_seconds",
		"Due instant of a running target of one case (metrics.per_case), the closest to breach first, at most metrics.max_case_series series.", labelsCase)
	caseConsumedDesc = desc("case_consumed_ratio",
		"Elapsed share of the goal of a running target of one case (metrics.per_case), same series as support_sla_case_due_timestamp_seconds.", labelsCase)
	caseInfoDesc = desc("case_info",
		"Always 1: the key and address of each case that has per-case series (metrics.per_case), for links from dashboards and alerts.", []string{"source", "case", "key", "url"})
	caseDroppedDesc = desc("case_series_dropped",
		"Per-case series left out by metrics.max_case_series at this scrape.", nil)
	sourceUpDesc = desc("source_up",
		"1 if the last poll of the source succeeded. Cases are polled in the background every interval; a failing source serves its last good cases.", labelsSource)
	lastSuccessDesc = desc("source_last_success_timestamp_seconds",
		"End of the last successful poll of the source.", labelsSource)
	pollIntervalDesc = desc("source_poll_interval_seconds",
		"The configured polling interval of the source; with support_sla_source_last_success_timestamp_seconds it tells a stale source.", labelsSource)
	dueSkewDesc     = desc("source_due_skew_seconds", dueSkewHelp, labelsSource)
	sourceCasesDesc = desc("source_cases",
		"Cases held in the source's cache: open ones and those resolved this month.", labelsSource)
)

const dueSkewHelp = "Over the open cases for which the ticket system holds its own due date (Request Tracker's Due), the difference farthest from zero between that date and the exporter's earliest running deadline; positive when the system's is later. Absent when no case has one."

// MetricNames are the names of every metric the exporter can expose (the
// collector's and those the exporter registers beside it), for the
// dashboards' and alert rules' tests to check the names they use.
func MetricNames() []string {
	return []string{
		"support_sla_open_cases",
		"support_sla_targets",
		"support_sla_next_due_timestamp_seconds",
		"support_sla_remaining_seconds",
		"support_sla_oldest_open_case_age_seconds",
		"support_sla_month_outcomes",
		"support_sla_month_compliance_ratio",
		"support_sla_outcomes_total",
		"support_sla_case_due_timestamp_seconds",
		"support_sla_case_consumed_ratio",
		"support_sla_case_info",
		"support_sla_case_series_dropped",
		"support_sla_source_up",
		"support_sla_source_last_success_timestamp_seconds",
		"support_sla_source_poll_duration_seconds",
		"support_sla_source_poll_interval_seconds",
		"support_sla_source_requests_total",
		"support_sla_source_cases",
		"support_sla_source_due_skew_seconds",
		"support_sla_config_last_reload_successful",
		"support_sla_config_last_reload_success_timestamp_seconds",
		"support_sla_exporter_build_info",
		"support_sla_bridge_alerts_sent_total",
		"support_sla_bridge_errors_total",
		"support_sla_bridge_pending_alerts",
		"support_sla_writeback_notes_total",
	}
}

// remainingBuckets are the upper bounds of support_sla_remaining_seconds:
// 0, 15m, 30m, 1h, 2h, 4h, 8h, 24h, 72h.
var remainingBuckets = []float64{0, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200}

// NewPollDurations is support_sla_source_poll_duration_seconds, observed by
// the pollers.
func NewPollDurations() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "source_poll_duration_seconds",
		Help:      "Duration of the polls of the source.",
		Buckets:   []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, labelsSource)
}

// NewRequests is support_sla_source_requests_total, counted by the sources'
// HTTP clients.
func NewRequests() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "source_requests_total",
		Help:      "HTTP requests to the ticket system by status code (429, 5xx …, error for transport failures).",
	}, []string{"source", "code"})
}
