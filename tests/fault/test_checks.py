"""The fault test's accounting (checks.py) catches what it claims to: each kind of loss,
duplicate or disorder, on made-up receipts and archive rows. No stack needed:
    /usr/bin/python3 -m pytest tests/fault/test_checks.py
"""
from __future__ import annotations

import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "protocol")]

from checks import Row, account  # noqa: E402
from load import Cut, Tracker  # noqa: E402

ROOM = "r1@rooms.localhost"
A, B = "a@localhost/fault", "b@localhost/fault"


def reflect(t: Tracker, to: str, body: str, sid: str) -> None:
    t.on_stanza(to, ET.fromstring(
        f"<message xmlns='jabber:client' from='{ROOM}/n0' type='groupchat'><body>{body}</body>"
        f"<stanza-id xmlns='urn:xmpp:sid:0' by='{ROOM}' id='{sid}'/></message>"))


def refuse(t: Tracker, to: str, stanza_id: str) -> None:
    t.on_stanza(to, ET.fromstring(
        f"<message xmlns='jabber:client' from='{ROOM}' type='error' id='{stanza_id}'><error type='cancel'>"
        "<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"))


def world(n: int = 3) -> tuple[Tracker, list[Row]]:
    """n messages from A, each reflected to A and B and archived once, in order."""
    t = Tracker()
    rows = []
    for i in range(n):
        s = t.record_send("kill", ROOM, A)
        for who in (A, B):
            reflect(t, who, s.body, f"sid{i}")
        rows.append(Row(i + 1, f"sid{i}", s.body))
    return t, rows


def counts(t: Tracker, rows: list[Row]):
    res = account(t, rows, ["kill"])["kill"]
    return res.counts, res.ok


def test_all_accounted_for_is_ok():
    c, ok = counts(*world())
    assert ok and c["sent"] == c["reflected"] == c["archived"] == 3


def test_reflected_but_not_archived_is_lost():
    t, rows = world()
    c, ok = counts(t, rows[:2])
    assert c["lost"] == 1 and not ok


def test_delivered_to_another_client_but_not_archived_is_lost():
    t, rows = world()
    s = t.record_send("kill", ROOM, A)
    reflect(t, B, s.body, "sid7")            # B saw it; A never got its reflection
    c, ok = counts(t, rows)
    assert c["lost"] == 1 and c["silent"] == 1 and not ok


def test_archived_under_another_stanza_id_is_lost():
    t, rows = world()
    rows[1] = Row(2, "other", rows[1].body)
    c, ok = counts(t, rows)
    assert c["lost"] == 1 and not ok


def test_archived_twice_is_a_duplicate():
    t, rows = world()
    rows.append(Row(9, "sid9", rows[0].body))
    c, ok = counts(t, rows)
    assert c["duplicates"] == 1 and not ok


def test_delivered_twice_is_a_duplicate():
    t, rows = world()
    reflect(t, B, rows[2].body, "sid2")
    c, ok = counts(t, rows)
    assert c["duplicates"] == 1 and not ok


def test_received_out_of_archive_order_is_disorder():
    t, rows = world()
    rows[0], rows[1] = Row(1, rows[1].stanza_id, rows[1].body), Row(2, rows[0].stanza_id, rows[0].body)
    c, ok = counts(t, rows)
    assert c["disorder"] >= 1 and not ok


def test_unanswered_is_silent_unless_a_fault_cut_it_off():
    t, rows = world()
    t.record_send("kill", ROOM, A)
    c, ok = counts(t, rows)
    assert c["silent"] == 1 and not ok
    now = time.monotonic()
    t.cuts.append(Cut(now, now, B))          # another sender's stream: still silent
    assert counts(t, rows)[0]["silent"] == 1
    t.cuts.append(Cut(now, now))             # salond killed right after the send
    c, ok = counts(t, rows)
    assert c["silent"] == 0 and c["in_flight"] == 1 and ok


def test_unanswered_before_a_later_reflected_message_is_silent_despite_a_cut():
    """The sender's path is FIFO: a later message reflected means this one was not in flight."""
    t, rows = world()
    t.record_send("kill", ROOM, A)
    later = t.record_send("kill", ROOM, A)
    reflect(t, A, later.body, "sid8")
    rows.append(Row(8, "sid8", later.body))
    now = time.monotonic()
    t.cuts.append(Cut(now, now))
    c, ok = counts(t, rows)
    assert c["silent"] == 1 and c["in_flight"] == 0 and not ok


def test_unanswered_after_an_earlier_refusal_is_silent_despite_a_cut():
    """Once the server bounced one message of a sender after the kill, it owes the later ones
    an error too."""
    t, rows = world()
    t0 = time.monotonic()
    refused = t.record_send("kill", ROOM, A)
    refuse(t, A, refused.stanza_id)
    t.record_send("kill", ROOM, A)
    t.cuts.append(Cut(t0, time.monotonic()))
    c, ok = counts(t, rows)
    assert c["refused"] == 1 and c["silent"] == 1 and not ok


def test_refused_yet_archived_fails():
    t, rows = world()
    s = t.record_send("kill", ROOM, A)
    refuse(t, A, s.stanza_id)
    c, ok = counts(t, rows)
    assert c["refused"] == 1 and ok
    reflect(t, B, s.body, "sid10")
    c, ok = counts(t, rows)
    assert c["refused_shown"] == 1 and not ok
