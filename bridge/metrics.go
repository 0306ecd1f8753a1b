package bridge

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the bridge's metrics. They outlive a bridge: a reload starts
// a new bridge with the same metrics.
type Metrics struct {
	Sent    *prometheus.CounterVec
	Errors  prometheus.Counter
	Pending prometheus.Gauge
}

// NewMetrics makes the bridge's metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		Sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "support_sla_bridge_alerts_sent_total",
			Help: "Alerts (firing, re-sent or resolved) accepted by an Alertmanager, counted once per Alertmanager."}, []string{"alertname"}),
		Errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "support_sla_bridge_errors_total",
			Help: "Failed pushes of alerts to an Alertmanager; each is retried with backoff."}),
		Pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "support_sla_bridge_pending_alerts",
			Help: "Alerts waiting to be accepted by an Alertmanager (queued or being retried), summed over the Alertmanagers."}),
	}
}

// Collectors are the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Sent, m.Errors, m.Pending}
}
