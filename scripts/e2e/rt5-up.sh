#!/bin/bash
# rt5-up.sh -- install (if needed) and start Request Tracker 5 (Debian
# request-tracker5 5.0.3, SQLite backend) on 127.0.0.1, with REST2, an auth
# token for root, SLA levels Premium/Production/Basic and an SLA-enabled queue.
# Idempotent: safe to run again, and after rt5-down.sh.
#
# Env knobs:
#   RT_PORT=8480           listen port (127.0.0.1 only)
#   RT_WORKERS=3           Starlet worker processes
#   RT_SLA_TZ=Europe/Berlin timezone of the SLA business hours (Mon-Fri 08:00-20:00)
#   RT_QUEUE=Support       SLA-enabled queue created for tests
#   RT_ROOT_PASSWORD=password  (initial root password; used for basic auth)
#   RT_RESET=1             wipe the SQLite database and start from an empty RT
#   E2E_STATE=${TMPDIR:-/tmp}/support-sla-e2e   PID files, logs, env file
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_NAME=rt5
. "$HERE/lib.sh"
need_root

RT_PORT="${RT_PORT:-8480}"
RT_WORKERS="${RT_WORKERS:-3}"
RT_SLA_TZ="${RT_SLA_TZ:-Europe/Berlin}"
RT_QUEUE="${RT_QUEUE:-Support}"
RT_ROOT_PASSWORD="${RT_ROOT_PASSWORD:-password}"
STATE="$E2E_STATE/rt5"
PIDFILE="$STATE/rt-server.pid"
LOGFILE="$STATE/rt-server.log"
TOKENFILE="$STATE/root.token"
ENVFILE="$STATE/env"
RT_DB=/var/lib/dbconfig-common/sqlite3/request-tracker5/rtdb
RT_SERVER=/usr/share/request-tracker5/libexec/rt-server
SITECFG_DIR=/etc/request-tracker5/RT_SiteConfig.d
BASE="http://127.0.0.1:$RT_PORT"
mkdir -p "$STATE" "$E2E_STATE"
chmod 755 "$STATE"
t0=$(date +%s)

as_www() { setpriv --reuid=www-data --regid=www-data --init-groups env HOME=/tmp "$@"; }

# ---------------------------------------------------------------- install
# dbconfig-common (SQLite) creates and initialises the DB during postinst.
debconf-set-selections <<EOF || log "warning: some debconf preseeds were not accepted (defaults are fine)"
request-tracker5 request-tracker5/rtname string rt.local
request-tracker5 request-tracker5/organization string example.test
request-tracker5 request-tracker5/correspondaddress string rt@localhost
request-tracker5 request-tracker5/commentaddress string rt-comment@localhost
request-tracker5 request-tracker5/webbaseurl string $BASE
request-tracker5 request-tracker5/webpath string /rt
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/dbconfig-install boolean true
request-tracker5 request-tracker5/database-type select sqlite3
EOF
if ! pkg_installed request-tracker5 rt5-db-sqlite; then
  # only meaningful on first install; the postinst resets it afterwards
  echo "request-tracker5 request-tracker5/initial-root-password password $RT_ROOT_PASSWORD" | debconf-set-selections || true
fi
apt_install request-tracker5 rt5-db-sqlite sqlite3 w3m curl
t_install=$(( $(date +%s) - t0 ))

# RT_SiteConfig.pm is created root:root 0600 by ucf; RT running as www-data
# must read it (otherwise: "Couldn't load RT config file RT_SiteConfig.pm").
chown root:www-data /etc/request-tracker5/RT_SiteConfig.pm
chmod 640 /etc/request-tracker5/RT_SiteConfig.pm

# ---------------------------------------------------------------- config
changed=0
write_if_changed "$SITECFG_DIR/90-support-sla-e2e.pm" 640 root:www-data <<EOF && changed=1 || true
# Managed by rt5-up.sh (support_sla_exporter e2e) -- local integration-test RT instance.
# DB settings repeated here so RT works even if dbconfig-common did not write 51-dbconfig-common.pm
Set(\$DatabaseType, "SQLite");
Set(\$DatabaseName, "$RT_DB");
Set(\$WebPath, "");
Set(\$WebDomain, "127.0.0.1");
Set(\$WebPort, $RT_PORT);
Set(\$WebBaseURL, "$BASE");
Set(@ReferrerWhitelist, qw(127.0.0.1:$RT_PORT localhost:$RT_PORT));
Set(\$Timezone, "UTC");
Set(\$LogToSyslog, undef);
Set(\$LogToSTDERR, "warning");
Set(\$MailCommand, "testfile");   # never try to deliver mail

# Business hours for SLA: Monday-Friday 08:00-20:00 (in the level's Timezone).
Set(%ServiceBusinessHours,
    'Default' => {
        0 => { Name => 'Sunday',    Start => undef,   End => undef },
        1 => { Name => 'Monday',    Start => '08:00', End => '20:00' },
        2 => { Name => 'Tuesday',   Start => '08:00', End => '20:00' },
        3 => { Name => 'Wednesday', Start => '08:00', End => '20:00' },
        4 => { Name => 'Thursday',  Start => '08:00', End => '20:00' },
        5 => { Name => 'Friday',    Start => '08:00', End => '20:00' },
        6 => { Name => 'Saturday',  Start => undef,   End => undef },
    },
);

