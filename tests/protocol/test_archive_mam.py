"""The archive plugin through the real stack: XEP-0313 MAM on a project room (urn:xmpp:mam:2,
#extended, RSM XEP-0059, fulltext), corrections (XEP-0308) and retractions (XEP-0424) in the
archive, and XEP-0045 history on join served from it. Every check compares exact stanza-ids and
their order with what the room reflected.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_archive_mam.py
"""
from __future__ import annotations

import pytest

from archive_support import (NS_CLIENT, NS_CORRECT, NS_DELAY, NS_MAM, NS_RETRACT, archived, mam, room_sid,
                             say)
from muc_support import (NS_OCCUPANT_ID, NS_SID, assert_error, assert_result, body, child, groupchat_with_body,
                         muc, muc_accounts, occupant_ids, subject_message, subject_of)
from lib.xmlutil import NS_DATA, NS_DISCO_INFO

__all__ = ["muc", "muc_accounts"]


def room_with_two(muc, join=True):
    a, b = muc.new_clients("alice", "bob")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"))
    if join:
        muc.join(a, room, "Alice")
        muc.join(b, room, "Bob")
    return room, a, b


def chat(muc, room, a, b, n):
    """n messages, Alice and Bob in turn; returns their stanza-ids in order."""
    return [say(muc, (a, b)[i % 2], room, f"message {i}") for i in range(n)]


# --- basics ----------------------------------------------------------------------------------

def test_features_are_advertised_on_the_room(muc):
    room, a, b = room_with_two(muc, join=False)
    info = muc.disco_info(a, room.jid)
    features = {f.get("var") for f in info.iter(f"{{{NS_DISCO_INFO}}}feature")}
    assert {NS_MAM, NS_MAM + "#extended", "urn:xmpp:fulltext:0"} <= features


def test_empty_room_is_complete_with_count_zero(muc):
    room, a, b = room_with_two(muc, join=False)
    ans = mam(muc, a, room)
    assert_result(ans.reply)
    assert ans.results == [] and ans.complete and ans.count == 0
    assert ans.rsm("first") is None and ans.rsm("last") is None


def test_results_are_the_reflected_messages_in_order(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 4)
    ans = mam(muc, b, room)
    assert ans.ids == sids and ans.complete and ans.count == 4
    assert ans.bodies == [f"message {i}" for i in range(4)]
    first = ans.results[0].message
    assert first.get("from") == room.occ("Alice") and first.get("type") == "groupchat"
    assert [s.get("id") for s in first.iter(f"{{{NS_SID}}}stanza-id")] == [sids[0]]
    assert all(r.stamp.endswith("Z") for r in ans.results)
    assert ans.rsm("first").text == sids[0] and ans.rsm("first").get("index") == "0"
    assert ans.rsm("last").text == sids[-1]
    # Stored once each, in reflection order.
    assert [r[0] for r in archived(muc.stack, room.pid)] == sids


def test_max_zero_gives_only_the_count(muc):
    room, a, b = room_with_two(muc)
    chat(muc, room, a, b, 3)
    ans = mam(muc, a, room, rsm={"max": "0"})
    assert ans.results == [] and ans.count == 3 and not ans.complete


def test_exactly_one_page(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 5)
    ans = mam(muc, a, room, rsm={"max": "5"})
    assert ans.ids == sids and ans.complete
    ans = mam(muc, a, room, rsm={"max": "5", "before": ""})
    assert ans.ids == sids and ans.complete


def test_last_page_with_empty_before(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 7)
    ans = mam(muc, a, room, rsm={"max": "3", "before": ""})
    assert ans.ids == sids[4:] and not ans.complete and ans.count == 7
    assert ans.rsm("first").text == sids[4] and ans.rsm("first").get("index") == "4"


