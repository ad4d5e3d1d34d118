"""The accounting after a fault run: what each sender saw against what PostgreSQL holds.

Counts per phase (the phase a message was sent in):
    sent        messages the load sent
    reflected   the sender got its reflection (the room's stanza-id)
    refused     the sender got an error back (and no reflection)
    in_flight   neither, and in flight when a fault cut it off (see Tracker.cut_by: decided by
                the order of its sender's answers, not by time): held by salond when it was
                SIGKILLed, or routed by the XMPP server to salond's dead socket in the moment
                before the server noticed (XEP-0114 has no acknowledgement: neither an answer
                nor a bounce can come), or on the sender's own stream when that dropped (the
                client sees its connection go; XEP-0198 would resend). Counted, not a failure;
                `archived` shows how many of them reached the archive anyway (a client's MAM
                catch-up after reconnecting shows those).
    silent      neither, and not in flight: the sender was told nothing. A failure.
    archived    messages with at least one archive row
    duplicates  archive rows beyond the first of a message, reflections beyond the first to
                anyone
    lost        seen by its sender or anyone else (reflected/delivered) but not in the archive
                under the stanza-id they saw. A failure.
    disorder    a client received two messages in an order the archive does not have
    refused_shown  the sender got an error, yet the message is in the archive or reached
                another client (the sender will resend it: a duplicate for everyone). A failure.
"""
from __future__ import annotations

import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from load import PREFIX, Tracker

COLUMNS = ("sent", "reflected", "refused", "in_flight", "silent", "archived", "duplicates", "lost",
           "disorder", "refused_shown")
MUST_BE_ZERO = ("silent", "duplicates", "lost", "disorder", "refused_shown")


@dataclass
class Row:
    id: int
    stanza_id: str
    body: str


@dataclass
class PhaseResult:
    name: str
    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def example(self, text: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(text)

    @property
    def ok(self) -> bool:
        return not self.failures and all(self.counts[k] == 0 for k in MUST_BE_ZERO)


def archive_rows(stack: dict[str, str], pids: list[str]) -> list[Row]:
    """The load's archive rows of these rooms, in archive order (pids are generated: [a-z0-9])."""
    assert all(p.isalnum() for p in pids)
    in_list = ",".join(f"'{p}'" for p in pids)
    sql = ("SELECT a.id, a.stanza_id, a.body FROM archive a JOIN rooms r ON r.id = a.room_id "
           f"WHERE r.jid_local IN ({in_list}) AND a.body LIKE '{PREFIX}%' ORDER BY a.id")
    out = subprocess.run([f"{stack['SALON_PG_BIN']}/psql", stack["SALON_PG_CONNINFO"], "-AtqF", "\t",
                          "-c", sql], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"psql: {out.stderr.strip()}")
    rows = []
    for line in out.stdout.splitlines():
        rid, sid, text = line.split("\t", 2)
        rows.append(Row(int(rid), sid, text))
    return rows


def account(tracker: Tracker, rows: list[Row], phases: list[str]) -> dict[str, PhaseResult]:
    results = {p: PhaseResult(p) for p in phases}
    tracker.settled()
    by_body: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_body[r.body].append(r)
    shown_as: dict[str, set[str]] = defaultdict(set)   # body -> stanza-ids clients received
    for seen in tracker.seen.values():
        for sid, text in seen.received:
            shown_as[text].add(sid)
    for s in tracker.sent:
        res = results.setdefault(s.phase, PhaseResult(s.phase))
        c = res.counts
        c["sent"] += 1
        mine = by_body.get(s.body, [])
        if mine:
            c["archived"] += 1
        if len(mine) > 1:
            c["duplicates"] += len(mine) - 1
            res.example(f"{s.body!r}: {len(mine)} archive rows")
        if s.reflections > 1:
            c["duplicates"] += s.reflections - 1
            res.example(f"{s.body!r}: reflected {s.reflections} times to its sender")
        shown = shown_as.get(s.body, set()) | ({s.reflected} if s.reflected else set())
        if shown - {r.stanza_id for r in mine}:
            c["lost"] += 1
            res.example(f"{s.body!r} from {s.sender}: shown as {sorted(shown)}, archived as "
                        f"{[r.stanza_id for r in mine] or 'nothing'}")
        if s.reflected is not None:
            c["reflected"] += 1
        elif s.error is not None:
            c["refused"] += 1
            if mine or shown_as.get(s.body):
                c["refused_shown"] += 1
                res.example(f"{s.body!r}: refused ({s.error}) yet archived or delivered")
        elif tracker.in_flight(s):
            c["in_flight"] += 1
        else:
            c["silent"] += 1
            res.example(f"{s.body!r} from {s.sender}: no reflection and no error"
                        f" ({'archived' if mine else 'not archived'}; sent {tracker.when(s.t_sent)})")
    _order_and_fanout(tracker, rows, results)
    return results


def _order_and_fanout(tracker: Tracker, rows: list[Row], results: dict[str, PhaseResult]) -> None:
    """Each client's arrival order against the archive order; repeated deliveries."""
    position = {r.stanza_id: i for i, r in enumerate(rows)}
    phase_of = {s.body: s.phase for s in tracker.sent}
    by_sid = {r.stanza_id: r.body for r in rows}
    for jid, seen in tracker.seen.items():
        for text in seen.duplicates:
            res = results.setdefault(phase_of.get(text, "?"), PhaseResult(phase_of.get(text, "?")))
            res.counts["duplicates"] += 1
            res.example(f"{text!r} delivered twice to {jid}")
        last = -1
        for sid, _ in seen.received:
            p = position.get(sid)
            if p is None:
                continue   # not archived: counted as lost above
            if p < last:
                ph = phase_of.get(by_sid[sid], "?")
                res = results.setdefault(ph, PhaseResult(ph))
                res.counts["disorder"] += 1
                res.example(f"{jid} received {by_sid[sid]!r} after a message archived later")
            last = max(last, p)


def timing(tracker: Tracker) -> list[str]:
    """Per phase: reflection latency, and how long before its cut the oldest message in flight
    was sent."""
    lat: dict[str, list[float]] = defaultdict(list)
    ahead: dict[str, float] = defaultdict(float)
    for s in tracker.sent:
        if s.reflected is not None:
            lat[s.phase].append(s.t_reflected - s.t_sent)
        cut = tracker.cut_by(s)
        if cut is not None:
            ahead[s.phase] = max(ahead[s.phase], cut.t_from - s.t_sent)
    out = []
    for phase, xs in lat.items():
        xs.sort()
        q = lambda f: xs[min(len(xs) - 1, int(f * len(xs)))] * 1000  # noqa: E731
        line = f"{phase}: reflected after p50 {q(0.5):.0f} / p99 {q(0.99):.0f} / max {xs[-1] * 1000:.0f} ms"
        if phase in ahead:
            line += f"; oldest in flight sent {ahead[phase] * 1000:.0f} ms before its cut"
        out.append(line)
    return out


def table(results: dict[str, PhaseResult]) -> str:
    widths = [max(len(k), 5) + 1 for k in COLUMNS]
    head = f"{'phase':<10}" + "".join(f"{k:>{w}}" for k, w in zip(COLUMNS, widths)) + "  result"
    lines = [head, "-" * len(head)]
    for res in results.values():
        lines.append(f"{res.name:<10}" + "".join(f"{res.counts[k]:>{w}}" for k, w in zip(COLUMNS, widths))
                     + ("  ok" if res.ok else "  FAIL"))
    return "\n".join(lines)
