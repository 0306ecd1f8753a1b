#!/bin/bash
# redmine-up.sh -- install (if needed) and start Redmine 5 (Debian redmine
# 5.0.4, SQLite, served by thin) on 127.0.0.1 with the REST API enabled, an
# admin API key, an "agent" user and a project. Idempotent: safe to run again,
# and after redmine-down.sh.
#
# Env knobs:
#   REDMINE_PORT=3300               listen port (127.0.0.1 only)
#   REDMINE_PROJECT=sla-test        project identifier created for tests
#   REDMINE_ADMIN_PASSWORD=adminpass  REDMINE_AGENT_PASSWORD=agentpass
#   REDMINE_RESET=1                 wipe the SQLite DB, re-migrate, reload default data
#   E2E_STATE=${TMPDIR:-/tmp}/support-sla-e2e
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_NAME=redmine
. "$HERE/lib.sh"
need_root

REDMINE_PORT="${REDMINE_PORT:-3300}"
export REDMINE_PROJECT="${REDMINE_PROJECT:-sla-test}"
export REDMINE_ADMIN_PASSWORD="${REDMINE_ADMIN_PASSWORD:-adminpass}"
export REDMINE_AGENT_PASSWORD="${REDMINE_AGENT_PASSWORD:-agentpass}"
STATE="$E2E_STATE/redmine"
PIDFILE="$STATE/thin.pid"
LOGFILE="$STATE/thin.log"
ENVFILE="$STATE/env"
APP=/usr/share/redmine
DB=/var/lib/dbconfig-common/sqlite3/redmine/instances/default/redmine_default
BASE="http://127.0.0.1:$REDMINE_PORT"
mkdir -p "$STATE" "$E2E_STATE"
t0=$(date +%s)

as_www() {
  (cd "$APP" && setpriv --reuid=www-data --regid=www-data --init-groups \
     env HOME=/tmp RAILS_ENV=production REDMINE_INSTANCE=default "$@")
}

# ---------------------------------------------------------------- install
debconf-set-selections <<'EOF' || log "warning: some debconf preseeds were not accepted (defaults are fine)"
redmine redmine/current-instances string default
redmine redmine/instances/default/dbconfig-install boolean true
redmine redmine/instances/default/database-type select sqlite3
redmine redmine/instances/default/default-language select en
EOF
# thin: the Debian Gemfile adds it to the bundle automatically when installed
# (rails server itself fails: it wants to mkdir /usr/share/redmine/tmp).
# sqlite3: the e2e tests back-date issues and journals in the database.
apt_install redmine redmine-sqlite thin curl sqlite3
# database.yml is written by dbconfig-common; recreate it if it went missing
if [ ! -s /etc/redmine/default/database.yml ]; then
  log "writing /etc/redmine/default/database.yml"
  install -d /etc/redmine/default
  printf 'production:\n  adapter: sqlite3\n  database: %s\n  encoding: utf8\n' "$DB" > /etc/redmine/default/database.yml
  chown root:www-data /etc/redmine/default/database.yml; chmod 640 /etc/redmine/default/database.yml
fi
if ! grep -q '^    thin ' /var/lib/redmine/Gemfile.lock 2>/dev/null \
   || ! grep -q '^    sqlite3 ' /var/lib/redmine/Gemfile.lock 2>/dev/null; then
  log "regenerating Gemfile.lock so that it contains thin and sqlite3"
  rm -f /var/lib/redmine/Gemfile.lock
  (cd "$APP" && bundle install --local --quiet)
  chown www-data:www-data /var/lib/redmine/Gemfile.lock
fi
t_install=$(( $(date +%s) - t0 ))

# ---------------------------------------------------------------- database
# Normally dbconfig-common creates the DB and the postinst migrates it.
# REDMINE_RESET=1 (or a missing DB) re-creates it the same way the postinst does.
if [ "${REDMINE_RESET:-0}" = 1 ] || [ ! -s "$DB" ]; then
  log "creating a fresh Redmine database at $DB"
  stop_pidfile "$PIDFILE" thin thin
  rm -f "$DB"
  install -d -m 770 -o root -g www-data "$(dirname "$DB")"
  as_www env SCHEMA=/dev/null bundle exec rake db:migrate redmine:plugins:migrate >"$STATE/db-init.log" 2>&1 \
    || die "db:migrate failed, see $STATE/db-init.log"
  as_www env REDMINE_LANG=en bundle exec rake redmine:load_default_data >>"$STATE/db-init.log" 2>&1 \
    || die "load_default_data failed, see $STATE/db-init.log"
fi

# ---------------------------------------------------------------- provision
as_www bundle exec rails runner "$HERE/redmine/redmine-provision.rb" >"$STATE/provision.log" 2>&1 \
  || { cat "$STATE/provision.log" >&2; die "provisioning failed"; }
ADMIN_KEY="$(awk '$1=="KEY" && $2=="admin"{print $3}' "$STATE/provision.log")"
AGENT_KEY="$(awk '$1=="KEY" && $2=="agent"{print $3}' "$STATE/provision.log")"
[ -n "$ADMIN_KEY" ] && [ -n "$AGENT_KEY" ] || { cat "$STATE/provision.log" >&2; die "no API keys"; }

# ---------------------------------------------------------------- start
t1=$(date +%s)
if pid_alive "$PIDFILE" thin; then
  log "already running (PID $(cat "$PIDFILE"))"
else
  port_busy "$REDMINE_PORT" && die "port $REDMINE_PORT busy but not by our thin (PID file $PIDFILE)"
  : > "$LOGFILE"
  cd "$APP"
  start_bg "$PIDFILE" "$LOGFILE" setpriv --reuid=www-data --regid=www-data --init-groups \
      env HOME=/tmp RAILS_ENV=production RACK_ENV=production REDMINE_INSTANCE=default \
      bundle exec thin start -R config.ru -a 127.0.0.1 -p "$REDMINE_PORT" -e production
  cd - >/dev/null
fi
wait_http "$BASE/users/current.json" 120 -H "X-Redmine-API-Key: $ADMIN_KEY" \
  || { tail -20 "$LOGFILE" >&2; die "Redmine did not answer on $BASE within 120s"; }
t_start=$(( $(date +%s) - t1 ))

cat > "$ENVFILE" <<EOF
REDMINE_URL=$BASE
REDMINE_API_KEY=$ADMIN_KEY
REDMINE_AGENT_API_KEY=$AGENT_KEY
REDMINE_USER=admin
REDMINE_PASSWORD=$REDMINE_ADMIN_PASSWORD
REDMINE_PROJECT=$REDMINE_PROJECT
REDMINE_PIDFILE=$PIDFILE
REDMINE_DB=$DB
EOF
log "ready: install ${t_install}s, start ${t_start}s, total $(( $(date +%s) - t0 ))s"
echo "Redmine:     $BASE/   (REST: append .json, header X-Redmine-API-Key)"
echo "  admin:     admin:$REDMINE_ADMIN_PASSWORD  API key $ADMIN_KEY"
echo "  agent:     agent:$REDMINE_AGENT_PASSWORD  API key $AGENT_KEY (Developer in $REDMINE_PROJECT)"
echo "  project:   $REDMINE_PROJECT"
echo "  env file:  $ENVFILE   PID file: $PIDFILE   log: $LOGFILE"
