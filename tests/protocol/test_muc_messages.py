"""XEP-0045 messages in a project room, through the real XMPP server with real clients:
groupchat reflection (§7.4) with XEP-0359 stanza-id/origin-id and XEP-0421 occupant-id,
subject changes (§8.1), private messages (§7.5), mediated invitations (§7.8.2), payloads that
pass through untouched (chat states, markers, corrections, replies, reactions) and salon's
limits (rate, body length, stanza size), which are errors, never silent drops.

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_muc_messages.py
"""
from __future__ import annotations

import pytest

from muc_support import (NS_CHATSTATES, NS_CORRECT, NS_MARKERS, NS_OCCUPANT_ID, NS_REACTIONS, NS_REPLY,
                         assert_error, assert_result, bare, body, child, children, groupchat_with_body,
                         is_message, mark, message_error_with_id, muc, muc_accounts, occupant_ids,
                         stanza_ids, subject_of, tuning, wait_until)
from lib.xmlutil import NS_MUC_USER, NS_SID, attr, to_string

__all__ = ["muc", "muc_accounts", "tuning"]


def room_of_three(muc, join=True):
    a, b, o = muc.new_clients("alice", "bob", "olga")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (o, "staff", "Olga"))
    if join:
        muc.join(a, room, "Alice")
        muc.join(b, room, "Bob")
        muc.join(o, room, "Olga")
    return room, a, b, o


def reflected(c, room, text, timeout=5.0):
    return c.wait_for(groupchat_with_body(room.jid, text), timeout, f"groupchat '{text}'")


# --- §7.4 groupchat ----------------------------------------------------------------------------

def test_groupchat_is_reflected_to_every_occupant_including_the_sender(muc):
    """§7.4: the service sends the message to all occupants, the sender included, from the
    sender's occupant JID, type groupchat, to each occupant's full JID."""
    room, a, b, o = room_of_three(muc)
    muc.say(a, room, "hello all")
    for c in (a, b, o):
        m = reflected(c, room, "hello all")
        assert m.get("from") == room.occ("Alice") and m.get("type") == "groupchat"
        assert m.get("to") == c.jid


def test_groupchat_keeps_the_senders_id(muc):
    """§7.4 ('the service SHOULD reflect the message with the same id'), needed by clients to
    recognise their own messages."""
    room, a, b, o = room_of_three(muc)
    sid = muc.say(a, room, "with id", stanza_id="my-id-42")
    assert sid == "my-id-42"
    for c in (a, b):
        assert reflected(c, room, "with id").get("id") == "my-id-42"


def test_groupchat_keeps_origin_id(muc):
    """XEP-0359 §3.3: origin-id is the sender's, and is kept as is."""
    room, a, b, o = room_of_three(muc)
    muc.say(a, room, "origin", f"<origin-id xmlns='{NS_SID}' id='orig-7'/>")
    for c in (a, b):
        m = reflected(c, room, "origin")
        ids = [x.get("id") for x in children(m, NS_SID, "origin-id")]
        assert ids == ["orig-7"], to_string(m)


def test_groupchat_gets_one_stanza_id_by_the_room(muc):
    """XEP-0359 §3.1 (MUC: 'by' is the room's bare JID), the same id in every copy, and unique
    per message."""
    room, a, b, o = room_of_three(muc)
    muc.say(a, room, "first")
    muc.say(a, room, "second")
    seen = {}
    for c in (a, b, o):
        for text in ("first", "second"):
            sids = [s for s in stanza_ids(reflected(c, room, text)) if s.get("by") == room.jid]
            assert len(sids) == 1 and sids[0].get("id"), sids
            seen.setdefault(text, set()).add(sids[0]["id"])
    assert len(seen["first"]) == 1 and len(seen["second"]) == 1
    assert seen["first"] != seen["second"]


def test_spoofed_stanza_id_by_the_room_is_stripped(muc):
    """XEP-0359 §5 (security): the room MUST NOT pass on a stanza-id claiming to be by the room
    that a client sent; only the room's own stanza-id is left."""
    room, a, b, o = room_of_three(muc)
    muc.say(a, room, "spoof", f"<stanza-id xmlns='{NS_SID}' id='spoofed' by={attr(room.jid)}/>")
    for c in (a, b):
        m = reflected(c, room, "spoof")
        by_room = [s for s in stanza_ids(m) if s.get("by") == room.jid]
        assert len(by_room) == 1 and by_room[0]["id"] != "spoofed", to_string(m)


