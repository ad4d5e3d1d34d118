#!/usr/bin/python3
"""Faults under load, with nothing lost (issue 12 §4).

A sustained groupchat load runs through the real XMPP server of the private stack (Prosody or
ejabberd, whichever `scripts/stack up` started) into salond, and during it, one after the
other:
    kill   SIGKILL salond, then start it again the way scripts/stack does
    pg     stop PostgreSQL for --pg-down seconds (default 60), then start it again
    xmpp   restart the XMPP server (clients reconnect and rejoin, as real clients do)
    spoolkill  stop PostgreSQL, SIGKILL salond 3 s later (what it reflected meanwhile is only
           in its spool file), start PostgreSQL, start salond
After each: every message whose sender saw it reflected is in the archive (PostgreSQL) exactly
once, under the reflected stanza-id, in the order clients received it; every message not
reflected got an error back (or its sender's stream dropped); the occupants are still joined
(self-ping), without a rejoin except after the XMPP restart, and receive messages again;
/readyz went non-200 (503; nothing answers while salond is dead) and back to 200.
Prints the counts per phase (see checks.py) and exits 1 if anything must-be-zero is not.

Run:  scripts/stack up && /usr/bin/python3 tests/fault/faults.py [--pg-down 60] [--junit F]
(scripts/test runs it once per XMPP server with a shorter --pg-down; see README.)
"""
from __future__ import annotations

import argparse
import concurrent.futures
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "protocol")]

import logging  # noqa: E402

import requests  # noqa: E402

from checks import PhaseResult, account, archive_rows, table, timing  # noqa: E402
from junit import write_junit  # noqa: E402
from lib.client import ClientLoop  # noqa: E402
from lib.http import SalondHttp  # noqa: E402
from lib.stack import load_env, run_dir, stack as _stack_cmd  # noqa: E402
from lib.xmlutil import NS_PING  # noqa: E402
from load import Cut, LoadClient, Pacer, Supervisor, Tracker  # noqa: E402
from muc_support import Accounts, MucWorld, wait_until  # noqa: E402

logging.getLogger("slixmpp").setLevel(logging.CRITICAL)
EVENTS: list = []   # the current run's Tracker.events (stack commands, for the report)


def stack_cmd(*args: str, timeout: float = 120.0) -> None:
    """scripts/stack ARGS, noted (start and end) in the run's event list."""
    what = " ".join(args)
    EVENTS.append((time.monotonic(), f"{what} began"))
    _stack_cmd(*args, timeout=timeout)
    EVENTS.append((time.monotonic(), f"{what} done"))
FAULTS = ("kill", "pg", "xmpp", "spoolkill")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rooms", type=int, default=12)
    p.add_argument("--per-room", type=int, default=3, help="occupants per room, each a sender")
    p.add_argument("--rate", type=float, default=7.0,
                   help="messages/s per occupant (salond's flood limit is 10/s)")
    p.add_argument("--faults", default=",".join(FAULTS),
                   help=f"comma-separated, in order, from {','.join(FAULTS)}")
    p.add_argument("--pg-down", type=float, default=60.0, help="seconds PostgreSQL stays stopped")
    p.add_argument("--kill-down", type=float, default=1.0, help="seconds between SIGKILL and start")
    p.add_argument("--lead", type=float, default=3.0, help="load seconds before each fault")
    p.add_argument("--tail", type=float, default=3.0, help="load seconds after each recovery")
    p.add_argument("--settle", type=float, default=30.0, help="max seconds for answers and replay")
    p.add_argument("--junit", help="write a JUnit XML report here")
    a = p.parse_args(argv)
    a.faults = [f for f in a.faults.split(",") if f]
    bad = [f for f in a.faults if f not in FAULTS]
    if bad:
        p.error(f"unknown fault {bad}; choose from {FAULTS}")
    return a


