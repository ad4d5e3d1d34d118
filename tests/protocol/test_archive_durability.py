"""The archive's durability promise through the real stack: whatever an occupant saw is in
PostgreSQL, once, in the order it was reflected — with PostgreSQL stopped and started during a
stream of messages, and with salond killed (SIGKILL) during one.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_archive_durability.py
"""
from __future__ import annotations

import re
import threading
import time

import requests

import pytest

from archive_support import archived, mam, psql, room_sid
from muc_support import body, groupchat_with_body, is_message, mark, muc, muc_accounts, wait_until
from lib.stack import stack as stack_cmd

__all__ = ["muc", "muc_accounts"]

pytestmark = pytest.mark.slow


def room_of_three(muc):
    a, b, o = muc.new_clients("alice", "bob", "olga")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (o, "staff", "Olga"))
    for c, nick in ((a, "Alice"), (b, "Bob"), (o, "Olga")):
        muc.join(c, room, nick)
    return room, a, b, o


class Stream:
    """Alice and Bob each send a numbered message every 100 ms (inside the rate limit) from a
    background thread until stopped."""

    def __init__(self, muc, room, a, b):
        self.muc, self.room, self.senders = muc, room, (a, b)
        self.sent: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            for c in self.senders:
                text = f"durable {i}"
                self.muc.say(c, self.room, text)
                self.sent.append(text)
                i += 1
            time.sleep(0.1)

    def __enter__(self) -> "Stream":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def reflected_to(c, m, room) -> list[tuple[str, str]]:
    """(body, stanza-id) of the stream's messages c received since mark m, in arrival order."""
    got = m.since(lambda el: is_message(el) and el.get("type") == "groupchat"
                  and (body(el) or "").startswith("durable "))
    return [(body(el), room_sid(el, room.jid)) for el in got]


def assert_archived_in_order(muc, room, reader, seen: list[tuple[str, str]]) -> None:
    rows = archived(muc.stack, room.pid, "a.stanza_id, a.body")
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "an archived message is there twice"
    position = {sid: i for i, sid in enumerate(ids)}
    missing = [s for s in seen if s[1] not in position]
    assert not missing, f"reflected but not archived: {missing}"
    assert [position[sid] for _, sid in seen] == sorted(position[sid] for _, sid in seen), \
        "archive order differs from reflection order"
    by_id = dict((r[0], r[1]) for r in rows)
    assert all(by_id[sid] == text for text, sid in seen)
    # And MAM serves exactly the archive, in the same order.
    assert mam(muc, reader, room, rsm={"max": "250"}).ids == ids


def metric(stack, name: str) -> float:
    text = requests.get(stack["SALON_HTTP_URL"] + "/metrics", timeout=5).text
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert m, f"{name} not in /metrics"
    return float(m.group(1))


def test_postgresql_stopped_during_a_stream(muc):
    """With the spool (the stack configures one): every message is reflected while PostgreSQL
    is down, and all of them reach the archive once it is back, once each, in order."""
    room, a, b, o = room_of_three(muc)
    spooled = metric(muc.stack, "salon_journal_spooled_total")
    m = mark(o)
    with Stream(muc, room, a, b) as stream:
        time.sleep(1.0)
        stack_cmd("stop-pg")
        try:
            time.sleep(1.5)
        finally:
            stack_cmd("start-pg")
        muc.http.wait_status("/readyz", 200, timeout=20)
        time.sleep(1.0)
    sent = list(stream.sent)
    for text in sent:
        o.wait_for(groupchat_with_body(room.jid, text), 15, f"'{text}' reflected")
    muc.sync(o, room)
    seen = reflected_to(o, m, room)
    assert sorted(t for t, _ in seen) == sorted(sent), "a message was lost or reflected twice"
    assert metric(muc.stack, "salon_journal_spooled_total") > spooled, "the spool was not used"
    wait_until(lambda: len(archived(muc.stack, room.pid)) == len(sent), 15,
               what="the spool replayed into PostgreSQL")
    assert_archived_in_order(muc, room, o, seen)
    wait_until(lambda: metric(muc.stack, "salon_journal_spool_bytes") == 0, 10,
               what="the spool emptied")


def persisted_occupants(stack, pid):
    rows = psql(stack, "SELECT o.real_jid FROM occupants o JOIN rooms r ON r.id = o.room_id "
                       f"WHERE r.jid_local = '{pid}'")
    return {r[0] for r in rows}


def test_salond_killed_during_a_stream(muc):
    room, a, b, o = room_of_three(muc)
    wait_until(lambda: persisted_occupants(muc.stack, room.pid) == {a.jid, b.jid, o.jid}, 10,
               what="occupants persisted")
    m = mark(o)
    with Stream(muc, room, a, b) as stream:
        time.sleep(1.0)
        stack_cmd("restart-salond", "--kill")
        time.sleep(1.5)
    last = stream.sent[-1]
    o.wait_for(groupchat_with_body(room.jid, last), 15, f"'{last}' after the restart")
    muc.sync(o, room)
    seen = reflected_to(o, m, room)
    assert "durable 0" in [t for t, _ in seen]
    assert_archived_in_order(muc, room, o, seen)


def test_spool_left_by_a_killed_salond_is_replayed_at_start(muc):
    """Messages spooled while PostgreSQL is down survive a SIGKILL of salond in the spool file
    and reach PostgreSQL when salond starts again (after PostgreSQL is back)."""
    room, a, b, o = room_of_three(muc)
    wait_until(lambda: persisted_occupants(muc.stack, room.pid) == {a.jid, b.jid, o.jid}, 10,
               what="occupants persisted")
    m = mark(o)
    before = say_seen(muc, a, o, room, "durable before")
    stack_cmd("stop-pg")
    try:
        spooled = [say_seen(muc, (a, b)[i % 2], o, room, f"durable spooled {i}") for i in range(6)]
        stack_cmd("stop-salond", "--kill")
    finally:
        stack_cmd("start-pg")
    stack_cmd("start-salond")
    muc.http.wait_status("/readyz", 200, timeout=20)
    wait_until(lambda: len(archived(muc.stack, room.pid)) == 7, 15, what="the spool replayed at start")
    seen = reflected_to(o, m, room)
    assert [t for t, _ in seen] == ["durable before"] + [f"durable spooled {i}" for i in range(6)]
    assert [s for _, s in seen] == [before] + spooled
    assert_archived_in_order(muc, room, o, seen)


def say_seen(muc, sender, observer, room, text):
    """Says text and waits until the observer got it; returns its stanza-id."""
    muc.say(sender, room, text)
    return room_sid(observer.wait_for(groupchat_with_body(room.jid, text), 10, f"'{text}'"), room.jid)
