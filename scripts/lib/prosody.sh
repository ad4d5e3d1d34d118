# Private Prosody 0.12 under the run dir. Runs as root (run_as_root: without it Prosody logs
# "Refusing to run as root" and then hangs). Sourced by scripts/stack.
# SPDX-License-Identifier: GPL-3.0-or-later

prosody_paths() {
  PROSODY_HOME=$SALON_RUN_DIR/prosody
  PROSODY_CFG=$PROSODY_HOME/prosody.cfg.lua
}

# prosody_configure C2S COMPONENT HTTP USER_DOMAIN COMPONENT_DOMAIN SECRET HARNESS_DOMAIN HARNESS_SECRET
prosody_configure() {
  local c2s=$1 comp=$2 http=$3 user_domain=$4 comp_domain=$5 secret=$6 h_domain=$7 h_secret=$8
  prosody_paths
  mkdir -p "$PROSODY_HOME/data" "$PROSODY_HOME/certs"
  render_snippet "$SALON_ROOT/deploy/prosody/salon.cfg.lua" "$PROSODY_HOME/salon.cfg.lua" \
    "$comp_domain" "$comp" "$secret"
  cat >"$PROSODY_CFG" <<EOF
-- Written by scripts/stack; regenerated at every \`up\`.
run_as_root = true
pidfile = "$PROSODY_HOME/prosody.pid"
data_path = "$PROSODY_HOME/data"
certificates = "$PROSODY_HOME/certs" -- empty: no TLS on this loopback-only test server
log = { { levels = { min = "${SALON_PROSODY_LOG_LEVEL:-info}" }, to = "file", filename = "$LOG_DIR/prosody.log" } }

interfaces = { "127.0.0.1" }
http_interfaces = { "127.0.0.1" }
c2s_ports = { $c2s }
http_ports = { $http }
https_ports = { }
s2s_ports = { }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }

-- Tests and the demo log in with PLAIN over plain TCP on loopback.
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
consider_websocket_secure = true
consider_bosh_secure = true
authentication = "internal_hashed"
allow_registration = false

-- "posix" is loaded automatically and must not be listed. "ping" answers the component's
-- XEP-0199 keepalive pings to the server domain.
modules_enabled = { "roster", "saslauth", "disco", "ping", "register", "bosh", "websocket" }

VirtualHost "$user_domain"

-- A second component domain that only the test rig's ComponentHarness uses.
Component "$h_domain"
    component_secret = "$h_secret"

-- The deployment snippet, as a real server uses it (domain/port/secret substituted).
Include "$PROSODY_HOME/salon.cfg.lua"
EOF
  chmod 600 "$PROSODY_CFG" "$PROSODY_HOME/salon.cfg.lua"
}

# prosody_start C2S COMPONENT HTTP: start and wait until all three listeners accept.
prosody_start() {
  local ports=("$@") pid
  prosody_paths
  rm -f "$PROSODY_HOME/prosody.pid"
  pid=$(spawn "$LOG_DIR/prosody.out" prosody -F --config "$PROSODY_CFG")
  echo "$pid" >"$PID_DIR/xmpp.pid"
  if ! wait_ports "${SALON_XMPP_START_TIMEOUT:-30}" "$pid" "${ports[@]}"; then
    log_tail "$LOG_DIR/prosody.out"
    log_tail "$LOG_DIR/prosody.log"
    stop_pid "$pid" prosody 5
    die "Prosody did not open ports ${ports[*]}"
  fi
  XMPP_PID=$pid
}

prosody_stop() {
  local pid
  pid=$(read_pidfile "$PID_DIR/xmpp.pid" || true)
  [[ -n "$pid" ]] && stop_pid "$pid" prosody 15
  rm -f "$PID_DIR/xmpp.pid"
}

prosody_adduser() {  # prosody_adduser USER DOMAIN PASSWORD
  prosody_paths
  prosodyctl --config "$PROSODY_CFG" register "$1" "$2" "$3"
}

prosody_wipe_data() { prosody_paths; rm -rf "$PROSODY_HOME/data"; }

prosody_env() {
  local http=$1
  env_line SALON_WEBSOCKET_URL "ws://127.0.0.1:$http/xmpp-websocket"
  env_line SALON_BOSH_URL "http://127.0.0.1:$http/http-bind"
  env_line SALON_XMPP_CONFIG "$PROSODY_CFG"
  env_line SALON_XMPP_LOG "$LOG_DIR/prosody.log"
  env_line SALON_XMPP_CTL "prosodyctl --config $PROSODY_CFG"
}