def test_paging_forward_until_complete(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 7)
    got, after, pages = [], None, []
    while True:
        ans = mam(muc, a, room, rsm={"max": "3", **({"after": after} if after else {})})
        got += ans.ids
        pages.append((ans.ids, ans.complete))
        assert ans.count == 7 and ans.rsm("first").get("index") == str(len(got) - len(ans.ids))
        if ans.complete:
            break
        after = ans.rsm("last").text
        assert len(pages) < 5
    assert pages == [(sids[0:3], False), (sids[3:6], False), (sids[6:], True)]
    assert got == sids


def test_paging_backward_until_complete(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 7)
    pages, before = [], ""
    while True:
        ans = mam(muc, a, room, rsm={"max": "3", "before": before})
        pages.append((ans.ids, ans.complete))
        assert ans.count == 7 and ans.rsm("first").get("index") == str(sids.index(ans.ids[0]))
        if ans.complete:
            break
        before = ans.rsm("first").text
        assert len(pages) < 5
    assert pages == [(sids[4:], False), (sids[1:4], False), (sids[:1], True)]


def test_flip_page_reverses_the_page(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 5)
    ans = mam(muc, a, room, rsm={"max": "3", "before": ""}, flip=True)
    assert ans.ids == list(reversed(sids[2:]))
    assert ans.rsm("first").text == sids[4] and ans.rsm("last").text == sids[2]


def test_rsm_index(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 6)
    ans = mam(muc, a, room, rsm={"max": "2", "index": "3"})
    assert ans.ids == sids[3:5] and ans.rsm("first").get("index") == "3" and not ans.complete


def test_unknown_ids_are_item_not_found(muc):
    room, a, b = room_with_two(muc)
    chat(muc, room, a, b, 2)
    other, c, d = room_with_two(muc)
    foreign = say(muc, c, other, "elsewhere")
    for kw in ({"rsm": {"after": "no-such-id"}}, {"rsm": {"before": "no-such-id"}},
               {"fields": {"after-id": "no-such-id"}}, {"fields": {"before-id": foreign}},
               {"rsm": {"after": foreign}}):
        ans = mam(muc, a, room, **kw)
        assert_error(ans.reply, "item-not-found")
        assert ans.results == []


def test_after_id_and_before_id_bound_the_result_set(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 6)
    ans = mam(muc, a, room, fields={"after-id": sids[1], "before-id": sids[5]})
    assert ans.ids == sids[2:5] and ans.complete and ans.count == 3


def test_time_window(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 5)
    stamps = [r.stamp for r in mam(muc, a, room).results]
    assert stamps == sorted(stamps)
    ans = mam(muc, a, room, fields={"start": stamps[1], "end": stamps[3]})
    assert ans.ids == sids[1:4] and ans.complete
    ans = mam(muc, a, room, fields={"start": "2000-01-01T00:00:00Z", "end": "2000-01-02T00:00:00Z"})
    assert ans.ids == [] and ans.complete and ans.count == 0


def test_converse_shaped_query(muc):
    """What Converse.js sends on opening a room: RSM before='' max 50 with start = its newest
    cached message."""
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 6)
    stamps = [r.stamp for r in mam(muc, a, room).results]
    ans = mam(muc, b, room, fields={"start": stamps[2]}, rsm={"max": "50", "before": ""})
    assert ans.ids == sids[2:] and ans.complete and ans.count == 4


def test_with_by_real_jid_or_nick(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 5)
    bobs = sids[1::2]
    assert mam(muc, a, room, fields={"with": b.bare}).ids == bobs
    assert mam(muc, a, room, fields={"with": room.occ("Bob")}).ids == bobs
    assert mam(muc, a, room, fields={"with": a.bare}).ids == sids[0::2]


def test_ids_field(muc):
    room, a, b = room_with_two(muc)
    sids = chat(muc, room, a, b, 5)
    ans = mam(muc, a, room, fields={"ids": [sids[3], sids[0]]})
    assert ans.ids == [sids[0], sids[3]]


