#!/usr/bin/env bash
# run.sh -- the end-to-end suite (`make e2e`): installs and starts the real
# Request Tracker 5 and Redmine 5 from Debian packages on loopback (first
# run about 2.5 minutes, then seconds), loads their env files and runs the
# tests that need them. Installs Prometheus and Alertmanager too: the rules
# and the Alertmanager example are checked with promtool and amtool (make
# alerts-check), and TestStackE2E starts its own Prometheus, Alertmanager
# and exporter on free ports and stops them. Needs root (apt-get, setpriv).
# Leaves RT and Redmine running for the next run; stop them with
# rt5-down.sh and redmine-down.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE/../.."
E2E_STATE="${E2E_STATE:-${TMPDIR:-/tmp}/support-sla-e2e}"
export E2E_STATE
E2E_NAME=e2e
. "$HERE/lib.sh"
need_root
mkdir -p "$E2E_STATE"

# One after another: apt and debconf take locks. systemd brings
# systemd-analyze, for the check of deploy/systemd's unit.
"$HERE/rt5-up.sh"
"$HERE/redmine-up.sh"
# chromium, poppler-utils and fonts-noto-core: the report's HTML rendered
# on screen and printed to A4 (report's TestHTMLInChromium).
apt_install prometheus prometheus-alertmanager systemd chromium poppler-utils fonts-noto-core
make --no-print-directory alerts-check

set -a
. "$E2E_STATE/rt5/env"
. "$E2E_STATE/redmine/env"
set +a

# Every test against a real server skips without these variables: fail
# here instead if one skipped, so a broken setup cannot pass unseen.
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# The packages of alerts, dashboards and deployment files run whole: their
# tests are the ones that need promtool, amtool and systemd-analyze.
{
  # -p 1: the packages' tests share the one RT and Redmine; run at once,
  # one package's tickets land in the other's incremental window.
  go test -p 1 -count=1 -v -run 'Conformance|E2E|States|Skew|Report' \
      ./sources/rt/... ./sources/redmine/... ./cmd/support_sla_exporter/ || true
  go test -count=1 -v ./alerts/... ./dashboards/... ./deploy/... ./report/... || true
} 2>&1 | tee "$out" | grep -E '^ *(=== RUN|--- |ok|FAIL|PASS)' || true
if grep -q -- '--- FAIL' "$out" || grep -q '^FAIL' "$out"; then
  # The messages, logs and process output of the failed tests.
  grep -vE '^ *(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|SKIP)|ok )' "$out" >&2 || true
  echo "e2e: failures above" >&2; exit 1
fi
if grep -E 'is not running|is not installed' "$out"; then
  echo "e2e: a test skipped because its server or tool was not found" >&2; exit 1
fi
echo "e2e: passed"
