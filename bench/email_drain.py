#!/usr/bin/python3
"""Email digests drained through the stack's SMTP sink (issue 13, "Performance").

Seeds PostgreSQL with MEMBERS members in ROOMS_PER_MEMBER rooms each (5 members per room), a
few archived messages per room from someone else, and one pending notification per (room,
member) — 10,000 for 2,000 members by default — due over SPREAD seconds from now (a member's
rooms all due at the same moment, so each member gets one digest). Then waits until every
member's digest is in the sink and prints emails/s and the lateness of each email against its
due time (when the sink stored it − due_at).

Run against a running stack (scripts/stack up): bench/email_drain.py [--members 2000]
[--rooms-per-member 5] [--spread 20]. It deletes what it seeded afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "protocol"))
from lib.stack import load_env  # noqa: E402


def psql(env: dict[str, str], sql: str) -> str:
    out = subprocess.run([f"{env['SALON_PG_BIN']}/psql", env["SALON_PG_CONNINFO"], "-v",
                          "ON_ERROR_STOP=1", "-Atq"], input=sql, capture_output=True, text=True,
                         timeout=600)
    if out.returncode != 0:
        sys.exit(f"psql failed: {out.stderr}")
    return out.stdout


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=2000)
    ap.add_argument("--rooms-per-member", type=int, default=5)
    ap.add_argument("--spread", type=float, default=20.0, help="due times over this many seconds")
    ap.add_argument("--lead", type=float, default=3.0, help="the first is due this long after seeding")
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()
    env = load_env()
    run = uuid.uuid4().hex[:8]
    n, k = args.members, args.rooms_per_member
    rooms = n  # member i is in rooms i .. i+k-1 (mod n): k members per room
    mail_dir = Path(env["SALON_SMTP_DIR"])
    # The sink numbers its files: only the ones after those already there are read.
    next_seq = len(list(mail_dir.glob("*.eml"))) + 1
    t_seed = time.time()
    sql = f"""
BEGIN;
CREATE TEMP TABLE b_rooms AS
  SELECT g AS i, 'drain-{run}-' || g AS local FROM generate_series(0, {rooms - 1}) g;
INSERT INTO rooms (jid_local, name) SELECT local, 'Drain ' || i FROM b_rooms;
CREATE TEMP TABLE b_map AS
  SELECT r.id AS room_id, b.i AS room_i, m.m AS member_i,
         'drain-{run}-m' || m.m || '@localhost' AS jid
  FROM b_rooms b JOIN rooms r ON r.jid_local = b.local
  CROSS JOIN LATERAL (SELECT (b.i - d + {rooms}) % {rooms} AS m FROM generate_series(0, {k - 1}) d) m;
INSERT INTO affiliations (room_id, jid, affiliation, nick, email, role)
  SELECT room_id, jid, 'member', 'M' || member_i, 'drain-{run}-m' || member_i || '@example.com', 'designer'
  FROM b_map;
INSERT INTO archive (room_id, stanza_id, ts, kind, nick, sender_jid, occupant_id, body, stanza)
  SELECT r.id, 'drain-{run}-' || r.id || '-' || s, now() - make_interval(secs => 60 - s),
         'message', 'Client', 'client-{run}@localhost', 'occ',
         'Message ' || s || ' about the project', '<message/>'
  FROM rooms r CROSS JOIN generate_series(1, 3) s WHERE r.jid_local LIKE 'drain-{run}-%';
INSERT INTO email_pending (room_id, jid, first_stanza_id, since, due_at)
  SELECT room_id, jid, NULL, now() - interval '61 seconds',
         now() + make_interval(secs => {args.lead} + {args.spread} * member_i / {n})
  FROM b_map;
SELECT count(*) FROM email_pending WHERE jid LIKE 'drain-{run}-%';
SELECT extract(epoch FROM now());
COMMIT;
"""
    out = psql(env, sql).split()
    pending, t0 = int(out[0]), float(out[1])
    print(f"seeded {pending} notifications for {n} members in {rooms} rooms in "
          f"{time.time() - t_seed:.1f}s; due from +{args.lead}s over {args.spread}s", flush=True)
    due = {f"drain-{run}-m{i}@example.com": t0 + args.lead + args.spread * i / n for i in range(n)}
    got: dict[str, float] = {}
    deadline = time.time() + args.timeout
    while len(got) < n and time.time() < deadline:
        while (mail_dir / f"{next_seq:06d}.eml").exists():
            p = mail_dir / f"{next_seq:06d}.eml"
            next_seq += 1
            envelope = json.loads(p.with_suffix(".json").read_text())
            for rcpt in envelope["rcpt_tos"]:
                if rcpt in due:
                    if rcpt in got:
                        print(f"DUPLICATE digest to {rcpt}", flush=True)
                    got[rcpt] = envelope["received_at"]
        time.sleep(0.2)
    late = [got[a] - due[a] for a in got]
    first, last = min(got.values()), max(got.values())
    span = last - first
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}")
    print(f"digests received: {len(got)} of {n} ({pending} notifications)")
    if late:
        print(f"throughput while draining: {len(got) / max(span, 1e-9):.0f} emails/s "
              f"({len(got)} in {span:.1f}s)")
        print(f"lateness vs due: p50 {percentile(late, 50):.2f}s, p99 {percentile(late, 99):.2f}s, "
              f"max {max(late):.2f}s, mean {statistics.mean(late):.2f}s")
    psql(env, f"DELETE FROM rooms WHERE jid_local LIKE 'drain-{run}-%'; "
              f"DELETE FROM email_outbox WHERE jid LIKE 'drain-{run}-%';")
    sys.exit(0 if len(got) == n else 1)


if __name__ == "__main__":
    main()