def test_groupchat_gets_the_senders_occupant_id(muc):
    """XEP-0421 §3.2: the room adds exactly one occupant-id to each groupchat message, equal to
    the one in the sender's presence; a client-supplied occupant-id is removed."""
    room, a, b, o = room_of_three(muc, join=False)
    ja = muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    muc.say(a, room, "oid", f"<occupant-id xmlns='{NS_OCCUPANT_ID}' id='forged'/>")
    for c in (a, b):
        m = reflected(c, room, "oid")
        assert occupant_ids(m) == [ja.occupant_id] and ja.occupant_id != "forged", to_string(m)


def test_groupchat_from_a_non_occupant_gets_not_acceptable(muc):
    """§7.4 / §7.2.1: a member who has not joined cannot send to the room: <not-acceptable/>,
    and the occupants get nothing."""
    room, a, b, o = room_of_three(muc, join=False)
    muc.join(b, room, "Bob")
    m = mark(b)
    sid = muc.say(a, room, "not joined")
    assert_error(a.wait_for(message_error_with_id(sid)), "not-acceptable", kind="message")
    muc.sync(b, room)
    assert not m.since(groupchat_with_body(room.jid, "not joined"))


def test_groupchat_from_a_stranger_gets_not_acceptable(muc):
    """§7.4: also for someone who is not even affiliated."""
    room, a, b, o = room_of_three(muc)
    (eve,) = muc.new_clients("eve")
    sid = muc.say(eve, room, "intruder")
    assert_error(eve.wait_for(message_error_with_id(sid)), "not-acceptable", kind="message")


def test_error_reply_to_a_refused_message_comes_from_the_room(muc):
    """RFC 6120 §8.3.1: the error reply swaps the addresses: it comes from the room JID the
    sender wrote to, with the sender's id."""
    room, a, b, o = room_of_three(muc, join=False)
    sid = muc.say(a, room, "x")
    err = a.wait_for(message_error_with_id(sid))
    assert err.get("from") == room.jid and err.get("to") == a.jid


@pytest.mark.parametrize("payload, ns_, name", [
    (f"<active xmlns='{NS_CHATSTATES}'/>", NS_CHATSTATES, "active"),
    (f"<markable xmlns='{NS_MARKERS}'/>", NS_MARKERS, "markable"),
    (f"<replace xmlns='{NS_CORRECT}' id='orig-1'/>", NS_CORRECT, "replace"),
    (f"<reply xmlns='{NS_REPLY}' to='x@rooms.localhost/Bob' id='sid-1'/>", NS_REPLY, "reply"),
    (f"<reactions xmlns='{NS_REACTIONS}' id='sid-2'><reaction>\U0001F44D</reaction></reactions>",
     NS_REACTIONS, "reactions"),
], ids=["chat-state", "marker", "correction", "reply", "reaction"])
def test_extension_payloads_pass_through_untouched(muc, payload, ns_, name):
    """Issue 3: chat states (XEP-0085), markers (XEP-0333), corrections (XEP-0308), replies
    (XEP-0461) and reactions (XEP-0444) pass through the room untouched."""
    room, a, b, o = room_of_three(muc)
    muc.say(a, room, f"payload {name}", payload)
    m = reflected(b, room, f"payload {name}")
    got = child(m, ns_, name)
    assert got is not None, to_string(m)
    import xml.etree.ElementTree as ET
    sent = ET.fromstring(payload)
    assert dict(got.attrib) == dict(sent.attrib)
    assert [(c.tag.split('}')[1], c.text) for c in got] == [(c.tag.split('}')[-1], c.text) for c in sent]


def test_bodiless_chat_state_and_displayed_marker_are_broadcast(muc):
    """XEP-0085 §5.5 / XEP-0333 §3.2 in MUC: standalone notifications (no body) are groupchat
    messages like any other and reach the occupants."""
    room, a, b, o = room_of_three(muc)
    a.send(f"<message to='{room.jid}' type='groupchat' id='cs1'><composing xmlns='{NS_CHATSTATES}'/></message>")
    a.send(f"<message to='{room.jid}' type='groupchat' id='mk1'><displayed xmlns='{NS_MARKERS}' id='x1'/></message>")
    cs = b.wait_for(lambda el: el.get("id") == "cs1" and is_message(el))
    mk = b.wait_for(lambda el: el.get("id") == "mk1" and is_message(el))
    assert child(cs, NS_CHATSTATES, "composing") is not None and cs.get("from") == room.occ("Alice")
    assert child(mk, NS_MARKERS, "displayed").get("id") == "x1"


