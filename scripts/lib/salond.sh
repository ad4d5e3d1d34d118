# salond, built from the checkout, connected to the private XMPP server and PostgreSQL.
# Sourced by scripts/stack. SPDX-License-Identifier: GPL-3.0-or-later

salond_bin() { printf '%s\n' "${SALON_BIN:-$SALON_BUILD_DIR/server/app/salond}"; }

# salond_configure FILE DOMAIN COMPONENT_PORT SECRET PG_PORT HTTP_PORT API_TOKEN SMTP_PORT
# The format is salond's (deploy/salon.example.toml).
salond_configure() {
  local file=$1 domain=$2 comp=$3 secret=$4 pg=$5 http=$6 token=$7 smtp=$8 spool
  spool="$(cd "$(dirname "$file")" && pwd)/journal-spool"
  cat >"$file" <<EOF
# Written by scripts/stack; regenerated at every \`up\`.
[component]
domain = "$domain"
server_host = "127.0.0.1"
server_port = $comp
secret = "$secret"
keepalive_interval_ms = 10000
keepalive_timeout_ms = 20000
reconnect_initial_ms = 50
reconnect_max_ms = 500

[database]
conninfo = "host=127.0.0.1 port=$pg dbname=salon user=salon"
health_interval_ms = 1000
spool_dir = "$spool"

[http]
listen = "127.0.0.1:$http"
api_token = "$token"

[log]
level = "${SALON_LOG_LEVEL:-info}"
format = "text"

# Every protocol suite runs with the archive (plugins/archive): holds, MAM, history on join.
[plugins.archive]
enabled = true
default_page = 50
max_page = 250
# The retention tests age rows and wait for the purge job: run it often here.
purge_interval_seconds = 1

# Read positions (XEP-0333 markers, own messages), which the email plugin needs.
[plugins.markers]
enabled = true
flush_interval_ms = 200

# Digests to the stack's SMTP sink (mail in \$SALON_RUN_DIR/mail). Short delays so the email
# tests wait seconds, not minutes; each test sets its members' own delay through the API.
[plugins.email]
enabled = true
smtp_url = "smtp://127.0.0.1:$smtp"
smtp_tls = "none"
from_address = "salon@localhost"
from_name = "salon (test stack)"
public_url = "http://127.0.0.1:$http"
link_secret = "$(random_hex 24)"
project_url = "http://127.0.0.1:$http/projects/{project}"
delay_seconds = 2
throttle = ["3s", "6s"]
throttle_reset = "30s"
retry_initial_seconds = 1
retry_max_seconds = 2
poll_interval_ms = 200
senders = 4
connect_timeout_ms = 2000
send_timeout_ms = 15000
EOF
  chmod 600 "$file"
}

# readyz_status URL: the HTTP status of GET URL/readyz ("000" when nothing answers).
readyz_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1/readyz" 2>/dev/null || true
}

# salond_start CONFIG HTTP_URL: start, then wait for /readyz 200 (PostgreSQL up, link open).
salond_start() {
  local cfg=$1 url=$2 bin pid status deadline
  bin=$(salond_bin)
  [[ -x "$bin" ]] || die "no salond at $bin: run scripts/build (or use --no-salond)"
  "$bin" --check-config "$cfg" >/dev/null || die "salond rejected $cfg"
  pid=$(spawn "$LOG_DIR/salond.log" "$bin" --config "$cfg")
  echo "$pid" >"$PID_DIR/salond.pid"
  deadline=$((SECONDS + ${SALON_READY_TIMEOUT:-60}))
  while :; do
    status=$(readyz_status "$url")
    [[ "$status" == 200 ]] && break
    if ! pid_alive "$pid"; then
      log_tail "$LOG_DIR/salond.log" 60
      die "salond exited before it was ready (log: $LOG_DIR/salond.log)"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$LOG_DIR/salond.log" 60
      say "GET $url/readyz: $(curl -s --max-time 2 "$url/readyz" || true)"
      die "salond not ready after ${SALON_READY_TIMEOUT:-60}s (last /readyz status $status)"
    fi
    sleep 0.1
  done
  SALOND_PID=$pid
}

salond_stop() {
  local pid
  pid=$(read_pidfile "$PID_DIR/salond.pid" || true)
  [[ -n "$pid" ]] && stop_pid "$pid" salond 20
  rm -f "$PID_DIR/salond.pid"
}

# salond_kill: SIGKILL (no flush, no goodbye: a crash), then wait until it is gone.
salond_kill() {
  local pid
  pid=$(read_pidfile "$PID_DIR/salond.pid" || true)
  if [[ -n "$pid" ]] && pid_alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_pid_exit "$pid" 10 || die "salond (pid $pid) survived SIGKILL"
  fi
  rm -f "$PID_DIR/salond.pid"
}
