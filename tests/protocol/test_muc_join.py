"""XEP-0045 entering and leaving a project room, through the real XMPP server with real clients:
join order and status codes (§7.1, §7.2), entry errors (§7.2.1-7.2.10), multi-session nicks,
reserved nicks (§7.10, §7.12), nick changes (§7.6), presence updates (§7.7), leaving (§7.14).

Every test provisions its own project (fresh project id, fresh accounts) through the HTTP API.
Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_muc_join.py
"""
from __future__ import annotations

import unicodedata

from muc_support import (NS_REGISTER, assert_error, assert_result, bare,
                         child, children, codes, form_fields, groupchat_with_body, is_presence,
                         is_unavailable, item, join_xml, mark, muc, muc_accounts, occupant_ids,
                         presence_from, resource, roominfo, subject_message, tuning)
from lib.xmlutil import NS_DATA, NS_DISCO_INFO, to_string

__all__ = ["muc", "muc_accounts", "tuning"]   # fixtures, imported for pytest


def three(muc):
    """A project with Alice (client), Bob (designer) and Olga (staff = owner), all connected."""
    a, b, o = muc.new_clients("alice", "bob", "olga")
    room = muc.project((a, "client", "Alice"), (b, "designer", "Bob"), (o, "staff", "Olga"))
    return room, a, b, o


# --- §7.1 / §7.2.2: order and content of the join ---------------------------------------------