def test_correction_carries_the_same_occupant_id(muc):
    """XEP-0308 + XEP-0421 §4: a correction is attributed to the same occupant-id as the
    message it corrects, so clients can check who may correct what."""
    room, a, b, o = room_of_three(muc)
    muc.say(a, room, "teh", stanza_id="c-orig")
    first = reflected(b, room, "teh")
    muc.say(a, room, "the", f"<replace xmlns='{NS_CORRECT}' id='c-orig'/>")
    second = reflected(b, room, "the")
    assert occupant_ids(first) == occupant_ids(second) and len(occupant_ids(second)) == 1


# --- §8.1 subject ------------------------------------------------------------------------------

def test_subject_change_by_a_member_is_broadcast(muc):
    """§8.1 with muc#roomconfig_changesubject on (the salon default): a participant may change
    the subject; the message with <subject/> goes to all occupants from the changer's occupant
    JID."""
    room, a, b, o = room_of_three(muc)
    a.send(f"<message to='{room.jid}' type='groupchat' id='s1'><subject>Plan B</subject></message>")
    for c in (a, b, o):
        m = c.wait_for(lambda el: el.get("id") == "s1" and subject_of(el) == "Plan B")
        assert m.get("from") == room.occ("Alice") and body(m) is None


def test_subject_change_by_the_owner_is_broadcast(muc):
    """§8.1: a moderator may change the subject (mucTestModeratorAllowedToChangeSubject,
    mucTestChangeSubjectIsReflected)."""
    room, a, b, o = room_of_three(muc)
    o.send(f"<message to='{room.jid}' type='groupchat'><subject>Owner's</subject></message>")
    for c in (a, b, o):
        c.wait_for(lambda el: subject_of(el) == "Owner's" and el.get("from") == room.occ("Olga"))


def test_subject_change_by_a_participant_is_forbidden_when_disabled(muc):
    """§8.1: with changesubject off, only moderators may: a participant gets <forbidden/>
    and the subject stays."""
    room, a, b, o = room_of_three(muc)
    assert_result(muc.submit_config(o, room, {"muc#roomconfig_changesubject": "0"}))
    a.send(f"<message to='{room.jid}' type='groupchat' id='s2'><subject>Mine</subject></message>")
    assert_error(a.wait_for(message_error_with_id("s2")), "forbidden", "auth", kind="message")
    o.send(f"<message to='{room.jid}' type='groupchat' id='s3'><subject>Owners only</subject></message>")
    b.wait_for(lambda el: subject_of(el) == "Owners only")


def test_subject_removal_by_a_participant_is_forbidden_when_disabled(muc):
    """§8.1 (mucTestParticipantNotAllowedToRemoveSubject): an empty subject is a change too."""
    room, a, b, o = room_of_three(muc)
    assert_result(muc.submit_config(o, room, {"muc#roomconfig_changesubject": "0"}))
    a.send(f"<message to='{room.jid}' type='groupchat' id='s4'><subject/></message>")
    assert_error(a.wait_for(message_error_with_id("s4")), "forbidden", kind="message")


def test_subject_removal_by_a_moderator_is_broadcast(muc):
    """§8.1 (mucTestModeratorAllowedToRemoveSubject, mucTestRemoveSubjectIsReflected): an empty
    <subject/> clears it; new occupants then get an empty subject."""
    room, a, b, o = room_of_three(muc, join=False)
    muc.join(o, room, "Olga")
    muc.join(b, room, "Bob")
    o.send(f"<message to='{room.jid}' type='groupchat'><subject>Temp</subject></message>")
    b.wait_for(lambda el: subject_of(el) == "Temp")
    o.send(f"<message to='{room.jid}' type='groupchat' id='clr'><subject></subject></message>")
    m = b.wait_for(lambda el: el.get("id") == "clr")
    assert subject_of(m) == ""
    j = muc.join(a, room, "Alice")
    assert subject_of(j.subject) == ""


def test_subject_change_by_a_visitor_is_forbidden(muc):
    """§8.1 (mucTestVisitorNotAllowedToChangeSubject): a visitor may not change the subject."""
    room, a, b, o = room_of_three(muc)
    assert_result(muc.set_role(o, room, "Alice", "visitor"))
    a.send(f"<message to='{room.jid}' type='groupchat' id='s5'><subject>Visitor</subject></message>")
    assert_error(a.wait_for(message_error_with_id("s5")), "forbidden", kind="message")


