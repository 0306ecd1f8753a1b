#!/bin/bash
# prom-down.sh -- stop Prometheus, Alertmanager and the webhook receiver started
# by prom-up.sh (PID files only). Keeps packages, configs and TSDB data.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_NAME=prom
. "$HERE/lib.sh"
S="$E2E_STATE/prom"
stop_pidfile "$S/prometheus.pid"   "/usr/bin/prometheus --config.file=$S/conf/prometheus.yml" prometheus
stop_pidfile "$S/alertmanager.pid" "/usr/bin/prometheus-alertmanager --config.file=$S/conf/alertmanager.yml" alertmanager
stop_pidfile "$S/webhook.pid"      "webhook_receiver.py" webhook-receiver