def test_join_sends_occupants_then_self_presence_then_subject_last(muc):
    """§7.1, §7.2.2: the service sends the presence of every existing occupant to the new
    occupant, then the new occupant's own presence, then (history and) the subject, last."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    j = muc.join(o, room, "Olga")
    kinds = [(s.tag.split("}")[1], resource(s.get("from", ""))) for s in j.stanzas]
    assert len(j.stanzas) == 4, [to_string(s) for s in j.stanzas]
    assert sorted(kinds[:2]) == [("presence", "Alice"), ("presence", "Bob")], kinds
    assert j.stanzas[2] is j.self_presence and kinds[2] == ("presence", "Olga")
    assert j.stanzas[3] is j.subject


def test_subject_is_sent_last_even_when_empty(muc):
    """§7.2.15: after the presences (and history) the room MUST send the subject, an empty
    <subject/> when none is set; it is a groupchat message without a body."""
    room, a, b, o = three(muc)
    j = muc.join(a, room, "Alice")
    assert j.stanzas[-1] is j.subject
    subj = child(j.subject, "jabber:client", "subject")
    assert subj is not None and (subj.text or "") == ""
    assert j.subject.get("type") == "groupchat"
    assert bare(j.subject.get("from")) == room.jid
    assert child(j.subject, "jabber:client", "body") is None


def test_subject_set_earlier_is_sent_to_new_occupants_last(muc):
    """§7.2.15, §8.1: a set subject is sent on every join, after the occupants' presences, from
    the occupant who set it (or the room)."""
    room, a, b, o = three(muc)
    muc.join(o, room, "Olga")
    o.send(f"<message to='{room.jid}' type='groupchat'><subject>Kick-off</subject></message>")
    o.wait_for(subject_message(room.jid))
    j = muc.join(a, room, "Alice")
    assert j.stanzas[-1] is j.subject
    assert (child(j.subject, "jabber:client", "subject").text or "") == "Kick-off"
    assert j.subject.get("from") in (room.jid, room.occ("Olga"))
    assert [resource(s.get("from")) for s in j.stanzas[:2]] == ["Olga", "Alice"]


def test_self_presence_has_110_and_100_in_a_non_anonymous_room(muc):
    """§7.2.2 (110: self-presence), §7.2.3 (100: non-anonymous room: 'the service MUST warn
    the user by including a status code of 100 in the initial presence')."""
    room, a, b, o = three(muc)
    j = muc.join(a, room, "Alice")
    assert {110, 100} <= j.codes
    assert j.self_presence.get("from") == room.occ("Alice")
    assert j.self_presence.get("type") is None
    it = item(j.self_presence)
    assert it["affiliation"] == "member" and it["role"] == "participant"
    assert it["jid"] == a.jid


def test_no_210_when_the_nick_was_not_changed(muc):
    """§7.2.2: 210 only when the service modified the requested nick."""
    room, a, b, o = three(muc)
    j = muc.join(a, room, "Alice")
    assert 210 not in j.codes
    assert resource(j.self_presence.get("from")) == "Alice"


def test_210_only_when_the_granted_nick_differs(muc):
    """§7.2.2: 'If the service modifies the user's nickname ... it MUST include a status code
    of 210'. A nick in a non-canonical form is the same resourcepart after resourceprep
    (RFC 7622); the occupant JID granted is the canonical one, and if the service reports 210
    the nick it grants must really differ from the one asked for."""
    room, a, b, o = three(muc)
    asked = "\uff21lice"                              # FULLWIDTH LATIN CAPITAL LETTER A + lice
    j = muc.join(a, room, asked)
    granted = resource(j.self_presence.get("from"))
    assert granted in (asked, unicodedata.normalize("NFKC", asked))
    if 210 in j.codes:
        assert granted != asked
    if granted == asked:
        assert 210 not in j.codes


def test_170_only_when_the_room_is_logged(muc):
    """§7.2.12, §14.3: status 170 warns that the discussion is logged; it is sent if and only
    if the room logs (salon's archive plugin advertises urn:xmpp:mam:2 when it is enabled)."""
    room, a, b, o = three(muc)
    info = muc.disco_info(a, room.jid)
    features = {f.get("var") for f in info.iter(f"{{{NS_DISCO_INFO}}}feature")}
    logged = "urn:xmpp:mam:2" in features
    j = muc.join(a, room, "Alice")
    assert (170 in j.codes) == logged, (logged, j.codes)


def test_join_presence_is_broadcast_to_existing_occupants(muc):
    """§7.2.2: the new occupant's presence goes to all existing occupants, with the item
    (affiliation, role) and, in a non-anonymous room, the real full JID; without 110."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    muc.join(o, room, "Olga")
    j = muc.join(b, room, "Bob")
    for c in (a, o):
        p = c.wait_for(presence_from(room.occ("Bob"), unavailable=False))
        it = item(p)
        assert it["affiliation"] == "member" and it["role"] == "participant", to_string(p)
        assert it["jid"] == b.jid
        assert 110 not in codes(p)
        assert occupant_ids(p) == [j.occupant_id]


def test_occupant_presences_carry_item_with_real_jid(muc):
    """§7.2.3 (non-anonymous): the presences of existing occupants sent to a new occupant
    include the <item/> with affiliation, role and the occupant's full JID — also to an
    occupant who is not a moderator (§7.2.4 is for semi-anonymous rooms only)."""
    room, a, b, o = three(muc)
    muc.join(o, room, "Olga")
    j = muc.join(a, room, "Alice")
    (olga,) = j.others
    it = item(olga)
    assert it == {"affiliation": "owner", "role": "moderator", "jid": o.jid}, to_string(olga)


def test_default_roles_follow_affiliations_in_a_members_only_room(muc):
    """§5.1.2: default roles — owner and admin → moderator, member → participant."""
    room, a, b, o = three(muc)
    ja = muc.join(a, room, "Alice")
    jo = muc.join(o, room, "Olga")
    assert (item(ja.self_presence)["affiliation"], item(ja.self_presence)["role"]) == ("member", "participant")
    assert (item(jo.self_presence)["affiliation"], item(jo.self_presence)["role"]) == ("owner", "moderator")
    u = muc.client(prefix="adm")
    assert_result(muc.set_affiliation(o, room, u.bare, "admin"))
    ju = muc.join(u, room, "Adam")
    assert (item(ju.self_presence)["affiliation"], item(ju.self_presence)["role"]) == ("admin", "moderator")


# --- entry errors ----------------------------------------------------------------------------

def test_non_member_gets_registration_required(muc):
    """§7.2.6: members-only room, user not on the member list → presence error
    <registration-required/> (type auth)."""
    room, a, b, o = three(muc)
    stranger = muc.client(prefix="eve")
    err = muc.join_error(stranger, room, "Eve")
    assert err.get("from") == room.occ("Eve")
    assert_error(err, "registration-required", "auth")
    muc.sync(a, room)
    assert muc.self_ping(stranger, room, "Eve").get("type") == "error"


def test_outcast_gets_forbidden(muc):
    """§7.2.7: a banned user (affiliation outcast) → presence error <forbidden/> (type auth)."""
    room, a, b, o = three(muc)
    eve = muc.client(prefix="eve")
    assert_result(muc.set_affiliation(o, room, eve.bare, "outcast"))
    err = muc.join_error(eve, room, "Eve")
    assert_error(err, "forbidden", "auth")
    assert err.get("from") == room.occ("Eve")


def test_banned_member_gets_forbidden(muc):
    """§7.2.7: a provisioned member who was banned cannot enter either."""
    room, a, b, o = three(muc)
    assert_result(muc.set_affiliation(o, room, b.bare, "outcast"))
    assert_error(muc.join_error(b, room, "Bob"), "forbidden", "auth")


def test_nick_in_use_gets_conflict(muc):
    """§7.2.8: the nick is in use by another occupant → presence error <conflict/> (cancel)."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Sunny")          # not reserved by anyone, now in use by Alice
    err = muc.join_error(b, room, "Sunny")
    assert_error(err, "conflict", "cancel")
    assert err.get("from") == room.occ("Sunny")


