# Private ejabberd 23.01 under the run dir. ejabberdctl switches to the `ejabberd` user, so the
# directory belongs to it. Erlang distribution uses a fixed loopback port (ERL_DIST_PORT): no
# epmd is started or needed, and a per-run-dir node name and cookie keep runs apart.
# Sourced by scripts/stack. SPDX-License-Identifier: GPL-3.0-or-later

EJ_USER=ejabberd

ejabberd_paths() {
  EJ_HOME=$(service_dir ejabberd "$EJ_USER")
  EJ_CTL=$EJ_HOME/ejabberdctl
  ln -sfn "$EJ_HOME/logs" "$LOG_DIR/ejabberd"
}

# ejabberd_configure C2S COMPONENT HTTP DIST USER_DOMAIN COMPONENT_DOMAIN SECRET
#                    HARNESS_PORT HARNESS_DOMAIN HARNESS_SECRET
ejabberd_configure() {
  local c2s=$1 comp=$2 http=$3 dist=$4 user_domain=$5 comp_domain=$6 secret=$7
  local h_port=$8 h_domain=$9 h_secret=${10} node cookie
  ejabberd_paths
  mkdir -p "$EJ_HOME/logs" "$EJ_HOME/spool"
  # Node name and cookie are made once per run dir: Mnesia's schema remembers the node name.
  [[ -s "$EJ_HOME/node" ]] || echo "salon-$(random_hex 4)@localhost" >"$EJ_HOME/node"
  [[ -s "$EJ_HOME/cookie" ]] || random_hex 16 >"$EJ_HOME/cookie"
  node=$(<"$EJ_HOME/node") cookie=$(<"$EJ_HOME/cookie")
  cp /etc/ejabberd/inetrc "$EJ_HOME/inetrc"
  render_snippet "$SALON_ROOT/deploy/ejabberd/salon.yml" "$EJ_HOME/salon.yml" \
    "$comp_domain" "$comp" "$secret"
  # ejabberdctl sources this. The cookie goes through vm.args, not the user's ~/.erlang.cookie.
  cat >"$EJ_HOME/ejabberdctl.cfg" <<EOF
# Written by scripts/stack.
EJABBERD_PID_PATH=$EJ_HOME/ejabberd.pid
ERL_DIST_PORT=$dist
# +sss: ejabberd 23.01 segfaults (fast_xml recursion on a 1 MB scheduler stack) on a c2s stanza
# nested 5,000 deep; 16 MB covers Debian's max_stanza_size of 262144 (see deploy/ejabberd/README.md).
ERL_OPTIONS="+sss 2048 -env ERL_CRASH_DUMP_BYTES 0 -kernel inet_dist_use_interface {127,0,0,1}"
EOF
  printf -- '-setcookie %s\n' "$cookie" >"$EJ_HOME/vm.args"
  cat >"$EJ_CTL" <<EOF
#!/bin/sh
# ejabberdctl for the private ejabberd of $SALON_RUN_DIR (written by scripts/stack).
exec /usr/sbin/ejabberdctl --config-dir "$EJ_HOME" --config "$EJ_HOME/ejabberd.yml" \\
  --logs "$EJ_HOME/logs" --spool "$EJ_HOME/spool" --node "$node" "\$@"
EOF
  chmod 755 "$EJ_CTL"
  cat >"$EJ_HOME/ejabberd.yml" <<EOF
# Written by scripts/stack; regenerated at every \`up\`.
hosts:
  - $user_domain
loglevel: ${SALON_EJABBERD_LOG_LEVEL:-info}
log_rotate_count: 0
certfiles: []
# Tests and the demo log in with PLAIN over plain TCP on loopback: no STARTTLS.
listen:
  -
    port: $c2s
    ip: "127.0.0.1"
    module: ejabberd_c2s
    backlog: 1024
    max_stanza_size: 262144   # Debian's default ejabberd.yml
    starttls: false
    starttls_required: false
  -
    port: $http
    ip: "127.0.0.1"
    module: ejabberd_http
    backlog: 1024
    request_handlers:
      /ws: ejabberd_http_ws
      /bosh: mod_bosh
      /api: mod_http_api      # \`scripts/stack adduser\` in milliseconds (ejabberdctl takes ~2 s)
  # A second component domain that only the test rig's ComponentHarness uses.
  -
    port: $h_port
    ip: "127.0.0.1"
    module: ejabberd_service
    backlog: 1024
    hosts:
      $h_domain:
        password: "$h_secret"
# The deployment snippet, as a real server uses it (domain/port/password substituted).
include_config_file: $EJ_HOME/salon.yml
auth_method: internal
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
api_permissions:
  "ejabberdctl":
    from: ejabberd_ctl
    who: all
    what: "*"
  "stack adduser":
    from: mod_http_api
    who:
      ip: 127.0.0.1/8
    what:
      - register
      - change_password
# mod_ping answers the component's XEP-0199 keepalive pings to the server domain.
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_bosh: {}
  mod_http_api: {}
  mod_admin_extra: {}    # change_password: adduser of an existing account resets it
EOF
  chmod 600 "$EJ_HOME/ejabberd.yml" "$EJ_HOME/salon.yml" "$EJ_HOME/vm.args" "$EJ_HOME/cookie"
  ((EUID == 0)) && chown -R "$EJ_USER:" "$EJ_HOME"
  return 0
}

