// Package alerts holds the Prometheus recording and alerting rules of
// support_sla_exporter and an example Alertmanager configuration, embedded
// so that deployments and tests load the very files that ship.
package alerts

import _ "embed"

// Rules is support_sla.rules.yml: the recording rules, then the alerts.
//
//go:embed support_sla.rules.yml
var Rules []byte

// Alertmanager is alertmanager.yml: routing to the sla-page and sla-ticket
// receivers and the inhibition of a source's alerts while it is down.
//
//go:embed alertmanager.yml
var Alertmanager []byte
