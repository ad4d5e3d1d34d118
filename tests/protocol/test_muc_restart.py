"""Restarting salond is invisible to the people in its rooms (issue 3), through the real XMPP
server with real clients: after SIGTERM and after SIGKILL, occupants are still in their rooms
without rejoining — nobody got an unavailable presence (status 332 or otherwise), groupchat
messages flow both ways, self-pings succeed; messages sent while salond is down come back to
the sender as errors (never lost silently); and a restored occupant whose client vanished
meanwhile is removed by ghost removal on its first bounce.

salond is restarted the way scripts/stack starts it (`scripts/stack restart-salond [--kill]`,
or stop-salond / start-salond around an action).

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_muc_restart.py
"""
from __future__ import annotations

import subprocess

import pytest

from lib.stack import stack as stack_cmd
from muc_support import (assert_result, codes, groupchat_with_body, is_presence, is_unavailable, item, mark,
                         message_error_with_id, muc, muc_accounts, occupant_ids, presence_from, wait_until)
from lib.xmlutil import to_string

__all__ = ["muc", "muc_accounts"]

pytestmark = pytest.mark.slow


def persisted_occupants(stack, pid):
    """The real JIDs salond has written to its occupant table for the room (write-behind)."""
    sql = ("SELECT o.real_jid FROM occupants o JOIN rooms r ON r.id = o.room_id "
           f"WHERE r.jid_local = '{pid}' ORDER BY 1")
    out = subprocess.run([f"{stack['SALON_PG_BIN']}/psql", stack["SALON_PG_CONNINFO"], "-Atqc", sql],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def room_with_two(muc):
    a, b, o = muc.new_clients("alice", "bob", "olga")
    for c in (a, b):
        muc.available(c)
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (o, "staff", "Olga"))
    room.ids = {"Alice": muc.join(a, room, "Alice").occupant_id,   # type: ignore[attr-defined]
                "Bob": muc.join(b, room, "Bob").occupant_id}
    return room, a, b, o


def wait_persisted(muc, room, jids):
    """SIGKILL gives salond no chance to flush: wait until the write-behind has stored the
    occupants (a real crash may lose the last ~200 ms of joins; that is the design)."""
    wait_until(lambda: persisted_occupants(muc.stack, room.pid) == set(jids), 10,
               what=f"occupants {sorted(jids)} persisted")


def assert_carries_on(muc, room, a, b, marks):
    """Both still occupants: messages both ways (with the same XEP-0421 occupant-id as before:
    §4.1 'stable'), self-pings succeed, and nobody got any unavailable presence from the room
    since the marks."""
    mine = muc.say_and_wait(a, room, "after restart from Alice", timeout=10)  # fails fast on an error
    theirs = b.wait_for(groupchat_with_body(room.jid, "after restart from Alice"), 10)
    for m in (mine, theirs):
        assert occupant_ids(m) == [room.ids["Alice"]], to_string(m)
    muc.say_and_wait(b, room, "after restart from Bob", timeout=10)
    a.wait_for(groupchat_with_body(room.jid, "after restart from Bob"), 10)
    assert_result(muc.self_ping(a, room, "Alice"))
    assert_result(muc.self_ping(b, room, "Bob"))
    for c, m in marks.items():
        muc.sync(c, room)
        gone = m.since(lambda el: is_unavailable(el) and el.get("from", "").startswith(room.jid))
        assert not gone, [to_string(x) for x in gone]
        again = m.since(lambda el: is_presence(el) and 110 in codes(el))
        assert not again, f"a self-presence after the restart means a re-join: {[to_string(x) for x in again]}"


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_restart_is_invisible_to_occupants(muc, how):
    """Issue 3 (restart invisibility): occupants survive a salond restart (SIGTERM: flushed on
    exit; SIGKILL: from the write-behind) and carry on without rejoining."""
    room, a, b, o = room_with_two(muc)
    if how == "sigkill":
        wait_persisted(muc, room, [a.jid, b.jid])
    marks = {a: mark(a), b: mark(b)}
    stack_cmd("restart-salond", *(["--kill"] if how == "sigkill" else []))
    assert_carries_on(muc, room, a, b, marks)