def test_fulltext(muc):
    room, a, b = room_with_two(muc)
    say(muc, a, room, "we need more pineapple on the design")
    hit = say(muc, b, room, "Pineapple is a fruit, not a colour")
    say(muc, a, room, "unrelated")
    first = mam(muc, a, room).ids[0]
    ans = mam(muc, a, room, fields={"{urn:xmpp:fulltext:0}fulltext": "pineapple"})
    assert ans.ids == [first, hit]
    assert mam(muc, a, room, fields={"{urn:xmpp:fulltext:0}fulltext": "fruit colour"}).ids == [hit]


def test_bad_requests_have_a_text(muc):
    room, a, b = room_with_two(muc, join=False)
    for kw, text in (({"fields": {"start": "yesterday"}}, "start"),
                     ({"fields": {"colour": "red"}}, "colour"),
                     ({"rsm": {"max": "ten"}}, "max")):
        ans = mam(muc, a, room, **kw)
        assert_error(ans.reply, "bad-request", "modify")
        err = child(ans.reply, "jabber:client", "error")
        txt = child(err, "urn:ietf:params:xml:ns:xmpp-stanzas", "text")
        assert txt is not None and text in (txt.text or ""), kw


def test_non_member_is_refused(muc):
    room, a, b = room_with_two(muc)
    chat(muc, room, a, b, 1)
    stranger = muc.client()
    ans = mam(muc, stranger, room)
    assert_error(ans.reply, "forbidden")
    assert ans.results == []
    assert_error(muc.iq(stranger, room.jid, "get", f"<metadata xmlns='{NS_MAM}'/>"), "forbidden")


def test_missing_room_is_item_not_found(muc):
    a = muc.client()
    ans = mam(muc, a, f"nosuchroom{muc.new_pid()}@{muc.domain}")
    assert_error(ans.reply, "item-not-found")


def test_metadata(muc):
    room, a, b = room_with_two(muc)
    empty = muc.iq(a, room.jid, "get", f"<metadata xmlns='{NS_MAM}'/>")
    assert_result(empty)
    md = child(empty, NS_MAM, "metadata")
    assert md is not None and list(md) == []
    sids = chat(muc, room, a, b, 3)
    md = child(muc.iq(a, room.jid, "get", f"<metadata xmlns='{NS_MAM}'/>"), NS_MAM, "metadata")
    stamps = [r.stamp for r in mam(muc, a, room).results]
    assert child(md, NS_MAM, "start").get("id") == sids[0]
    assert child(md, NS_MAM, "end").get("id") == sids[2]
    assert child(md, NS_MAM, "start").get("timestamp") == stamps[0]
    assert child(md, NS_MAM, "end").get("timestamp") == stamps[2]


def test_form(muc):
    room, a, b = room_with_two(muc, join=False)
    reply = muc.iq(a, room.jid, "get", f"<query xmlns='{NS_MAM}'/>")
    assert_result(reply)
    x = child(child(reply, NS_MAM, "query"), NS_DATA, "x")
    vars_ = {f.get("var") for f in x.iter(f"{{{NS_DATA}}}field")}
    assert {"FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids",
            "{urn:xmpp:fulltext:0}fulltext"} <= vars_


# --- corrections and retractions -------------------------------------------------------------

def test_correction_is_its_own_row_linked_to_the_original(muc):
    room, a, b = room_with_two(muc)
    orig = room_sid(muc.say_and_wait(a, room, "teh design", extra="", timeout=10), room.jid)
    # say_and_wait uses a fresh id; read it back from the archive to correct it.
    msg_id = archived(muc.stack, room.pid, "a.msg_id")[0][0]
    fix = say(muc, a, room, "the design", f"<replace xmlns='{NS_CORRECT}' id='{msg_id}'/>")
    ans = mam(muc, b, room)
    assert ans.ids == [orig, fix] and ans.bodies == ["teh design", "the design"]
    assert child(ans.results[1].message, NS_CORRECT, "replace").get("id") == msg_id
    rows = archived(muc.stack, room.pid, "a.stanza_id, a.kind, coalesce(a.replaces_archive_id = "
                    "(SELECT id FROM archive WHERE stanza_id = '" + orig + "'), false)")
    assert rows == [[orig, "message", "f"], [fix, "correction", "t"]]


