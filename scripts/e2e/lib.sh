# shellcheck shell=bash
# Shared helpers for the e2e up/down scripts. Source it; do not run it.
# Everything here is idempotent and only touches processes recorded in PID files.

E2E_STATE="${E2E_STATE:-${TMPDIR:-/tmp}/support-sla-e2e}"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[%s] %s\n' "${E2E_NAME:-e2e}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (apt-get, /etc, setpriv)"; }

# pkg_installed PKG... : true when every package is fully installed
pkg_installed() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || return 1
  done
}

# Keep maintainer scripts from starting daemons (RT/Prometheus/Alertmanager/exim
# init scripts) on machines that do not already have a policy-rc.d.
_RS_POLICY_CREATED=0
policy_rc_d_on() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    _RS_POLICY_CREATED=1
  fi
}
policy_rc_d_off() {
  if [ "$_RS_POLICY_CREATED" = 1 ]; then rm -f /usr/sbin/policy-rc.d; _RS_POLICY_CREATED=0; fi
}

# apt_install PKG... : installs missing packages only (no recommends), non-interactively.
apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  policy_rc_d_on
  trap policy_rc_d_off EXIT
  apt-get -o DPkg::Lock::Timeout=600 update -qq || die "apt-get update failed"
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" \
      >"$E2E_STATE/apt-$(date +%s).log" 2>&1 \
    || { policy_rc_d_off; die "apt-get install ${missing[*]} failed (see $E2E_STATE/apt-*.log)"; }
  policy_rc_d_off
  trap - EXIT
}

# pid_alive PIDFILE PATTERN : true if the PID in PIDFILE is a live (non-zombie)
# process whose command line contains PATTERN (guards against PID reuse).
pid_alive() {
  local pidfile="$1" pattern="$2" pid state
  [ -s "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)"
  [ "$state" != Z ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# start_bg PIDFILE LOGFILE CMD... : start CMD detached (own session, stdin
# /dev/null) and record the PID of CMD itself (the sh execs into it).
start_bg() {
  local pidfile="$1" logfile="$2"; shift 2
  rm -f "$pidfile"
  setsid sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  local i
  for i in $(seq 1 50); do [ -s "$pidfile" ] && return 0; sleep 0.1; done
  die "process did not start: $*"
}

# stop_pidfile PIDFILE PATTERN NAME : TERM (then KILL after 20s) the recorded PID.
stop_pidfile() {
  local pidfile="$1" pattern="$2" name="$3" pid i
  if ! pid_alive "$pidfile" "$pattern"; then
    [ -e "$pidfile" ] && log "$name: not running (stale PID file removed)" || log "$name: not running"
    rm -f "$pidfile"; return 0
  fi
  pid="$(cat "$pidfile")"
  log "$name: stopping PID $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 200); do pid_alive "$pidfile" "$pattern" || break; sleep 0.1; done
  if pid_alive "$pidfile" "$pattern"; then
    log "$name: still alive after 20s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
}

# port_busy PORT : true if something listens on 127.0.0.1:PORT (or any addr)
port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# wait_http URL TIMEOUT_S [CURL ARGS...] : wait for a 2xx answer
wait_http() {
  local url="$1" timeout="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    curl -fsS -o /dev/null --max-time 5 "$@" "$url" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

# write_if_changed DEST MODE OWNER:GROUP < content ; returns 0 if changed
write_if_changed() {
  local dest="$1" mode="$2" owner="$3" tmp
  tmp="$(mktemp)"; cat > "$tmp"
  if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
    rm -f "$tmp"; chown "$owner" "$dest"; chmod "$mode" "$dest"; return 1
  fi
  install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$tmp" "$dest"; rm -f "$tmp"; return 0
}