def test_nick_change_just_before_sigterm_survives(muc):
    """Issue 3: SIGTERM flushes the latest occupant state: a nick change right before the
    restart is what the room remembers."""
    room, a, b, o = room_with_two(muc)
    a.send(f"<presence to='{room.occ('Sunny')}'/>")
    b.wait_for(presence_from(room.occ("Sunny"), False))
    stack_cmd("restart-salond")
    assert_result(muc.self_ping(a, room, "Sunny"))
    muc.say(a, room, "renamed")
    m = b.wait_for(groupchat_with_body(room.jid, "renamed"), 10)
    assert m.get("from") == room.occ("Sunny")


def test_message_sent_while_salond_is_down_comes_back_as_an_error(muc):
    """Issue 3: 'Messages sent while salond is down are bounced by the server with an error the
    client shows — never lost silently'; afterwards the room works without a rejoin."""
    room, a, b, o = room_with_two(muc)
    marks = {a: mark(a), b: mark(b)}
    stack_cmd("stop-salond")
    try:
        sid = muc.say(a, room, "into the void?")
        err = a.wait_for(message_error_with_id(sid), 10)
        assert err.get("type") == "error"
    finally:
        stack_cmd("start-salond")
    assert_carries_on(muc, room, a, b, marks)
    muc.sync(b, room)
    assert not marks[b].since(groupchat_with_body(room.jid, "into the void?"))


def test_restored_ghost_is_removed_on_its_first_bounce(muc):
    """Issue 3: 'a restored resource that is really gone is removed by ghost removal on its
    first bounce' — Alice's client vanishes while salond is down (the server's unavailable for
    her cannot reach salond); after the restart the first message to her bounces and she
    leaves the room for everyone else."""
    room, a, b, o = room_with_two(muc)
    from test_muc_live import abort_connection
    stack_cmd("stop-salond")
    try:
        abort_connection(a)
    finally:
        stack_cmd("start-salond")
    muc.say(b, room, "is Alice there?")
    b.wait_for(groupchat_with_body(room.jid, "is Alice there?"), 10)
    p = b.wait_for(presence_from(room.occ("Alice"), True), 10)
    assert item(p)["role"] == "none" and 110 not in codes(p)
    muc.say(b, room, "only me now")
    b.wait_for(groupchat_with_body(room.jid, "only me now"), 10)


def test_restored_occupants_are_shown_to_newcomers_with_their_last_presence(muc):
    """Issue 3: the occupant table keeps each resource's last presence; after a crash
    (SIGKILL) a newcomer sees the restored occupants as they were (here Alice's 'away')."""
    room, a, b, o = room_with_two(muc)
    a.send(f"<presence to='{room.occ('Alice')}'><show>away</show><status>lunch</status></presence>")
    b.wait_for(lambda el: el.get("from") == room.occ("Alice") and "away" in to_string(el))
    wait_until(lambda: "away" in presences_persisted(muc.stack, room.pid).get(a.jid, ""), 10,
               what="Alice's new presence persisted")
    stack_cmd("restart-salond", "--kill")
    j = muc.join(o, room, "Olga")
    alice = [p for p in j.others if p.get("from") == room.occ("Alice")]
    assert len(alice) == 1 and "away" in to_string(alice[0]) and "lunch" in to_string(alice[0]), \
        [to_string(p) for p in j.others]
    assert {p.get("from") for p in j.others} == {room.occ("Alice"), room.occ("Bob")}


def test_multi_session_occupant_survives_a_restart_with_every_session(muc):
    """Issue 3 + multi-session nick: both resources of an occupant are restored and both get
    the traffic after the restart."""
    room, a, b, o = room_with_two(muc)
    a2 = muc.client(a.account)
    muc.join(a2, room, "Alice")
    marks = {c: mark(c) for c in (a, a2, b)}
    stack_cmd("restart-salond")
    muc.say(b, room, "to every session")
    for c in (a, a2):
        c.wait_for(groupchat_with_body(room.jid, "to every session"), 10)
    assert_result(muc.self_ping(a2, room, "Alice"))
    for c, m in marks.items():
        muc.sync(c, room)
        assert not m.since(lambda el: is_unavailable(el) and el.get("from", "").startswith(room.jid))


