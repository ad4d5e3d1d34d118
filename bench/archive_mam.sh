#!/usr/bin/env bash
# The MAM last-page benchmark (bench/README.md, "archive"): a scratch database with salon's
# schema, a synthetic archive (bench/archive_generate.sql), then pgbench running the plugin's
# last-page SQL in random rooms; prints p50/p99 from pgbench's per-transaction log.
#   bench/archive_mam.sh [ROOMS] [PER_ROOM] [SECONDS]     (defaults 1000 10000 20)
# Needs SALON_PG_CONNINFO / SALON_PG_BIN (scripts/stack env). SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail
rooms=${1:-1000} per_room=${2:-10000} secs=${3:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
psql="$SALON_PG_BIN/psql" pgbench="$SALON_PG_BIN/pgbench"
admin=$(sed 's/dbname=[^ ]*/dbname=postgres/; s/user=[^ ]*/user=postgres/' <<<"$SALON_PG_CONNINFO")
db=$(sed 's/dbname=[^ ]*/dbname=archive_bench/' <<<"$SALON_PG_CONNINFO")
if [[ "${REUSE:-0}" != 1 ]]; then
  "$psql" "$admin" -qc "DROP DATABASE IF EXISTS archive_bench" -c "CREATE DATABASE archive_bench OWNER salon"
  for f in "$root"/schemas/*.sql; do "$psql" "$db" -qv ON_ERROR_STOP=1 -f "$f"; done
  "$psql" "$db" -v rooms="$rooms" -v per_room="$per_room" -f "$root/bench/archive_generate.sql"
  "$psql" "$db" -qc "VACUUM ANALYZE archive"   # what autovacuum does on a live system
fi
read -r lo hi < <("$psql" "$db" -Atc "SELECT min(id), max(id) FROM rooms WHERE jid_local LIKE 'bench-archive-%'" | tr '|' ' ')
log=$(mktemp -d)
(cd "$log" && "$pgbench" "$db" -n -f "$root/bench/archive_mam.pgbench" -D lo="$lo" -D hi="$hi" \
  -T "$secs" -c 1 -r -l --log-prefix="$log/tx")
cat "$log"/tx.* | awk '{print $3}' | sort -n |
  awk '{a[NR]=$1} END {printf "transactions %d  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", NR, a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, a[NR]/1000}'
rm -rf "$log"