def test_nick_reserved_by_another_member_gets_conflict(muc):
    """§7.2.8: '(or if the nickname is reserved by another user on the member list)' →
    <conflict/>, even while that member is not in the room."""
    room, a, b, o = three(muc)
    assert_error(muc.join_error(b, room, "Alice"), "conflict", "cancel")


def test_nick_failing_resourceprep_gets_jid_malformed(muc):
    """RFC 7622 / §7.2.1: a nick that is not a valid resourcepart (here a private-use
    character, prohibited by resourceprep) cannot name an occupant → <jid-malformed/>.
    The XMPP server may refuse it before salond sees it; either way the user gets it."""
    room, a, b, o = three(muc)
    probe = muc.client(a.account)   # its own stream: slixmpp drops the stream on such a JID
    err = muc.join_error(probe, room, "bad\ue000nick")
    # ejabberd validates the address itself and answers <bad-request/> before routing it.
    assert_error(err, {"jid-malformed"} | ({"bad-request"} if muc.server == "ejabberd" else set()), "modify")


def test_join_without_nick_gets_jid_malformed(muc):
    """§7.2.1: 'If the user does not specify a room nickname ... the service MUST return a
    <jid-malformed/> error'."""
    room, a, b, o = three(muc)
    a.send(f"<presence to='{room.jid}'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
    err = a.wait_for(lambda el: is_presence(el) and el.get("type") == "error" and bare(el.get("from", "")) == room.jid)
    assert_error(err, "jid-malformed", "modify")


def test_too_long_nick_gets_not_acceptable(muc):
    """salon limit ([muc] max_nick_chars, default 64): a longer nick is refused with
    <not-acceptable/>, not silently truncated."""
    room, a, b, o = three(muc)
    nick = "N" * 65
    err = muc.join_error(a, room, nick)
    assert_error(err, "not-acceptable")
    assert err.get("from") == room.occ(nick)


def test_nonexistent_room_gets_item_not_found_and_is_not_created(muc):
    """§7.2.10 and §10.1: salon rooms are provisioned, users cannot create rooms; entering a
    room that does not exist is refused with <item-not-found/> (type cancel), and the room
    still does not exist afterwards."""
    a = muc.client(prefix="alice")
    rjid = f"{muc.new_pid()}@{muc.domain}"
    err = muc.join_error(a, rjid, "Alice")
    assert_error(err, "item-not-found", "cancel")
    assert_error(muc.disco_info(a, rjid), "item-not-found", "cancel")


def test_send_before_joining_gets_not_acceptable(muc):
    """§7.2.1, §7.4: a groupchat message from someone who is not an occupant is refused with
    <not-acceptable/>; nobody in the room receives it."""
    room, a, b, o = three(muc)
    muc.join(o, room, "Olga")
    m = mark(o)
    sid = muc.say(a, room, "sneaky")
    err = a.wait_for(lambda el: el.get("id") == sid and el.get("type") == "error")
    assert_error(err, "not-acceptable", kind="message")
    muc.sync(o, room)
    assert not m.since(groupchat_with_body(room.jid, "sneaky"))


def test_join_with_a_password_enters_a_room_without_password(muc):
    """§7.2.5 (password-protected rooms are not offered by salon): a member who sends a
    <password/> enters all the same; there is no password to be wrong."""
    room, a, b, o = three(muc)
    a.send(f"<presence to='{room.occ('Alice')}'><x xmlns='http://jabber.org/protocol/muc'>"
           f"<password>whatever</password></x></presence>")
    p = a.wait_for(lambda el: is_presence(el) and el.get("from") == room.occ("Alice"))
    assert p.get("type") is None and 110 in codes(p), to_string(p)
    a.wait_for(subject_message(room.jid))


def test_full_room_refuses_members_with_service_unavailable(muc, tuning):
    """§7.2.9: when the room has reached its maximum number of occupants, the service SHOULD
    deny access with <service-unavailable/>."""
    room, a, b, o = three(muc)
    tuning.set(max_occupants=1)
    muc.join(a, room, "Alice")
    assert_error(muc.join_error(b, room, "Bob"), "service-unavailable")


def test_full_room_still_admits_owners(muc, tuning):
    """§7.2.9: 'If the room has reached its maximum number of occupants and a room admin or
    owner attempts to join, the room MUST allow the admin or owner to join'."""
    room, a, b, o = three(muc)
    tuning.set(max_occupants=1)
    muc.join(a, room, "Alice")
    j = muc.join(o, room, "Olga")
    assert 110 in j.codes


def test_full_room_still_admits_admins(muc, tuning):
    """§7.2.9: the same for an admin."""
    room, a, b, o = three(muc)
    adm = muc.client(prefix="adm")
    assert_result(muc.set_affiliation(o, room, adm.bare, "admin"))
    tuning.set(max_occupants=1)
    muc.join(a, room, "Alice")
    j = muc.join(adm, room, "Adam")
    assert item(j.self_presence)["affiliation"] == "admin"


def test_join_leave_cycle(muc):
    """Repeated join and leave of the same user keeps working and leaves no trace."""
    room, a, b, o = three(muc)
    muc.join(o, room, "Olga")
    for _ in range(5):
        muc.join(a, room, "Alice")
        o.wait_for(presence_from(room.occ("Alice"), unavailable=False))
        muc.leave(a, room, "Alice")
        o.wait_for(presence_from(room.occ("Alice"), unavailable=True))
    info = muc.disco_info(o, room.jid)
    assert roominfo(info)["muc#roominfo_occupants"] == ["1"]


# --- multi-session nick ----------------------------------------------------------------------

def test_second_resource_with_the_same_nick_is_the_same_occupant(muc):
    """Multi-session nick (issue 3; XEP-0045 §7.2 leaves it to the service): the same bare JID
    joining from a second resource under its nick gets the full join (with 110); for everyone
    else it stays one occupant — nobody sees it leave or join twice, the count stays."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    m = mark(b)
    a2 = muc.client(a.account)
    j = muc.join(a2, room, "Alice")
    assert 110 in j.codes and item(j.self_presence)["jid"] == a2.jid
    assert [resource(p.get("from")) for p in j.others] == ["Bob"]
    muc.sync(b, room)
    assert not m.since(lambda el: is_unavailable(el) and el.get("from") == room.occ("Alice"))
    assert roominfo(muc.disco_info(b, room.jid))["muc#roominfo_occupants"] == ["2"]


def test_every_resource_of_a_multi_session_occupant_gets_the_traffic(muc):
    """Multi-session nick: groupchat messages and private messages to the occupant reach every
    joined resource."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    a2 = muc.client(a.account)
    muc.join(a2, room, "Alice")
    muc.join(b, room, "Bob")
    muc.say(b, room, "to both")
    for c in (a, a2):
        c.wait_for(groupchat_with_body(room.jid, "to both"))
    b.send(f"<message to='{room.occ('Alice')}' type='chat'><body>private</body></message>")
    for c in (a, a2):
        pm = c.wait_for(lambda el: el.get("from") == room.occ("Bob") and el.get("type") == "chat")
        assert pm.get("to") == c.jid


def test_one_resource_leaving_keeps_the_occupant(muc):
    """Multi-session nick: one resource leaving gets its own unavailable (110); the occupant
    stays for everyone else and for its other resource."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    a2 = muc.client(a.account)
    muc.join(a2, room, "Alice")
    muc.join(b, room, "Bob")
    m = mark(b)
    muc.leave(a2, room, "Alice")
    muc.sync(b, room)
    assert not m.since(lambda el: is_unavailable(el) and el.get("from") == room.occ("Alice"))
    assert_result(muc.self_ping(a, room, "Alice"))
    muc.say(b, room, "still there?")
    a.wait_for(groupchat_with_body(room.jid, "still there?"))
    muc.sync(a2, room)
    assert not mark_all(a2, groupchat_with_body(room.jid, "still there?"))


def test_last_resource_leaving_removes_the_occupant(muc):
    """Multi-session nick: when the last resource leaves, the others see the occupant leave."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    a2 = muc.client(a.account)
    muc.join(a2, room, "Alice")
    muc.join(b, room, "Bob")
    muc.leave(a2, room, "Alice")
    muc.leave(a, room, "Alice")
    p = b.wait_for(presence_from(room.occ("Alice"), unavailable=True))
    assert 110 not in codes(p) and item(p)["role"] == "none"


# --- reserved nick ---------------------------------------------------------------------------

def test_reserved_nick_via_disco_roomuser_item(muc):
    """§7.12: disco#info with node x-roomuser-item returns the user's reserved nick (the
    provisioned display name) as the identity name."""
    room, a, b, o = three(muc)
    r = muc.disco_info(a, room.jid, node="x-roomuser-item")
    assert_result(r)
    q = child(r, NS_DISCO_INFO, "query")
    ids = children(q, NS_DISCO_INFO, "identity")
    assert [(i.get("category"), i.get("type"), i.get("name")) for i in ids] == [("conference", "text", "Alice")]


def test_no_reserved_nick_for_a_stranger(muc):
    """§7.12: 'If the user does not have a registered nickname, the room MUST return a service
    discovery <query/> element that is empty'."""
    room, a, b, o = three(muc)
    stranger = muc.client(prefix="eve")
    r = muc.disco_info(stranger, room.jid, node="x-roomuser-item")
    assert_result(r)
    q = child(r, NS_DISCO_INFO, "query")
    assert q is not None and len(q) == 0, to_string(r)


def test_reserved_nick_via_register_get(muc):
    """§7.10: jabber:iq:register get for a registered member says <registered/> and gives the
    reserved nick."""
    room, a, b, o = three(muc)
    r = muc.iq(b, room.jid, "get", f"<query xmlns='{NS_REGISTER}'/>")
    assert_result(r)
    q = child(r, NS_REGISTER, "query")
    assert child(q, NS_REGISTER, "registered") is not None, to_string(r)
    username = child(q, NS_REGISTER, "username")
    x = child(q, NS_DATA, "x")
    nick = username.text if username is not None else form_fields(x).get("muc#register_roomnick", [None])[0]
    assert nick == "Bob", to_string(r)


def test_register_get_by_a_stranger_is_refused(muc):
    """§7.10: a members-only room does not let strangers register (membership comes from the
    project): an error, not a form."""
    room, a, b, o = three(muc)
    stranger = muc.client(prefix="eve")
    r = muc.iq(stranger, room.jid, "get", f"<query xmlns='{NS_REGISTER}'/>")
    assert_error(r, {"registration-required", "not-allowed", "forbidden"})


def test_reserved_nick_is_the_default_nick(muc):
    """The reserved nick is the member's default: joining with it works, and another member
    joining under it is refused (§7.2.8)."""
    room, a, b, o = three(muc)
    j = muc.join(a, room, "Alice")
    assert resource(j.self_presence.get("from")) == "Alice" and 210 not in j.codes
    assert_error(muc.join_error(o, room, "Bob"), "conflict")


# --- §7.6 nick change ------------------------------------------------------------------------

def test_nick_change_sends_303_then_the_new_presence(muc):
    """§7.6: unavailable from the old occupant JID with <item nick='new'/> and status 303 (plus
    110 to the changer), then available presence from the new occupant JID, to every occupant."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    ma, mb = mark(a), mark(b)
    a.send(f"<presence to='{room.occ('Sunny')}'/>")
    for c, m, mine in ((a, ma, True), (b, mb, False)):
        new = c.wait_for(presence_from(room.occ("Sunny"), unavailable=False))
        old = [el for el in m.since() if el.get("from") == room.occ("Alice")]
        assert len(old) == 1 and is_unavailable(old[0]), [to_string(x) for x in old]
        assert 303 in codes(old[0]) and item(old[0])["nick"] == "Sunny"
        assert (110 in codes(old[0])) == mine and (110 in codes(new)) == mine
        got = m.since()
        assert got.index(old[0]) < got.index(new)
        assert item(new)["jid"] == a.jid
    assert_result(muc.self_ping(a, room, "Sunny"))


def test_nick_change_to_a_nick_in_use_gets_conflict(muc):
    """§7.6: changing to a nick another occupant uses → presence error <conflict/>; the
    occupant keeps the old nick."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    muc.join(b, room, "Sunny")
    a.send(f"<presence to='{room.occ('Sunny')}'/>")
    err = a.wait_for(lambda el: is_presence(el) and el.get("type") == "error")
    assert_error(err, "conflict", "cancel")
    assert err.get("from") == room.occ("Sunny")
    assert_result(muc.self_ping(a, room, "Alice"))


def test_nick_change_to_another_members_reserved_nick_gets_conflict(muc):
    """§7.6: '(or that is reserved by another user affiliated with the room)' → <conflict/>."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    a.send(f"<presence to='{room.occ('Olga')}'/>")
    err = a.wait_for(lambda el: is_presence(el) and el.get("type") == "error")
    assert_error(err, "conflict", "cancel")


def test_member_may_return_to_the_reserved_nick(muc):
    """A member may change to any free nick and back to their reserved one."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Sunny")
    a.send(f"<presence to='{room.occ('Alice')}'/>")
    p = a.wait_for(presence_from(room.occ("Alice"), unavailable=False))
    assert 110 in codes(p)