def test_pending_forwarded_iq_is_answered_when_salond_stops(muc):
    """Issue 3: IQs to an occupant JID are 'never left unanswered' — an IQ still waiting for
    the occupant's answer when salond shuts down (SIGTERM) gets an error reply, exactly one."""
    room, a, b, o = room_with_two(muc)
    swallow_iqs(b)
    a.send(f"<iq type='get' id='pending-1' to='{room.occ('Bob')}'><query xmlns='urn:example:slow'/></iq>")
    b.wait_for(lambda el: el.get("from") == room.occ("Alice") and el.tag.endswith("iq"))
    muc.sync(b, room)   # had Bob's client answered, the answer would have reached salond by now
    muc.sync(a, room)
    assert not [el for el in a.inbox.received if el.get("id") == "pending-1"], "Bob's client answered"
    stack_cmd("restart-salond")
    r = a.wait_for(lambda el: el.get("id") == "pending-1", 10)
    assert r.get("type") == "error" and r.get("from") == room.occ("Bob"), to_string(r)
    muc.sync(a, room)
    assert len([el for el in a.inbox.received if el.get("id") == "pending-1"]) == 1


def presences_persisted(stack, pid):
    sql = ("SELECT o.real_jid || ' ' || o.presence FROM occupants o JOIN rooms r ON r.id = o.room_id "
           f"WHERE r.jid_local = '{pid}'")
    out = subprocess.run([f"{stack['SALON_PG_BIN']}/psql", stack["SALON_PG_CONNINFO"], "-Atqc", sql],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)


def swallow_iqs(c) -> None:
    """The client takes IQs of urn:example:slow and never answers (a slow or stuck client)."""
    from slixmpp.xmlstream.handler import Callback
    from slixmpp.xmlstream.matcher import MatchXPath

    async def register() -> None:
        c._xmpp.register_handler(Callback("swallow", MatchXPath("{jabber:client}iq/{urn:example:slow}query"),
                                          lambda iq: None))
    c._loop.run(register())


@pytest.mark.parametrize("same_resource", [True, False], ids=["same-resource", "new-resource"])
def test_xmpp_server_restart_then_clients_rejoin(muc, same_resource):
    """Issue 3 (Converse reconnects and rejoins every room when the XMPP server restarts):
    the rejoin gets a complete join (the other occupant, the self-presence, the subject),
    the room works, and no stale session of the old connections is left behind — when both
    leave afterwards, each sees the other leave exactly once."""
    room, a, b, o = room_with_two(muc)
    stack_cmd("restart-xmpp")
    muc.wait_http_ready(30)
    resource = (lambda c: c.jid.split("/", 1)[1]) if same_resource else (lambda c: None)
    a2 = muc.client(a.account, resource=resource(a))
    b2 = muc.client(b.account, resource=resource(b))
    for c in (a2, b2):
        muc.available(c)
    muc.join(a2, room, "Alice")
    # With the same resource, salond still counts b2's full JID as Bob's session, so b2 gets
    # Alice's rejoin presence before it joins itself; this barrier lets it arrive first, so
    # that Bob's join below is judged on its own stanzas.
    muc.sync(b2, room)
    jb = muc.join(b2, room, "Bob")
    assert [p.get("from") for p in jb.others] == [room.occ("Alice")]
    muc.say(b2, room, "back again")
    a2.wait_for(groupchat_with_body(room.jid, "back again"), 10)
    muc.say(a2, room, "me too")
    b2.wait_for(groupchat_with_body(room.jid, "me too"), 10)
    m = mark(b2)
    muc.leave(a2, room, "Alice")
    b2.wait_for(presence_from(room.occ("Alice"), True), 10)
    muc.sync(b2, room)
    assert len(m.since(presence_from(room.occ("Alice"), True))) == 1