def test_visitor_cannot_send_groupchat(muc):
    """§8.4 / §5.1.1: a visitor has no voice: its groupchat messages are refused (<forbidden/>)
    and not broadcast."""
    room, a, b, o = room_of_three(muc)
    assert_result(muc.set_role(o, room, "Alice", "visitor"))
    m = mark(b)
    sid = muc.say(a, room, "no voice")
    assert_error(a.wait_for(message_error_with_id(sid)), "forbidden", kind="message")
    muc.sync(b, room)
    assert not m.since(groupchat_with_body(room.jid, "no voice"))


# --- §7.5 private messages ---------------------------------------------------------------------

def test_private_message_is_delivered_from_the_occupant_jid(muc):
    """§7.5: a message to an occupant JID is delivered to the recipient's full JID(s) from the
    sender's occupant JID, with <x xmlns='muc#user'/>; nobody else gets it."""
    room, a, b, o = room_of_three(muc)
    m = mark(o)
    a.send(f"<message to='{room.occ('Bob')}' type='chat' id='pm1'><body>psst</body></message>")
    pm = b.wait_for(lambda el: el.get("id") == "pm1")
    assert pm.get("from") == room.occ("Alice") and pm.get("to") == b.jid and body(pm) == "psst"
    assert child(pm, NS_MUC_USER, "x") is not None
    muc.sync(o, room)
    assert not m.since(lambda el: el.get("id") == "pm1")


def test_private_message_of_type_groupchat_gets_bad_request(muc):
    """§7.5: a private message of type groupchat MUST be refused with <bad-request/>."""
    room, a, b, o = room_of_three(muc)
    m = mark(b)
    a.send(f"<message to='{room.occ('Bob')}' type='groupchat' id='pm2'><body>wrong</body></message>")
    assert_error(a.wait_for(message_error_with_id("pm2")), "bad-request", kind="message")
    muc.sync(b, room)
    assert not m.since(lambda el: el.get("id") == "pm2")


def test_private_message_to_a_missing_occupant_gets_item_not_found(muc):
    """§7.5: to an occupant JID that does not exist → <item-not-found/>."""
    room, a, b, o = room_of_three(muc)
    a.send(f"<message to='{room.occ('Nobody')}' type='chat' id='pm3'><body>hello?</body></message>")
    assert_error(a.wait_for(message_error_with_id("pm3")), "item-not-found", kind="message")


def test_private_message_from_a_non_occupant_gets_not_acceptable(muc):
    """§7.5: the sender is not an occupant → <not-acceptable/>."""
    room, a, b, o = room_of_three(muc, join=False)
    muc.join(b, room, "Bob")
    a.send(f"<message to='{room.occ('Bob')}' type='chat' id='pm4'><body>hi</body></message>")
    assert_error(a.wait_for(message_error_with_id("pm4")), "not-acceptable", kind="message")


def test_private_messages_disabled_by_config_are_refused(muc):
    """§10.2 muc#roomconfig_allowpm = none: private messages are refused with an error (not
    dropped), and delivered again once allowed."""
    room, a, b, o = room_of_three(muc)
    assert_result(muc.submit_config(o, room, {"muc#roomconfig_allowpm": "none"}))
    a.send(f"<message to='{room.occ('Bob')}' type='chat' id='pm5'><body>blocked</body></message>")
    assert_error(a.wait_for(message_error_with_id("pm5")), {"not-allowed", "forbidden"}, kind="message")
    assert_result(muc.submit_config(o, room, {"muc#roomconfig_allowpm": "anyone"}))
    a.send(f"<message to='{room.occ('Bob')}' type='chat' id='pm6'><body>ok</body></message>")
    b.wait_for(lambda el: el.get("id") == "pm6")


# --- §7.8.2 mediated invitations ---------------------------------------------------------------

def test_mediated_invitation_is_delivered_from_the_room(muc):
    """§7.8.2 (mucTestMediatedInviteGetDelivered, mucTestMediatedInviteFrom): the room sends
    the invitation to the invitee from the room JID, with <invite from='inviter'/> carrying the
    inviter's JID and the reason."""
    room, a, b, o = room_of_three(muc, join=False)
    muc.join(a, room, "Alice")
    muc.available(b)   # the invitation goes to the bare JID: b must be available to get it
    a.send(f"<message to='{room.jid}' id='inv1'><x xmlns='{NS_MUC_USER}'>"
           f"<invite to='{b.bare}'><reason>join us</reason></invite></x></message>")
    m = b.wait_for(lambda el: is_message(el) and bare(el.get("from", "")) == room.jid
                   and child(el, NS_MUC_USER, "x") is not None)
    assert m.get("from") == room.jid
    inv = child(child(m, NS_MUC_USER, "x"), NS_MUC_USER, "invite")
    assert inv is not None and bare(inv.get("from", "")) == a.bare, to_string(m)
    assert child(inv, NS_MUC_USER, "reason").text == "join us"


