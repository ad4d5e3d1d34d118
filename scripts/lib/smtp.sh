# The private SMTP server (scripts/lib/smtp_sink.py): saves every message to a directory and
# answers 4xx/5xx or slowly when its control file says so. Sourced by scripts/stack.
# SPDX-License-Identifier: GPL-3.0-or-later

smtp_paths() {
  SMTP_DIR=$SALON_RUN_DIR/mail
  SMTP_CONTROL=$SALON_RUN_DIR/smtp-control.json
}

# smtp_start PORT: start, then wait until it accepts connections.
smtp_start() {
  local port=$1 pid deadline
  smtp_paths
  mkdir -p "$SMTP_DIR"
  [[ -f "$SMTP_CONTROL" ]] || echo '{}' >"$SMTP_CONTROL"
  pid=$(spawn "$LOG_DIR/smtp.log" "$SALON_PYTHON" "$SALON_ROOT/scripts/lib/smtp_sink.py" \
    "$port" "$SMTP_DIR" "$SMTP_CONTROL")
  echo "$pid" >"$PID_DIR/smtp.pid"
  deadline=$((SECONDS + 20))
  until "$SALON_PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" \
      2>/dev/null; do
    pid_alive "$pid" || { log_tail "$LOG_DIR/smtp.log" 30; die "the SMTP sink exited"; }
    ((SECONDS < deadline)) || die "the SMTP sink did not listen on $port"
    sleep 0.1
  done
  SMTP_PID=$pid
}

smtp_stop() {
  local pid
  pid=$(read_pidfile "$PID_DIR/smtp.pid" || true)
  [[ -n "$pid" ]] && stop_pid "$pid" smtp 5
  rm -f "$PID_DIR/smtp.pid"
}

smtp_env() {
  smtp_paths
  env_line SALON_SMTP_PORT "$1"
  env_line SALON_SMTP_DIR "$SMTP_DIR"
  env_line SALON_SMTP_CONTROL "$SMTP_CONTROL"
  env_line SALON_SMTP_PIDFILE "$PID_DIR/smtp.pid"
}
