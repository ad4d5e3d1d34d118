# The Converse.js demo page (deploy/web) served by deploy/web/serve.py on a loopback port.
# Sourced by scripts/stack (`web-up`, and `down` stops it). The page reads $SALON_RUN_DIR/web.json.
# SPDX-License-Identifier: GPL-3.0-or-later

# web_configure FILE ROOM DEMO_ACCOUNTS_JSON: the page's config for the running stack.
web_configure() {
  local file=$1 room=$2 accounts=${3:-[]}
  "$SALON_PYTHON" - "$file" "$room" "$accounts" <<'PY'
import json, os, sys
file, room, accounts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
cfg = {
    "websocket_url": os.environ["SALON_WEBSOCKET_URL"],
    "user_domain": os.environ["SALON_USER_DOMAIN"],
    "muc_domain": os.environ["SALON_COMPONENT_DOMAIN"],
    "room": room,
    "mam_page_size": int(os.environ.get("SALON_WEB_MAM_PAGE_SIZE", "50")),
    "loglevel": os.environ.get("SALON_WEB_LOGLEVEL", "warn"),
    "demo_accounts": accounts,
}
with open(file + ".tmp", "w") as f:
    json.dump(cfg, f, indent=1)
os.replace(file + ".tmp", file)
PY
}

# web_start PORT CONFIG: start serve.py, wait until it answers; sets WEB_PID.
web_start() {
  local port=$1 cfg=$2 pid
  pid=$(spawn "$LOG_DIR/web.log" "$SALON_PYTHON" "$SALON_ROOT/deploy/web/serve.py" "$port" "$cfg")
  echo "$pid" >"$PID_DIR/web.pid"
  if ! wait_ports 15 "$pid" "$port"; then
    log_tail "$LOG_DIR/web.log"
    stop_pid "$pid" web 5
    die "the demo page server did not open port $port"
  fi
  WEB_PID=$pid
}

web_stop() {
  local pid
  pid=$(read_pidfile "$PID_DIR/web.pid" || true)
  [[ -n "$pid" ]] && stop_pid "$pid" web 5
  rm -f "$PID_DIR/web.pid"
}