# --- §7.7 presence updates, §7.14 leaving ------------------------------------------------------

def test_presence_update_is_broadcast_with_the_clients_payload(muc):
    """§7.7: an occupant's changed availability (show, status, and extensions such as entity
    capabilities) is sent to all occupants from the occupant JID, with the muc#user item."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    caps = "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:test' ver='abc='/>"
    a.send(f"<presence to='{room.occ('Alice')}'><show>away</show><status>lunch</status>{caps}</presence>")
    for c, mine in ((a, True), (b, False)):
        p = c.wait_for(lambda el: el.get("from") == room.occ("Alice") and child(el, "jabber:client", "show") is not None)
        assert child(p, "jabber:client", "show").text == "away"
        assert child(p, "jabber:client", "status").text == "lunch"
        c_el = child(p, "http://jabber.org/protocol/caps", "c")
        assert c_el is not None and c_el.get("ver") == "abc="
        assert item(p)["role"] == "participant" and (110 in codes(p)) == mine


def test_leave_sends_unavailable_with_110_to_the_leaver(muc):
    """§7.14: the service sends presence unavailable from the occupant JID to the departing
    occupant's full JIDs with status 110, and to everyone else without it."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    p = muc.leave(a, room, "Alice")
    assert item(p)["role"] == "none" and p.get("to") == a.jid
    q = b.wait_for(presence_from(room.occ("Alice"), unavailable=True))
    assert 110 not in codes(q) and item(q)["role"] == "none"
    assert_error(muc.self_ping(a, room, "Alice"), "not-acceptable")


