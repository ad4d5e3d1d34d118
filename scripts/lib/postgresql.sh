# Private PostgreSQL cluster under the run dir: initdb once, then start/stop with pg_ctl.
# TCP on 127.0.0.1 only (no Unix socket: its path length limit bites in deep checkouts).
# Sourced by scripts/stack. SPDX-License-Identifier: GPL-3.0-or-later

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -x "$dir/pg_ctl" ]] || die "PostgreSQL server binaries not found (apt-get install postgresql)"
  printf '%s\n' "$dir"
}

PG_USER=postgres   # the OS user the cluster runs as (PostgreSQL refuses root)

pg_paths() {
  PG_BIN=$(pg_bin_dir)
  PG_HOME=$(service_dir postgresql "$PG_USER")
  PG_DATA=$PG_HOME/data
  PG_LOG=$PG_HOME/server.log
  ln -sfn "$PG_LOG" "$LOG_DIR/postgresql.log"
}

pg_psql() {  # pg_psql PORT SQL...: as the superuser, stop at the first error
  local port=$1; shift
  PGOPTIONS=--client-min-messages=warning \
    "$PG_BIN/psql" "host=127.0.0.1 port=$port user=postgres dbname=postgres" \
    -X -q -At -v ON_ERROR_STOP=1 "$@"
}

pg_init_once() {
  [[ -s "$PG_DATA/PG_VERSION" ]] && return 0
  say "initdb $PG_DATA"
  rm -rf "$PG_DATA"
  as_user "$PG_USER" "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 >"$PG_HOME/initdb.log" 2>&1 || { log_tail "$PG_HOME/initdb.log"; die "initdb failed"; }
}

# pg_start PORT: start the cluster and wait until it accepts connections.
pg_start() {
  local port=$1
  pg_paths
  pg_init_once
  if ! as_user "$PG_USER" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start \
      -o "-p $port -k '' -c listen_addresses=127.0.0.1" >/dev/null; then
    log_tail "$PG_LOG"
    die "PostgreSQL did not start on port $port"
  fi
  PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
  echo "$PG_PID" >"$PID_DIR/postgresql.pid"
}

# pg_prepare PORT FRESH: role and database `salon` (owner salon, may create scratch databases).
pg_prepare() {
  local port=$1 fresh=$2
  pg_psql "$port" <<'SQL'
SELECT 'CREATE ROLE salon LOGIN CREATEDB'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'salon') \gexec
SQL
  if [[ "$fresh" == 1 ]]; then
    pg_psql "$port" -c 'DROP DATABASE IF EXISTS salon WITH (FORCE)'
  fi
  pg_psql "$port" <<'SQL'
SELECT 'CREATE DATABASE salon OWNER salon'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'salon') \gexec
SQL
}

pg_stop() {
  local data=$1 pid
  pid=$(read_pidfile "$PID_DIR/postgresql.pid" || true)
  if [[ -n "$pid" ]] && pid_alive "$pid"; then
    if ! as_user "$PG_USER" "$(pg_bin_dir)/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null; then
      say "pg_ctl stop failed; stopping postmaster $pid by signal"
      stop_pid "$pid" postgresql 15
    fi
  fi
  rm -f "$PID_DIR/postgresql.pid"
}

pg_env() {
  local port=$1
  env_line SALON_PG_HOST 127.0.0.1
  env_line SALON_PG_PORT "$port"
  env_line SALON_PG_CONNINFO "host=127.0.0.1 port=$port dbname=salon user=salon"
  env_line SALON_PG_ADMIN_CONNINFO "host=127.0.0.1 port=$port dbname=postgres user=postgres"
  env_line SALON_PG_DATA "$PG_DATA"
  env_line SALON_PG_BIN "$PG_BIN"
  env_line SALON_PG_LOG "$PG_LOG"
  env_line SALON_PG_PID "$PG_PID"
  env_line SALON_PG_PIDFILE "$PID_DIR/postgresql.pid"
}
