# Shared helpers for scripts/*: paths, logging, processes, ports, secrets.
# Sourced, never executed. SPDX-License-Identifier: GPL-3.0-or-later

SALON_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
# One directory holds every file the private stack writes; override to run a second stack.
SALON_RUN_DIR=${SALON_RUN_DIR:-$SALON_ROOT/.run}
SALON_BUILD_DIR=${SALON_BUILD_DIR:-$SALON_ROOT/build}
SALON_PYTHON=${SALON_PYTHON:-/usr/bin/python3}   # Debian's, with slixmpp; not a pyenv shim
LOG_DIR=$SALON_RUN_DIR/logs
PID_DIR=$SALON_RUN_DIR/pids
STACK_ENV=$SALON_RUN_DIR/stack.env

say() { printf '%s: %s\n' "${SALON_SCRIPT:-salon}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${SALON_SCRIPT:-salon}" "$*" >&2; exit 1; }

# True when PID names a live process; a zombie counts as gone (kill -0 would say alive, and
# here PID 1 reaps orphans only now and then).
pid_alive() {
  local pid=$1 state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# wait_pid_exit PID SECONDS: 0 once the process is gone, 1 on timeout.
wait_pid_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while pid_alive "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# stop_pid PID NAME [GRACE]: SIGTERM, wait up to GRACE s (default 15), then SIGKILL.
stop_pid() {
  local pid=$1 name=$2 grace=${3:-15}
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_pid_exit "$pid" "$grace"; then
    say "$name (pid $pid) ignored SIGTERM for ${grace}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_pid_exit "$pid" 5 || say "$name (pid $pid) is still alive"
  fi
}

read_pidfile() { [[ -s "$1" ]] && tr -dc '0-9' <"$1"; }

# Start a command in the background in its own session, output to LOG; prints its PID.
# fd 9 (scripts/stack's lock) is closed so that services never hold the lock.
spawn() {
  local log=$1; shift
  setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
  echo $!
}

# pick_ports N: N distinct random ports that are free on 127.0.0.1 right now.
pick_ports() {
  "$SALON_PYTHON" - "$1" "${SALON_PORT_MIN:-17000}" "${SALON_PORT_MAX:-17999}" <<'PY'
import random, socket, sys
n, lo, hi = (int(a) for a in sys.argv[1:4])
chosen, held = [], []
for port in random.sample(range(lo, hi + 1), hi - lo + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))   # no SO_REUSEADDR: TIME_WAIT ports count as busy
    except OSError:
        s.close()
        continue
    held.append(s)
    chosen.append(port)
    if len(chosen) == n:
        break
for s in held:
    s.close()
if len(chosen) < n:
    sys.exit(f"only {len(chosen)} free ports in {lo}-{hi}")
print(" ".join(map(str, chosen)))
PY
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_ports SECONDS PID PORT...: until every port accepts connections; fails early when PID dies.
wait_ports() {
  local deadline=$((SECONDS + $1)) pid=$2 port; shift 2
  for port in "$@"; do
    until port_open "$port"; do
      pid_alive "$pid" || return 1
      ((SECONDS < deadline)) || return 1
      sleep 0.1
    done
  done
}

random_hex() { od -An -N"${1:-16}" -tx1 /dev/urandom | tr -d ' \n'; }

# Run as USER (root switches; anyone else runs as themselves). Closes the lock fd (see spawn).
as_user() {
  local user=$1; shift
  if ((EUID == 0)); then runuser -u "$user" -- "$@" 9>&-; else "$@" 9>&-; fi
}

# service_dir NAME USER: the directory for a service's data, owned by USER, under the run dir.
# When USER cannot reach the run dir (a checkout under /root is 0700), the data lives under
# /var/tmp and the run dir holds a symlink to it. Prints the real path.
service_dir() {
  local name=$1 user=$2 link=$SALON_RUN_DIR/$1 real
  if ((EUID != 0)) || runuser -u "$user" -- test -x "$SALON_RUN_DIR"; then
    [[ -L "$link" ]] && rm -f "$link"
    mkdir -p "$link"
    real=$link
  else
    local outside
    outside=/var/tmp/salon-$(printf '%s' "$SALON_RUN_DIR" | sha1sum | cut -c1-12)
    mkdir -p "$outside/$name" && chmod 755 "$outside"
    [[ -d "$link" && ! -L "$link" ]] && rm -rf "$link"
    ln -sfn "$outside/$name" "$link"
    real=$outside/$name
  fi
  ((EUID == 0)) && chown "$user:" "$real"
  printf '%s\n' "$real"
}

# Shell-quote for stack.env: KEY='value' (values never hold a single quote).
env_line() {
  [[ "$2" != *"'"* ]] || die "value of $1 contains a quote"
  printf "%s='%s'\n" "$1" "$2"
}

load_stack_env() {
  [[ -f "$STACK_ENV" ]] || return 1
  set -a
  # shellcheck disable=SC1090
  . "$STACK_ENV"
  set +a
}

log_tail() {
  local file=$1 n=${2:-40}
  [[ -f "$file" ]] || return 0
  printf -- '----- last %s lines of %s -----\n' "$n" "$file" >&2
  tail -n "$n" "$file" >&2
  printf -- '-----\n' >&2
}