def test_invitation_from_a_non_occupant_is_refused(muc):
    """§7.8.2: only occupants invite through the room; anyone else gets an error, the invitee
    gets nothing."""
    room, a, b, o = room_of_three(muc, join=False)
    m = mark(b)
    a.send(f"<message to='{room.jid}' id='inv2'><x xmlns='{NS_MUC_USER}'><invite to='{b.bare}'/></x></message>")
    err = a.wait_for(message_error_with_id("inv2"))
    assert err.get("type") == "error"
    muc.sync(b, room)
    assert not m.since(lambda el: child(el, NS_MUC_USER, "x") is not None and is_message(el))


# --- limits ------------------------------------------------------------------------------------

def test_flood_gets_policy_violation_and_nothing_is_dropped_silently(muc):
    """Issue 3 limits: messages over [muc] messages_per_second/message_burst are refused with
    <policy-violation/>; every message sent is either reflected or answered with an error."""
    room, a, b, o = room_of_three(muc)
    n = 40
    ids = [f"flood-{i}" for i in range(n)]
    a.send("".join(f"<message to='{room.jid}' type='groupchat' id='{i}'><body>{i}</body></message>" for i in ids))
    outcome = {}

    def settled():
        for el in a.inbox.received:
            if el.get("id") in ids and is_message(el):
                outcome[el.get("id")] = el.get("type")
        return len(outcome) == n
    wait_until(settled, 10, what="an answer (reflection or error) for every message")
    errors = [i for i, t in outcome.items() if t == "error"]
    assert errors, "no message was refused"
    assert len(errors) < n
    err = next(el for el in a.inbox.received if el.get("id") == errors[0] and el.get("type") == "error")
    assert_error(err, "policy-violation", kind="message")
    muc.sync(b, room)
    got_b = {el.get("id") for el in b.inbox.received if el.get("id") in ids and el.get("type") == "groupchat"}
    assert got_b == {i for i, t in outcome.items() if t == "groupchat"}


def test_body_over_the_length_limit_is_refused(muc):
    """Issue 3 limits ([muc] max_body_chars, default 10000): a longer body is refused with an
    error naming the policy and is not broadcast; one at the limit passes."""
    room, a, b, o = room_of_three(muc)
    m = mark(b)
    sid = muc.say(a, room, "x" * 10001)
    assert_error(a.wait_for(message_error_with_id(sid)), {"policy-violation", "not-acceptable"}, kind="message")
    muc.say(a, room, "y" * 10000)
    reflected(b, room, "y" * 10000)
    assert not m.since(groupchat_with_body(room.jid, "x" * 10001))


def test_stanza_over_the_size_limit_is_refused(muc, tuning):
    """Issue 3 limits ([muc] max_stanza_bytes): a larger stanza is refused with
    <policy-violation/> and not broadcast."""
    room, a, b, o = room_of_three(muc)
    tuning.set(max_stanza_bytes=2048)
    m = mark(b)
    sid = muc.say(a, room, "big", "<data xmlns='urn:example:pad'>" + "p" * 3000 + "</data>")
    assert_error(a.wait_for(message_error_with_id(sid)), "policy-violation", kind="message")
    muc.sync(b, room)
    assert not m.since(groupchat_with_body(room.jid, "big"))


def test_groupchat_order_is_kept(muc):
    """§7.4: messages from one occupant reach the others in the order they were sent."""
    room, a, b, o = room_of_three(muc)
    texts = [f"n{i}" for i in range(15)]
    a.send("".join(f"<message to='{room.jid}' type='groupchat'><body>{t}</body></message>" for t in texts))
    for t in texts:
        reflected(b, room, t)
    got = [body(el) for el in b.inbox.received if is_message(el) and body(el) in texts]
    assert got == texts


def test_groupchat_from_a_resource_that_has_not_joined_gets_not_acceptable(muc):
    """§7.4: occupancy is per full JID: another resource of a joined user that has not joined
    itself is not an occupant (Converse then self-pings and rejoins)."""
    room, a, b, o = room_of_three(muc)
    a2 = muc.client(a.account)
    m = mark(b)
    sid = muc.say(a2, room, "from the phone")
    assert_error(a2.wait_for(message_error_with_id(sid)), "not-acceptable", kind="message")
    muc.sync(b, room)
    assert not m.since(groupchat_with_body(room.jid, "from the phone"))