def test_retraction_leaves_a_tombstone(muc):
    room, a, b = room_with_two(muc)
    keep = say(muc, a, room, "keep this")
    gone = say(muc, a, room, "secret pineapple")
    retraction = say(muc, a, room, "retracted a message",
                     f"<retract xmlns='{NS_RETRACT}' id='{gone}'/>")
    ans = mam(muc, b, room)
    assert ans.ids == [keep, gone, retraction]
    tomb = ans.results[1].message
    assert child(tomb, NS_RETRACT, "retracted") is not None
    assert body(tomb) is None and tomb.get("from") == room.occ("Alice")
    assert child(ans.results[2].message, NS_RETRACT, "retract").get("id") == gone
    assert mam(muc, b, room, fields={"{urn:xmpp:fulltext:0}fulltext": "pineapple"}).ids == []
    assert archived(muc.stack, room.pid, "a.tombstone") == [["f"], ["t"], ["f"]]


def test_only_the_sender_can_retract(muc):
    room, a, b = room_with_two(muc)
    mine = say(muc, a, room, "alice's words")
    say(muc, b, room, "retracted", f"<retract xmlns='{NS_RETRACT}' id='{mine}'/>")
    ans = mam(muc, a, room)
    assert ans.bodies[0] == "alice's words"
    assert archived(muc.stack, room.pid, "a.tombstone") == [["f"], ["f"]]


def test_oob_only_and_reactions_are_archived(muc):
    room, a, b = room_with_two(muc)
    url = "https://files.example.com/logo-v2.png"
    a.send(f"<message to='{room.jid}' type='groupchat' id='oob1'>"
           f"<x xmlns='jabber:x:oob'><url>{url}</url></x></message>")
    oob = b.wait_for(lambda el: el.get("id") == "oob1" and el.get("type") == "groupchat", 5, "the OOB message")
    b.send(f"<message to='{room.jid}' type='groupchat' id='react1'>"
           f"<reactions xmlns='urn:xmpp:reactions:0' id='{room_sid(oob, room.jid)}'>"
           "<reaction>\N{THUMBS UP SIGN}</reaction></reactions></message>")
    react = a.wait_for(lambda el: el.get("id") == "react1" and el.get("type") == "groupchat", 5, "the reaction")
    ans = mam(muc, a, room)
    assert ans.ids == [room_sid(oob, room.jid), room_sid(react, room.jid)]
    x = child(ans.results[0].message, "jabber:x:oob", "x")
    assert x is not None and child(x, "jabber:x:oob", "url").text == url
    assert ans.bodies == [None, None]


NS_MODERATE = "urn:xmpp:message-moderate:1"