# ejabberd_start C2S COMPONENT HTTP HARNESS: start in the foreground (in the background), wait
# until every listener accepts. The beam PID is ejabberd's pid file; the wrapper is ours.
ejabberd_start() {
  local ports=("$@") wrapper
  ejabberd_paths
  rm -f "$EJ_HOME/ejabberd.pid"
  wrapper=$(spawn "$LOG_DIR/ejabberd.out" "$EJ_CTL" foreground)
  echo "$wrapper" >"$PID_DIR/xmpp-wrapper.pid"
  if ! wait_ports "${SALON_XMPP_START_TIMEOUT:-60}" "$wrapper" "${ports[@]}"; then
    log_tail "$LOG_DIR/ejabberd.out"
    log_tail "$EJ_HOME/logs/ejabberd.log"
    ejabberd_stop
    die "ejabberd did not open ports ${ports[*]}"
  fi
  XMPP_PID=$(read_pidfile "$EJ_HOME/ejabberd.pid") || die "ejabberd wrote no pid file"
  echo "$XMPP_PID" >"$PID_DIR/xmpp.pid"
}

ejabberd_stop() {
  local beam wrapper
  ejabberd_paths
  beam=$(read_pidfile "$PID_DIR/xmpp.pid" || read_pidfile "$EJ_HOME/ejabberd.pid" || true)
  wrapper=$(read_pidfile "$PID_DIR/xmpp-wrapper.pid" || true)
  # Erlang/OTP treats SIGTERM as init:stop(), a clean shutdown, and needs no ejabberdctl VM.
  [[ -n "$beam" ]] && stop_pid "$beam" ejabberd 20
  [[ -n "$wrapper" ]] && stop_pid "$wrapper" ejabberdctl 10
  rm -f "$PID_DIR/xmpp.pid" "$PID_DIR/xmpp-wrapper.pid"
}

ejabberd_api() {  # ejabberd_api COMMAND JSON: POST to mod_http_api; prints the reply
  curl -sS --fail-with-body --max-time 10 -H 'Content-Type: application/json' -d "$2" \
    "http://127.0.0.1:$SALON_XMPP_HTTP_PORT/api/$1" 2>&1
}

# ejabberd_adduser USER DOMAIN PASSWORD: create, or reset the password of, an account.
# Through mod_http_api (milliseconds); ejabberdctl (a new Erlang VM, ~2 s) when that fails.
ejabberd_adduser() {
  local user=$1 domain=$2 pw=$3 out
  if [[ "$pw" != *[\\\"]* ]]; then   # JSON-safe without escaping
    if out=$(ejabberd_api register "{\"user\":\"$user\",\"host\":\"$domain\",\"password\":\"$pw\"}"); then
      printf '%s\n' "$out"; return 0
    fi
    if [[ "$out" == *"already registered"* ]] &&
       out=$(ejabberd_api change_password "{\"user\":\"$user\",\"host\":\"$domain\",\"newpass\":\"$pw\"}"); then
      echo "password of $user@$domain reset"; return 0
    fi
    say "mod_http_api: $out; trying ejabberdctl"
  fi
  ejabberd_paths
  "$EJ_CTL" register "$user" "$domain" "$pw" 2>&1 ||
    { "$EJ_CTL" change_password "$user" "$domain" "$pw" && echo "password of $user@$domain reset"; }
}

ejabberd_wipe_data() { ejabberd_paths; rm -rf "$EJ_HOME/spool"; }

ejabberd_env() {
  local http=$1 dist=$2
  env_line SALON_WEBSOCKET_URL "ws://127.0.0.1:$http/ws"
  env_line SALON_BOSH_URL "http://127.0.0.1:$http/bosh"
  env_line SALON_XMPP_CONFIG "$EJ_HOME/ejabberd.yml"
  env_line SALON_XMPP_LOG "$EJ_HOME/logs/ejabberd.log"
  env_line SALON_XMPP_CTL "$EJ_CTL"
  env_line SALON_EJABBERD_NODE "$(<"$EJ_HOME/node")"
  env_line SALON_EJABBERD_DIST_PORT "$dist"
  env_line SALON_XMPP_WRAPPER_PID "$(read_pidfile "$PID_DIR/xmpp-wrapper.pid")"
}
