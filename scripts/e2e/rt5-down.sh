#!/bin/bash
# rt5-down.sh -- stop the RT server started by rt5-up.sh (PID file only).
# Leaves packages, config and the SQLite database in place (rt5-up.sh reuses them).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_NAME=rt5
. "$HERE/lib.sh"
stop_pidfile "$E2E_STATE/rt5/rt-server.pid" rt-server rt-server
