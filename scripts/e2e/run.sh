#!/usr/bin/env bash
# run.sh -- the end-to-end suite (`make e2e`): installs and starts the real
# Request Tracker 5 and Redmine 5 from Debian packages on loopback (first
# run about 2.5 minutes, then seconds), loads their env files and runs the
# tests that need them. Needs root (apt-get, setpriv). Leaves the servers
# running for the next run; stop them with rt5-down.sh and redmine-down.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE/../.."
E2E_STATE="${E2E_STATE:-${TMPDIR:-/tmp}/support-sla-e2e}"
export E2E_STATE

# One after another: apt and debconf take locks.
"$HERE/rt5-up.sh"
"$HERE/redmine-up.sh"

set -a
. "$E2E_STATE/rt5/env"
. "$E2E_STATE/redmine/env"
set +a

# Every test against a real server skips without these variables: fail
# here instead if one skipped, so a broken setup cannot pass unseen.
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
go test -count=1 -v -run 'Conformance|E2E|States|Skew' \
    ./sources/rt/... ./sources/redmine/... ./cmd/support_sla_exporter/ | tee "$out" | grep -E '^(=== RUN|--- |ok|FAIL|PASS)' || true
if grep -q -- '--- FAIL' "$out" || grep -q '^FAIL' "$out"; then
  echo "e2e: failures above" >&2; exit 1
fi
if grep -E 'is not running' "$out"; then
  echo "e2e: a test skipped because its server was not found" >&2; exit 1
fi
echo "e2e: passed"
