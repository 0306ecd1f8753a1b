#!/bin/bash
# redmine-down.sh -- stop the thin server started by redmine-up.sh (PID file only).
# Leaves packages, config and the SQLite database in place.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_NAME=redmine
. "$HERE/lib.sh"
stop_pidfile "$E2E_STATE/redmine/thin.pid" thin thin