# Response = first reply by staff to a requestor; Resolve = from Created.
Set(%ServiceAgreements,
    Default      => 'Basic',
    QueueDefault => { '$RT_QUEUE' => 'Production' },
    Levels => {
        'Premium' => {
            Timezone => '$RT_SLA_TZ', BusinessHours => 'Default',
            Response => { BusinessMinutes => 60 },        # 1 business hour
            Resolve  => { BusinessMinutes => 60*4 },      # 4 business hours
        },
        'Production' => {
            Timezone => '$RT_SLA_TZ', BusinessHours => 'Default',
            Response => { BusinessMinutes => 60*4 },      # 4 business hours
            Resolve  => { BusinessMinutes => 60*24 },     # 2 business days
        },
        'Basic' => {
            Timezone => '$RT_SLA_TZ', BusinessHours => 'Default',
            Response => { BusinessMinutes => 60*12 },     # 1 business day
            Resolve  => { BusinessMinutes => 60*60 },     # 5 business days
        },
    },
);
1;
EOF
perl -c "$SITECFG_DIR/90-support-sla-e2e.pm" >/dev/null 2>&1 || die "generated 90-support-sla-e2e.pm does not compile"

# ---------------------------------------------------------------- database
# Normally dbconfig-common creates + initialises the SQLite DB in the postinst.
# RT_RESET=1 (or a missing DB, e.g. after a purge/reinstall) re-initialises it.
if [ "${RT_RESET:-0}" = 1 ] || [ ! -s "$RT_DB" ]; then
  log "initialising a fresh RT database at $RT_DB"
  stop_pidfile "$PIDFILE" rt-server rt-server
  rm -f "$RT_DB" "$TOKENFILE"
  install -d -m 770 -o root -g www-data "$(dirname "$RT_DB")"
  pwfile="$(mktemp)"; echo "$RT_ROOT_PASSWORD" > "$pwfile"; chmod 644 "$pwfile"
  as_www /usr/sbin/rt-setup-database-5 --action init --root-password-file "$pwfile" \
      >"$STATE/db-init.log" 2>&1 || { rm -f "$pwfile"; die "rt-setup-database failed, see $STATE/db-init.log"; }
  rm -f "$pwfile"
fi

# ---------------------------------------------------------------- provision
# queue with SLA enabled, users agent/customer, rights (idempotent)
RT_QUEUE="$RT_QUEUE" RT_ROOT_PASSWORD="$RT_ROOT_PASSWORD" as_www perl "$HERE/rt/rt-provision.pl" >"$STATE/provision.log" 2>&1 \
  || { cat "$STATE/provision.log" >&2; die "provisioning failed"; }
grep -v 'internal HTML converter' "$STATE/provision.log" >&2 || true

# ---------------------------------------------------------------- start
if pid_alive "$PIDFILE" rt-server && [ "$changed" = 1 ]; then
  log "config changed, restarting"
  stop_pidfile "$PIDFILE" rt-server rt-server
fi
t1=$(date +%s)
if pid_alive "$PIDFILE" rt-server; then
  log "already running (PID $(cat "$PIDFILE"))"
else
  port_busy "$RT_PORT" && die "port $RT_PORT busy but not by our rt-server (PID file $PIDFILE)"
  : > "$LOGFILE"; chown www-data "$LOGFILE"
  start_bg "$PIDFILE" "$LOGFILE" setpriv --reuid=www-data --regid=www-data --init-groups \
      env HOME=/tmp "$RT_SERVER" --server Starlet --host 127.0.0.1 --port "$RT_PORT" \
      --max-workers "$RT_WORKERS"
fi
wait_http "$BASE/REST/2.0/rt" 120 -u "root:$RT_ROOT_PASSWORD" \
  || { tail -20 "$LOGFILE" >&2; die "RT did not answer on $BASE within 120s"; }
t_start=$(( $(date +%s) - t1 ))

# ---------------------------------------------------------------- token
token=""
if [ -s "$TOKENFILE" ]; then
  token="$(cat "$TOKENFILE")"
  curl -fsS -o /dev/null -H "Authorization: token $token" "$BASE/REST/2.0/rt" || token=""
fi
if [ -z "$token" ]; then
  token="$(as_www perl "$HERE/rt/rt-token.pl" e2e 2>/dev/null | tail -1)"
  [[ "$token" =~ ^[0-9]+-[0-9]+-[0-9a-f]+$ ]] || die "could not create auth token"
  echo "$token" > "$TOKENFILE"; chmod 600 "$TOKENFILE"
fi
curl -fsS -o /dev/null -H "Authorization: token $token" "$BASE/REST/2.0/queue/$RT_QUEUE" \
  || die "token check failed"

cat > "$ENVFILE" <<EOF
RT_URL=$BASE
RT_REST2_URL=$BASE/REST/2.0
RT_TOKEN=$token
RT_USER=root
RT_PASSWORD=$RT_ROOT_PASSWORD
RT_AGENT=agent:${RT_AGENT_PASSWORD:-agentpass}
RT_CUSTOMER=customer:${RT_CUSTOMER_PASSWORD:-customerpass}
RT_QUEUE=$RT_QUEUE
RT_PIDFILE=$PIDFILE
EOF
log "ready: install/provision ${t_install}s, start ${t_start}s, total $(( $(date +%s) - t0 ))s"
echo "RT 5 REST2:  $BASE/REST/2.0/   (web UI: $BASE/)"
echo "  token:     Authorization: token $token"
echo "  basic:     root:$RT_ROOT_PASSWORD  agent:${RT_AGENT_PASSWORD:-agentpass} (staff)  customer:${RT_CUSTOMER_PASSWORD:-customerpass} (requestor)"
echo "  queue:     $RT_QUEUE (SLA enabled; levels Premium/Production/Basic, TZ $RT_SLA_TZ)"
echo "  env file:  $ENVFILE   PID file: $PIDFILE   log: $LOGFILE"