class Readyz:
    """Polls GET /readyz every 50 ms; remembers the statuses seen per phase (0 = no answer)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/readyz"
        self.phase = "warmup"
        self.seen: dict[str, list[int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="readyz", daemon=True)
        self._session = requests.Session()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                status = self._session.get(self.url, timeout=1).status_code
            except requests.RequestException:
                status = 0
            statuses = self.seen.setdefault(self.phase, [])
            if not statuses or statuses[-1] != status:
                statuses.append(status)


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stack = load_env(run_dir() / "stack.env")
        if self.stack.get("SALON_SALOND_RUNNING") != "1":
            raise SystemExit("faults.py: salond is not part of this stack (scripts/stack up)")
        self.loop = ClientLoop()
        self.http = SalondHttp(self.stack["SALON_HTTP_URL"], self.stack["SALON_API_TOKEN"])
        self.muc = MucWorld(self.stack, self.http, self.loop, Accounts(self.stack))
        self.tracker = Tracker()
        self.tracker.events = EVENTS
        self.clients: list[LoadClient] = []
        self.rooms = []
        self.results: dict[str, PhaseResult] = {}
        self.phase_failures: dict[str, list[str]] = {}
        self.readyz = Readyz(self.stack["SALON_HTTP_URL"])
        self.pool = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="fault")

    # --- setup -----------------------------------------------------------------------------

    def setup(self) -> None:
        a = self.args
        for r in range(a.rooms):
            accounts = [self.muc.user(f"f{r}n{i}") for i in range(a.per_room)]
            room = self.muc.project(*[(acc, "designer", f"n{i}") for i, acc in enumerate(accounts)],
                                    name=f"Fault room {r}")
            self.rooms.append(room)
            self.clients += [LoadClient(self.muc, self.tracker, room, f"n{i}", acc)
                             for i, acc in enumerate(accounts)]
        list(self.pool.map(lambda lc: lc.connect_and_join(15), self.clients))
        # SIGKILL gives salond no chance to flush its occupants: wait for the write-behind.
        wait_until(lambda: self.persisted_occupants() >= len(self.clients), 20,
                   what="every occupant persisted by salond")

    def persisted_occupants(self) -> int:
        pids = ",".join(f"'{r.pid}'" for r in self.rooms)
        out = subprocess.run([f"{self.stack['SALON_PG_BIN']}/psql", self.stack["SALON_PG_CONNINFO"],
                              "-Atqc", "SELECT count(*) FROM occupants o JOIN rooms r ON r.id = o.room_id"
                              f" WHERE r.jid_local IN ({pids})"], capture_output=True, text=True, timeout=10)
        return int(out.stdout.strip() or 0) if out.returncode == 0 else -1

    # --- faults ----------------------------------------------------------------------------

    def fault_kill(self) -> None:
        self.fault_kill_only()
        stack_cmd("start-salond", timeout=90)

    def fault_pg(self) -> None:
        stack_cmd("stop-pg")
        time.sleep(self.args.pg_down)
        stack_cmd("start-pg", timeout=90)

    def fault_spoolkill(self) -> None:
        """SIGKILL while PostgreSQL is down: what was reflected is only in the spool file."""
        stack_cmd("stop-pg")
        time.sleep(3.0)
        self.fault_kill_only()
        stack_cmd("start-pg", timeout=90)
        stack_cmd("start-salond", timeout=90)

    def fault_kill_only(self) -> None:
        t_from = time.monotonic()
        stack_cmd("stop-salond", "--kill")
        time.sleep(self.args.kill_down)
        self.tracker.cuts.append(Cut(t_from, time.monotonic()))   # salond starts after this

    def fault_xmpp(self) -> None:
        stack_cmd("restart-xmpp", timeout=120)

    def run_phase(self, name: str, pacer: Pacer, supervisor: Supervisor) -> None:
        fails = self.phase_failures.setdefault(name, [])
        pacer.phase = self.readyz.phase = name
        rejoins = sum(lc.rejoins for lc in self.clients)
        time.sleep(self.args.lead)
        t0 = time.monotonic()
        getattr(self, f"fault_{name}")()
        try:
            self.http.wait_status("/readyz", 200, timeout=60)
            wait_until(supervisor.all_ready, 60, interval=0.1, what="every client joined again")
        except AssertionError as e:
            fails.append(str(e))
        recovered = time.monotonic()
        print(f"fault {name}: recovered {recovered - t0:.1f}s after it began", flush=True)
        time.sleep(self.args.tail)
        self.check_occupants(name, recovered, fails)
        statuses = self.readyz.seen.get(name, [])
        if not any(s != 200 for s in statuses) or not statuses or statuses[-1] != 200:
            fails.append(f"/readyz statuses {statuses}: wanted non-200 then 200")
        if name != "xmpp" and sum(lc.rejoins for lc in self.clients) != rejoins:
            fails.append("clients had to rejoin (their streams dropped)")

    def check_occupants(self, name: str, since: float, fails: list[str]) -> None:
        def ping(lc: LoadClient) -> str:
            try:
                r = self.muc.iq(lc.client, lc.room.occ(lc.nick), "get", f"<ping xmlns='{NS_PING}'/>", 10)
            except Exception as e:
                return f"{lc.jid}: self-ping: {e!r}"[:300]
            if r.get("type") != "result":
                return f"{lc.jid}: self-ping answered {r.get('type')}"
            try:
                wait_until(lambda: self.tracker.seen[lc.jid].last_at >= since, 30, interval=0.1)
            except (AssertionError, KeyError):
                return f"{lc.jid}: no message received since the recovery"
            return ""
        bad = [x for x in self.pool.map(ping, self.clients) if x]
        if bad:
            fails.append(f"{len(bad)} occupants not in their room: {bad[:3]}")

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> bool:
        a = self.args
        t_start = time.monotonic()
        self.setup()
        n = len(self.clients)
        print(f"{len(self.rooms)} rooms x {a.per_room} occupants, {n * a.rate:.0f} msg/s "
              f"({n * a.rate * a.per_room:.0f} deliveries/s) through {self.stack['SALON_XMPP_SERVER']}; "
              f"faults {','.join(a.faults)}; PostgreSQL down {a.pg_down:g}s", flush=True)
        pacer = Pacer(self.loop, self.tracker, self.clients, a.rate)
        supervisor = Supervisor(self.clients)
        self.readyz.start()
        supervisor.start()
        pacer.start()
        try:
            time.sleep(a.lead)
            for name in a.faults:
                self.run_phase(name, pacer, supervisor)
        finally:
            pacer.stop()
        self.settle()
        supervisor.stop()
        self.readyz.stop()
        rows = archive_rows(self.stack, [r.pid for r in self.rooms])
        self.results = account(self.tracker, rows, ["warmup", *a.faults])
        for name, fails in self.phase_failures.items():
            self.results[name].failures += fails
        self.report(time.monotonic() - t_start, supervisor)
        return all(r.ok for r in self.results.values())

    def settle(self) -> None:
        """Until every message has its answer and the spool has been replayed."""
        deadline = time.monotonic() + self.args.settle
        while time.monotonic() < deadline:
            self.tracker.settled()
            if all(s.answered or self.tracker.in_flight(s) for s in self.tracker.sent):
                break
            time.sleep(0.2)
        while time.monotonic() < deadline and self.spool_bytes() != 0:
            time.sleep(0.2)
        time.sleep(1.0)   # the last batch: reflection follows the commit, but the fold may lag

    def spool_bytes(self) -> float:
        try:
            text = self.http.get("/metrics", auth=False).text
        except requests.RequestException:
            return -1
        for line in text.splitlines():
            if line.startswith("salon_journal_spool_bytes "):
                return float(line.split()[1])
        return 0

    def report(self, seconds: float, supervisor: Supervisor) -> None:
        print(table(self.results))
        for res in self.results.values():
            for f in res.failures:
                print(f"  {res.name}: {f}")
            for e in res.examples:
                print(f"  {res.name}: e.g. {e}")
        errors: dict[str, Counter] = {}
        for s in self.tracker.sent:
            if s.error and not s.reflected:
                errors.setdefault(s.phase, Counter())[s.error] += 1
        for phase, c in errors.items():
            print(f"  {phase}: refused with {dict(c)}")
        for line in timing(self.tracker):
            print(f"  {line}")
        rz = ", ".join(f"{k} {v}" for k, v in self.readyz.seen.items())
        print(f"/readyz statuses per phase: {rz}")
        print(f"rejoins {sum(lc.rejoins for lc in self.clients)}, failed reconnect attempts "
              f"{len(supervisor.errors)}; run time {seconds:.0f}s", flush=True)

    def close(self) -> None:
        list(self.pool.map(LoadClient.close, self.clients))
        self.muc.clients = []
        self.muc.close()   # deletes the rooms
        self.loop.close()


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    run = Run(args)
    ok, error = False, None
    try:
        ok = run.run()
    except Exception as e:   # setup or a stack command failed: still a report
        error = f"{type(e).__name__}: {e}"
        print(f"faults.py: {error}", file=sys.stderr)
    finally:
        if args.junit:
            write_junit(args.junit, f"fault-{run.stack['SALON_XMPP_SERVER']}", run.results, error)
        try:
            run.close()
        except Exception as e:   # cleanup must not hide the result
            print(f"faults.py: cleanup: {e!r}", file=sys.stderr)
    return 0 if ok and error is None else 1


if __name__ == "__main__":
    os.environ.setdefault("SALON_RUN_DIR", str(run_dir()))
    sys.exit(main(sys.argv[1:]))