def test_leave_status_text_is_relayed(muc):
    """§7.14: the occupant MAY include a status message in the unavailable presence; it is
    relayed to the remaining occupants."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    muc.join(b, room, "Bob")
    a.send(f"<presence to='{room.occ('Alice')}' type='unavailable'><status>bye</status></presence>")
    q = b.wait_for(presence_from(room.occ("Alice"), unavailable=True))
    assert child(q, "jabber:client", "status").text == "bye"


# --- helpers ---------------------------------------------------------------------------------

def mark_all(c, pred):
    return [el for el in c.inbox.received if pred(el)]


def test_concurrent_joins_to_an_unloaded_room(muc):
    """Rooms load lazily (issue 3): joins that arrive together while the room loads are all
    served in order — everyone ends up seeing everyone, each with one self-presence."""
    room, a, b, o = three(muc)
    marks = {c: mark(c) for c in (a, b, o)}
    for c, nick in ((a, "Alice"), (b, "Bob"), (o, "Olga")):
        c.send(join_xml(room.jid, nick))
    for c, nick in ((a, "Alice"), (b, "Bob"), (o, "Olga")):
        c.wait_for(subject_message(room.jid))
        for other in {"Alice", "Bob", "Olga"} - {nick}:
            c.wait_for(presence_from(room.occ(other), unavailable=False))
        selfs = marks[c].since(lambda el: is_presence(el) and 110 in codes(el))
        assert len(selfs) == 1 and selfs[0].get("from") == room.occ(nick)


def test_nick_change_of_a_multi_session_occupant_moves_every_session(muc):
    """§7.6 with a multi-session nick: every resource of the occupant gets the 303 and the new
    self-presence, and stays joined under the new nick."""
    room, a, b, o = three(muc)
    muc.join(a, room, "Alice")
    a2 = muc.client(a.account)
    muc.join(a2, room, "Alice")
    a.send(f"<presence to='{room.occ('Sunny')}'/>")
    for c in (a, a2):
        old = c.wait_for(presence_from(room.occ("Alice"), unavailable=True))
        assert {303, 110} <= codes(old) and item(old)["nick"] == "Sunny"
        new = c.wait_for(presence_from(room.occ("Sunny"), unavailable=False))
        assert 110 in codes(new)
    assert_result(muc.self_ping(a2, room, "Sunny"))


def test_room_state_survives_unloading(muc, tuning):
    """Issue 3: an empty, idle room is unloaded and loaded again on next use; its subject,
    XMPP-granted affiliations and bans are the same afterwards."""
    import re
    import requests as rq

    def rooms_loaded():
        text = rq.get(muc.stack["SALON_HTTP_URL"] + "/metrics", timeout=5).text
        return float(re.search(r"^salon_muc_rooms_loaded (\S+)$", text, re.M).group(1))

    tuning.set(idle_unload_seconds=1)
    room, a, b, o = three(muc)
    eve = muc.user("eve")
    muc.join(o, room, "Olga")
    o.send(f"<message to='{room.jid}' type='groupchat'><subject>Before unload</subject></message>")
    o.wait_for(subject_message(room.jid))
    assert_result(muc.set_affiliation(o, room, b.bare, "admin"))
    assert_result(muc.set_affiliation(o, room, eve.jid, "outcast"))
    loaded = rooms_loaded()
    muc.leave(o, room, "Olga")
    from muc_support import wait_until
    wait_until(lambda: rooms_loaded() <= loaded - 1, 10, what="the room unloaded")
    j = muc.join(a, room, "Alice")
    assert (child(j.subject, "jabber:client", "subject").text or "") == "Before unload"
    admins = {i["jid"] for i in muc.list_items(muc.admin_list(a, room, affiliation="admin"))}
    assert admins == {b.bare}
    assert {i["jid"] for i in muc.list_items(muc.admin_list(o, room, affiliation="outcast"))} == {eve.jid}