def test_moderator_retracts_anyones_message(muc):
    """XEP-0425: a room owner (staff) retracts Alice's message: every occupant gets the
    notice from the room, the archive keeps a tombstone and the notice."""
    a, b, o = muc.new_clients("alice", "bob", "olga")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (o, "staff", "Olga"))
    joins = {nick: muc.join(c, room, nick) for c, nick in ((a, "Alice"), (b, "Bob"), (o, "Olga"))}
    [olga_occupant_id] = occupant_ids(joins["Olga"].self_presence)
    keep = say(muc, b, room, "fine")
    bad = say(muc, a, room, "rude words")
    assert NS_MODERATE in {f.get("var") for f in muc.disco_info(a, room.jid).iter(f"{{{NS_DISCO_INFO}}}feature")}
    moderate = (f"<moderate xmlns='{NS_MODERATE}' id='{bad}'><retract xmlns='{NS_RETRACT}'/>"
                "<reason>Spam</reason></moderate>")
    # Members may not; unknown ids are item-not-found.
    assert_error(muc.iq(b, room.jid, "set", moderate), "forbidden")
    assert_error(muc.iq(o, room.jid, "set", moderate.replace(bad, "no-such-id")), "item-not-found")
    assert_result(muc.iq(o, room.jid, "set", moderate))
    for c in (a, b, o):
        n = c.wait_for(lambda el: el.get("from") == room.jid and child(el, NS_RETRACT, "retract") is not None,
                       5, "the moderation notice")
        r = child(n, NS_RETRACT, "retract")
        moderated = child(r, NS_MODERATE, "moderated")
        assert r.get("id") == bad and moderated is not None
        # The moderator as the occupants know it: occupant JID and XEP-0421 id.
        assert moderated.get("by") == room.occ("Olga")
        assert child(moderated, NS_OCCUPANT_ID, "occupant-id").get("id") == olga_occupant_id
        assert child(r, NS_RETRACT, "reason").text == "Spam" and n.get("type") == "groupchat"
    ans = mam(muc, b, room)
    assert ans.ids[:2] == [keep, bad] and len(ans.ids) == 3
    assert child(ans.results[1].message, NS_RETRACT, "retracted") is not None
    assert body(ans.results[1].message) is None
    assert child(ans.results[2].message, NS_RETRACT, "retract").get("id") == bad
    assert archived(muc.stack, room.pid, "a.kind, a.tombstone") == [
        ["message", "f"], ["message", "t"], ["retraction", "f"]]


def test_chat_states_are_not_archived(muc):
    room, a, b = room_with_two(muc)
    a.send(f"<message to='{room.jid}' type='groupchat'>"
           "<composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
    sid = say(muc, a, room, "after typing")
    assert mam(muc, b, room).ids == [sid]


def test_subject_change_is_archived_in_order(muc):
    a, b, c = muc.new_clients("alice", "bob", "carol")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (c, "client", "Carol"))
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    before = say(muc, a, room, "before")
    a.send(f"<message to='{room.jid}' type='groupchat'><subject>New topic</subject></message>")
    b.wait_for(lambda el: subject_of(el) == "New topic", 5, "the subject change")
    after = say(muc, b, room, "after")
    ans = mam(muc, b, room)
    assert len(ans.ids) == 3 and ans.ids[0] == before and ans.ids[2] == after
    subj = ans.results[1].message
    assert subject_of(subj) == "New topic" and subj.get("from") == room.occ("Alice")
    assert [s.get("id") for s in subj.iter(f"{{{NS_SID}}}stanza-id")] == [ans.ids[1]]
    assert archived(muc.stack, room.pid, "a.kind") == [["message"], ["subject"], ["message"]]
    # History on join replays messages only: the core sends the subject itself, last.
    join = muc.join(c, room, "Carol", history="<history maxstanzas='5'/>")
    hist = [s for s in join.stanzas if s.tag.endswith("message") and s is not join.subject]
    assert [room_sid(m, room.jid) for m in hist] == [before, after]
    assert subject_of(join.subject) == "New topic"


# --- history on join -------------------------------------------------------------------------

def test_history_on_join_comes_from_the_archive_with_delay(muc):
    a, b, c = muc.new_clients("alice", "bob", "carol")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (c, "client", "Carol"))
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    sids = chat(muc, room, a, b, 4)
    join = muc.join(c, room, "Carol", history="<history maxstanzas='2'/>")
    hist = [s for s in join.stanzas if s.tag.endswith("message") and s is not join.subject]
    assert [room_sid(m, room.jid) for m in hist] == sids[2:]
    assert [body(m) for m in hist] == ["message 2", "message 3"]
    stamps = [child(m, NS_DELAY, "delay") for m in hist]
    assert all(d is not None and d.get("from") == room.jid and d.get("stamp") for d in stamps)
    assert join.stanzas[-1] is join.subject  # the subject still ends the join
    # maxstanzas='0' (what Converse.js sends): no history at all.
    muc.leave(c, room, "Carol")
    join = muc.join(c, room, "Carol")
    assert [s for s in join.stanzas if s.tag.endswith("message") and s is not join.subject] == []
