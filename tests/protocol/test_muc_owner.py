"""XEP-0045 §10 owner use cases in a project room, through the real XMPP server with real
clients: room configuration (§10.2, muc#owner, muc#roomconfig), owner and admin status and
lists (§10.3-10.8), the room always keeping an owner (§10), and destruction (§10.9).
Room creation (§10.1) is not offered: rooms are provisioned by the marketplace (the join
tests check that users get <item-not-found/> instead).

Cast: Olga and Paul (staff = owners), Alice (client = member), Bob (designer = member),
Dora (a member Olga makes admin), Eve (not affiliated).

Run: scripts/stack up && cd tests/protocol && /usr/bin/python3 -m pytest test_muc_owner.py
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from muc_support import (NS_ROOMCONFIG, assert_error, assert_result, child, codes,
                         form_field_types, form_fields, is_message, is_unavailable,
                         item, mark, muc, muc_accounts, presence_from)
from lib.xmlutil import NS_DATA, NS_DISCO_INFO, NS_MUC_OWNER, NS_MUC_USER, attr, to_string

__all__ = ["muc", "muc_accounts"]

NICKS = {"o": "Olga", "p": "Paul", "a": "Alice", "b": "Bob", "d": "Dora", "e": "Eve"}
ROLES = {"o": "staff", "p": "staff", "a": "client", "b": "designer", "d": "client"}


def cast(muc, who="oab", join="", admin=False, name="Kitchen", description="Two walls"):
    who = "".join(sorted(set(who + join + ("od" if admin else "") + "o"), key="opadbe".index))
    clients = dict(zip(who, muc.new_clients(*[NICKS[w].lower() for w in who])))
    room = muc.project(*[(clients[w], ROLES[w], NICKS[w]) for w in who if w in ROLES],
                       name=name, description=description)
    if admin:
        assert_result(muc.set_affiliation(clients["o"], room, clients["d"].bare, "admin"))
    for w in join:
        muc.join(clients[w], room, NICKS[w])
    return SimpleNamespace(room=room, **clients)


def form_of(reply):
    assert_result(reply)
    q = child(reply, NS_MUC_OWNER, "query")
    assert q is not None, to_string(reply)
    x = child(q, NS_DATA, "x")
    assert x is not None and x.get("type") == "form", to_string(reply)
    return x


def affs(muc, c, room, aff):
    return {i["jid"]: i for i in muc.list_items(muc.admin_list(c, room, affiliation=aff))}


def presence_of(c, room, nick, pred=lambda el: True, unavailable=False):
    return c.wait_for(lambda el: presence_from(room.occ(nick), unavailable)(el) and pred(el),
                      5, f"presence of {nick}")


def disco_name(muc, c, room):
    r = muc.disco_info(c, room.jid)
    return [i.get("name") for i in r.iter(f"{{{NS_DISCO_INFO}}}identity")]


# --- §10.2 configuration ---------------------------------------------------------------------------

@pytest.mark.parametrize("joined", [False, True], ids=["owner-not-joined", "owner-joined"])
def test_owner_gets_the_configuration_form(muc, joined):
    """§10.2 (testObtainRoomConfigOwnerNonJoined, testObtainRoomConfigOwnerJoined): the service
    MUST send the configuration form to an owner, in the room or not."""
    t = cast(muc, join="o" if joined else "")
    x = form_of(muc.config_form(t.o, t.room))
    f = form_fields(x)
    assert f["FORM_TYPE"] == [NS_ROOMCONFIG] and form_field_types(x)["FORM_TYPE"] == "hidden"


@pytest.mark.parametrize("who", ["stranger", "member", "admin"])
def test_non_owner_gets_forbidden_for_the_configuration_form(muc, who):
    """§10.2 (testObtainRoomConfigWithoutRoleOrAffiliation, testObtainRoomConfigNonAffiliatedUser):
    'If the <user@host> of the 'from' address does not match the bare JID of a room owner,
    the service MUST return a <forbidden/> error'."""
    t = cast(muc, who="oae", admin=True)
    c = {"stranger": t.e, "member": t.a, "admin": t.d}[who]
    assert_error(muc.config_form(c, t.room), "forbidden")


def test_configuration_form_has_the_current_options_as_defaults(muc):
    """§10.2 (testObtainRoomConfigHasCurrentOptionsAsDefaults): name, description, subject
    permission, private messages — as currently set — and the fixed room type."""
    t = cast(muc, name="Kitchen", description="Two walls")
    f = form_fields(form_of(muc.config_form(t.o, t.room)))
    assert f["muc#roomconfig_roomname"] == ["Kitchen"]
    assert f["muc#roomconfig_roomdesc"] == ["Two walls"]
    assert f["muc#roomconfig_changesubject"] in (["1"], ["true"])
    assert f["muc#roomconfig_allowpm"] == ["anyone"]
    assert f["muc#roomconfig_persistentroom"] in (["1"], ["true"])
    assert f["muc#roomconfig_membersonly"] in (["1"], ["true"])
    assert f["muc#roomconfig_whois"] == ["anyone"]
    assert_result(muc.submit_config(t.o, t.room, {"muc#roomconfig_roomname": "Bathroom",
                                                  "muc#roomconfig_allowpm": "none"}))
    f = form_fields(form_of(muc.config_form(t.o, t.room)))
    assert f["muc#roomconfig_roomname"] == ["Bathroom"] and f["muc#roomconfig_allowpm"] == ["none"]


def test_configuration_change_applies_and_is_announced_with_104(muc):
    """§10.2, §10.2.1 (mucNameChangeTest, mucTestChangeRoomName): the new name and description
    take effect (disco, roominfo), and occupants get a message with status 104 ('the room
    configuration changed') from the room."""
    t = cast(muc, join="oa")
    assert_result(muc.submit_config(t.o, t.room, {"muc#roomconfig_roomname": "Renamed",
                                                  "muc#roomconfig_roomdesc": "New text"}))
    for c in (t.o, t.a):
        m = c.wait_for(lambda el: is_message(el) and el.get("from") == t.room.jid and 104 in codes(el))
        assert m.get("type") == "groupchat"
    assert disco_name(muc, t.a, t.room) == ["Renamed"]
    r = muc.disco_info(t.a, t.room.jid)
    assert "New text" in to_string(r)


def test_configuration_cancel_leaves_everything_as_it_was(muc):
    """§10.2 (testRoomConfigCancel; §10.1.1 testRoomConfigCancelDestroysRoom does not apply to
    a provisioned room): cancelling keeps the configuration, and the room."""
    t = cast(muc, name="Kitchen")
    r = muc.iq(t.o, t.room.jid, "set", f"<query xmlns='{NS_MUC_OWNER}'><x xmlns='{NS_DATA}' type='cancel'/></query>")
    assert_result(r)
    assert disco_name(muc, t.o, t.room) == ["Kitchen"]
    muc.join(t.a, t.room, "Alice")


def test_instant_room_request_on_an_existing_room_changes_nothing(muc):
    """§10.1.2 (testRoomRequestInstantRoom, testRoomRequestInstantUnlocksRoom): the room exists
    already (provisioned, never locked); an empty submit is accepted and changes nothing."""
    t = cast(muc, name="Kitchen")
    r = muc.iq(t.o, t.room.jid, "set", f"<query xmlns='{NS_MUC_OWNER}'><x xmlns='{NS_DATA}' type='submit'/></query>")
    assert_result(r)
    assert disco_name(muc, t.o, t.room) == ["Kitchen"]


def test_configuration_submit_by_a_non_owner_gets_forbidden(muc):
    """§10.2: only owners configure: <forbidden/>, and nothing changes."""
    t = cast(muc, admin=True, name="Kitchen")
    for c in (t.a, t.d):
        assert_error(muc.submit_config(c, t.room, {"muc#roomconfig_roomname": "Hijacked"}), "forbidden")
    assert disco_name(muc, t.o, t.room) == ["Kitchen"]


@pytest.mark.parametrize("field, value", [
    ("muc#roomconfig_whois", "moderators"),
    ("muc#roomconfig_membersonly", "0"),
    ("muc#roomconfig_persistentroom", "0"),
    ("muc#roomconfig_passwordprotectedroom", "1"),
    ("muc#roomconfig_publicroom", "1"),
], ids=["semi-anonymous", "open", "temporary", "password", "public"])
def test_fixed_room_type_cannot_be_changed(muc, field, value):
    """§10.2.1 (testRoomConfigNotification172/173, testRoomConfigToMemberOnly,
    mucJoinPasswordProtected*, §14.5 testAnonymityStatusOnConfigChange): project rooms are
    persistent, members-only, non-anonymous, hidden and without password; a change of those is
    refused with <not-acceptable/>, so there is no privacy change to announce: occupants get no
    status message."""
    t = cast(muc, join="oa")
    m = mark(t.a)
    assert_error(muc.submit_config(t.o, t.room, {field: value}), "not-acceptable")
    muc.sync(t.a, t.room)
    assert not m.since(lambda el: is_message(el) and codes(el) & {104, 170, 171, 172, 173, 174})


def test_configuration_form_offers_no_admin_or_owner_list_fields(muc):
    """§10.2 (testRoomConfigAddAdmin/DropAdmin/AddOwner/DropOwner): admins and owners are
    managed through muc#admin (§10.3-10.8, tested below), not through the form, which
    therefore does not offer muc#roomconfig_roomadmins/roomowners."""
    t = cast(muc)
    f = form_fields(form_of(muc.config_form(t.o, t.room)))
    assert "muc#roomconfig_roomadmins" not in f and "muc#roomconfig_roomowners" not in f


def test_submitting_a_form_of_another_type_gets_bad_request(muc):
    """XEP-0004/XEP-0045 §10.2: a form with another FORM_TYPE is not a room configuration."""
    t = cast(muc)
    r = muc.iq(t.o, t.room.jid, "set", f"<query xmlns='{NS_MUC_OWNER}'><x xmlns='{NS_DATA}' type='submit'>"
               "<field var='FORM_TYPE'><value>urn:example:other</value></field></x></query>")
    assert_error(r, "bad-request")


# --- §10.3 / §10.4 owners --------------------------------------------------------------------------

@pytest.mark.parametrize("reason", [None, "co-owner"], ids=["without-reason", "with-reason"])
def test_grant_owner_to_a_user_not_in_the_room(muc, reason):
    """§10.3 (testGrantOwner, testGrantOwnerOptionalReason, testOwnerOnOwnerList)."""
    t = cast(muc, who="oe")
    assert_result(muc.set_affiliation(t.o, t.room, t.e.bare, "owner", reason=reason))
    assert t.e.bare in affs(muc, t.o, t.room, "owner")


@pytest.mark.parametrize("reason", [None, "co-owner"], ids=["without-reason", "with-reason"])
def test_grant_owner_while_in_the_room_is_announced(muc, reason):
    """§10.3 (testGrantOwnerWhileInRoom, testGrantOwnerOptionalReasonWhileInRoom,
    testOccupantsInformed): updated presence with affiliation owner (role moderator) to all."""
    t = cast(muc, join="oab")
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "owner", reason=reason))
    for c, me in ((t.a, True), (t.b, False), (t.o, False)):
        p = presence_of(c, t.room, "Alice", lambda el: item(el).get("affiliation") == "owner")
        assert item(p)["role"] == "moderator" and (110 in codes(p)) == me


@pytest.mark.parametrize("who", ["stranger", "member", "member-in-room", "admin"])
def test_non_owner_may_not_grant_owner(muc, who):
    """§10.3 (testUserNotAllowedToGrantOwnerStatus[InRoom],
    testParticipantNotAllowedToGrantOwnerStatus[InRoom]): <forbidden/>."""
    t = cast(muc, who="oabe", join="a" if who == "member-in-room" else "", admin=True)
    c = {"stranger": t.e, "member": t.a, "member-in-room": t.a, "admin": t.d}[who]
    assert_error(muc.set_affiliation(c, t.room, t.b.bare, "owner"), "forbidden")
    assert t.b.bare not in affs(muc, t.o, t.room, "owner")


@pytest.mark.parametrize("reason", [None, "stepping down"], ids=["without-reason", "with-reason"])
def test_revoke_owner(muc, reason):
    """§10.4 (testRevokeOwner, testRevokeOwnerOptionalReason, testOwnerNotOnOwnerList)."""
    t = cast(muc, who="op")
    assert_result(muc.set_affiliation(t.o, t.room, t.p.bare, "member", reason=reason))
    assert t.p.bare not in affs(muc, t.o, t.room, "owner")


@pytest.mark.parametrize("reason", [None, "stepping down"], ids=["without-reason", "with-reason"])
def test_revoke_owner_while_in_the_room_is_announced(muc, reason):
    """§10.4 (testRevokeOwnerWhileInRoom, testRevokeOwnerOptionalReasonWhileInRoom,
    testOccupantsInformed): updated presence with an affiliation other than owner."""
    t = cast(muc, who="opa", join="opa")
    assert_result(muc.set_affiliation(t.o, t.room, t.p.bare, "admin", reason=reason))
    for c in (t.p, t.a):
        p = presence_of(c, t.room, "Paul", lambda el: item(el).get("affiliation") == "admin")
        assert item(p)["role"] == "moderator"


@pytest.mark.parametrize("who", ["stranger", "member", "member-in-room", "admin"])
def test_non_owner_may_not_revoke_owner(muc, who):
    """§10.4 (testUserNotAllowedToRevokeOwnerStatus[InRoom],
    testParticipantNotAllowedToRevokeOwnerStatus[InRoom]): <forbidden/>."""
    t = cast(muc, who="opae", join="a" if who == "member-in-room" else "", admin=True)
    c = {"stranger": t.e, "member": t.a, "member-in-room": t.a, "admin": t.d}[who]
    r = muc.set_affiliation(c, t.room, t.p.bare, "member")
    assert_error(r, "forbidden")
    assert t.p.bare in affs(muc, t.o, t.room, "owner")


def test_last_owner_cannot_revoke_own_ownership(muc):
    """§10.4, §10.5, §10.2 (testOwnerRemoveLastOwner, testOwnerListRejectRemovalLastOwner,
    testRoomConfigRemoveLastOwner): <conflict/>, and the owner stays."""
    t = cast(muc)
    assert_error(muc.set_affiliation(t.o, t.room, t.o.bare, "member"), "conflict")
    assert_error(muc.set_affiliation(t.o, t.room, t.o.bare, "none"), "conflict")
    assert set(affs(muc, t.o, t.room, "owner")) == {t.o.bare}


def test_one_of_two_owners_may_step_down(muc):
    """§10.4: with another owner left, an owner may revoke their own status."""
    t = cast(muc, who="op")
    assert_result(muc.set_affiliation(t.o, t.room, t.o.bare, "member"))
    assert set(affs(muc, t.p, t.room, "owner")) == {t.p.bare}


def test_room_keeps_its_owner_after_the_owner_leaves(muc):
    """§10 (testRoomHasOwnerAfterOriginalOwnerLeaves): ownership is long-lived; leaving a
    persistent room does not lose it."""
    t = cast(muc, join="oa")
    muc.leave(t.o, t.room, "Olga")
    assert set(affs(muc, t.a, t.room, "owner")) == {t.o.bare}
    j = muc.join(t.o, t.room, "Olga")
    assert item(j.self_presence)["affiliation"] == "owner"


# --- §10.5 owner list ------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "member"])
def test_owner_list_is_readable(muc, who):
    """§10.5 (testOwnerRequestsOwnerList, testOwnerListItemCheck, testParticipantRequestsOwnerList:
    forbidden only 'in semi-anonymous rooms'; project rooms are non-anonymous and members read
    the lists): items with affiliation and jid."""
    t = cast(muc, who="opa")
    c = t.o if who == "owner" else t.a
    got = affs(muc, c, t.room, "owner")
    assert set(got) == {t.o.bare, t.p.bare}
    assert all(i["affiliation"] == "owner" for i in got.values())


def test_owner_list_is_not_readable_by_strangers(muc):
    """§10.5 (testUserRequestsOwnerList): <forbidden/>."""
    t = cast(muc, who="oe")
    assert_error(muc.admin_list(t.e, t.room, affiliation="owner"), "forbidden")


def test_owner_list_change_with_several_items(muc):
    """§10.5 (testOwnerListMultipleItems, testAdminOwnerListBroadcast)."""
    t = cast(muc, who="oab", join="oab")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='owner' jid='{t.a.bare}'/>"
                                             f"<item affiliation='owner' jid='{t.b.bare}'/>"))
    assert set(affs(muc, t.o, t.room, "owner")) == {t.o.bare, t.a.bare, t.b.bare}
    for nick in ("Alice", "Bob"):
        presence_of(t.o, t.room, nick, lambda el: item(el).get("affiliation") == "owner")


def test_owner_list_revoke_several_items(muc):
    """§10.5 (testAdminOwnerListMultipleItemsRevoke)."""
    t = cast(muc, who="opab")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='owner' jid='{t.a.bare}'/>"
                                             f"<item affiliation='owner' jid='{t.b.bare}'/>"))
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='member' jid='{t.a.bare}'/>"
                                             f"<item affiliation='member' jid='{t.p.bare}'/>"))
    assert set(affs(muc, t.o, t.room, "owner")) == {t.o.bare, t.b.bare}


def test_owner_list_change_is_a_delta(muc):
    """§10.5 (testOwnerOwnerListIsDelta)."""
    t = cast(muc, who="opa")
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "owner"))
    assert set(affs(muc, t.o, t.room, "owner")) == {t.o.bare, t.p.bare, t.a.bare}


@pytest.mark.parametrize("who", ["admin", "member", "outcast", "none"])
def test_non_owner_may_not_modify_the_owner_list(muc, who):
    """§10.5 (testOwnerListRejectAdmin/Member/Outcast/NoneAffiliation): <forbidden/>."""
    t = cast(muc, who="oae", admin=True)
    c = {"admin": t.d, "member": t.a, "outcast": t.e, "none": t.e}[who]
    if who == "outcast":
        assert_result(muc.set_affiliation(t.o, t.room, t.e.bare, "outcast"))
    assert_error(muc.admin_set(c, t.room, f"<item affiliation='owner' jid='{muc.user('x').jid}'/>"), "forbidden")


# --- §10.6 / §10.7 admins --------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["member", "unaffiliated"])
def test_grant_admin(muc, target):
    """§10.6 (testGrantAdminMember, testGrantAdminUnaffiliated, testAdminOnAdminList)."""
    t = cast(muc, who="oae")
    c = t.a if target == "member" else t.e
    assert_result(muc.set_affiliation(t.o, t.room, c.bare, "admin"))
    assert c.bare in affs(muc, t.o, t.room, "admin")


@pytest.mark.parametrize("reason", [None, "trusted"], ids=["without-reason", "with-reason"])
def test_grant_admin_to_a_member_in_the_room_is_announced(muc, reason):
    """§10.6 (testGrantAdminMemberWhileInRoom, testGrantAdminOptionalReason[WhileInRoom],
    testOccupantsInformed, mucAffiliationTestForReceivingAdmin,
    mucAffiliationTestForWitnessingAdmin): presence with affiliation admin, role moderator."""
    t = cast(muc, join="oab")
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "admin", reason=reason))
    for c, me in ((t.a, True), (t.b, False)):
        p = presence_of(c, t.room, "Alice", lambda el: item(el).get("affiliation") == "admin")
        assert item(p)["role"] == "moderator" and (110 in codes(p)) == me


@pytest.mark.parametrize("who", ["stranger", "member", "member-in-room", "admin"])
def test_non_owner_may_not_grant_admin(muc, who):
    """§10.6 (testUserNotAllowedToGrantAdminStatus[InRoom],
    testParticipantNotAllowedToGrantAdminStatus[InRoom]): <forbidden/>."""
    t = cast(muc, who="oabe", join="a" if who == "member-in-room" else "", admin=True)
    c = {"stranger": t.e, "member": t.a, "member-in-room": t.a, "admin": t.d}[who]
    assert_error(muc.set_affiliation(c, t.room, t.b.bare, "admin"), "forbidden")
    assert t.b.bare not in affs(muc, t.o, t.room, "admin")


@pytest.mark.parametrize("reason", [None, "no longer"], ids=["without-reason", "with-reason"])
def test_revoke_admin(muc, reason):
    """§10.7 (testRevokeAdmin, testRevokeAdminOptionalReason, admin no longer on the list)."""
    t = cast(muc, admin=True)
    assert_result(muc.set_affiliation(t.o, t.room, t.d.bare, "member", reason=reason))
    assert t.d.bare not in affs(muc, t.o, t.room, "admin")


@pytest.mark.parametrize("reason", [None, "no longer"], ids=["without-reason", "with-reason"])
def test_revoke_admin_while_in_the_room_is_announced(muc, reason):
    """§10.7 (testRevokeAdminWhileInRoom, testRevokeAdminOptionalReasonWhileInRoom,
    testOccupantsInformed, mucAffiliationTestForRemovingAdmin,
    mucAffiliationTestForWitnessingAdminRemoval): presence with affiliation member, role
    participant, to all."""
    t = cast(muc, join="oad", admin=True)
    assert_result(muc.set_affiliation(t.o, t.room, t.d.bare, "member", reason=reason))
    for c in (t.d, t.a):
        p = presence_of(c, t.room, "Dora", lambda el: item(el).get("affiliation") == "member")
        assert item(p)["role"] == "participant"


@pytest.mark.parametrize("who", ["stranger", "member", "member-in-room", "other-admin"])
def test_non_owner_may_not_revoke_admin(muc, who):
    """§10.7 (testUserNotAllowedToRevokeAdminStatus[InRoom],
    testParticipantNotAllowedToRevokeAdminStatus[InRoom]): <forbidden/>."""
    t = cast(muc, who="oabde", join="a" if who == "member-in-room" else "", admin=True)
    if who == "other-admin":
        assert_result(muc.set_affiliation(t.o, t.room, t.b.bare, "admin"))
    c = {"stranger": t.e, "member": t.a, "member-in-room": t.a, "other-admin": t.b}[who]
    assert_error(muc.set_affiliation(c, t.room, t.d.bare, "member"), "forbidden")
    assert t.d.bare in affs(muc, t.o, t.room, "admin")


def test_affiliation_persists_across_visits(muc):
    """§5.2 (mucTestPersistentAffiliation): affiliations belong to the bare JID and survive
    leaving and re-entering."""
    t = cast(muc, join="oa")
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "admin"))
    muc.leave(t.a, t.room, "Alice")
    j = muc.join(t.a, t.room, "Alice")
    assert item(j.self_presence)["affiliation"] == "admin" and item(j.self_presence)["role"] == "moderator"


# --- §10.8 admin list --------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "member"])
def test_admin_list_is_readable(muc, who):
    """§10.8 (testOwnerRequestsAdminList, testAdminListItemCheck, testParticipantRequestsAdminList:
    forbidden only in semi-anonymous rooms)."""
    t = cast(muc, admin=True)
    c = t.o if who == "owner" else t.a
    got = affs(muc, c, t.room, "admin")
    assert set(got) == {t.d.bare} and got[t.d.bare]["affiliation"] == "admin"


def test_admin_list_is_not_readable_by_strangers(muc):
    """§10.8 (testUserRequestsAdminList): <forbidden/>."""
    t = cast(muc, who="oe", admin=True)
    assert_error(muc.admin_list(t.e, t.room, affiliation="admin"), "forbidden")


def test_admin_list_change_with_several_items(muc):
    """§10.8 (testAdminListMultipleItems, testAdminAdminListBroadcast)."""
    t = cast(muc, join="oab")
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='admin' jid='{t.a.bare}'/>"
                                             f"<item affiliation='admin' jid='{t.b.bare}'/>"))
    assert set(affs(muc, t.o, t.room, "admin")) == {t.a.bare, t.b.bare}
    for nick in ("Alice", "Bob"):
        presence_of(t.o, t.room, nick, lambda el: item(el).get("affiliation") == "admin")


def test_admin_list_revoke_several_items(muc):
    """§10.8 (testAdminAdminListMultipleItemsRevoke)."""
    t = cast(muc)
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='admin' jid='{t.a.bare}'/>"
                                             f"<item affiliation='admin' jid='{t.b.bare}'/>"))
    assert_result(muc.admin_set(t.o, t.room, f"<item affiliation='member' jid='{t.a.bare}'/>"
                                             f"<item affiliation='member' jid='{t.b.bare}'/>"))
    assert affs(muc, t.o, t.room, "admin") == {}


def test_admin_list_change_is_a_delta(muc):
    """§10.8 (testOwnerAdminListIsDelta)."""
    t = cast(muc, admin=True)
    assert_result(muc.set_affiliation(t.o, t.room, t.a.bare, "admin"))
    assert set(affs(muc, t.o, t.room, "admin")) == {t.d.bare, t.a.bare}


@pytest.mark.parametrize("who", ["admin", "member", "outcast", "none"])
def test_non_owner_may_not_modify_the_admin_list(muc, who):
    """§10.8 (testAdminListRejectAdmin/Member/Outcast/NoneAffiliation): <forbidden/>."""
    t = cast(muc, who="oae", admin=True)
    c = {"admin": t.d, "member": t.a, "outcast": t.e, "none": t.e}[who]
    if who == "outcast":
        assert_result(muc.set_affiliation(t.o, t.room, t.e.bare, "outcast"))
    assert_error(muc.admin_set(c, t.room, f"<item affiliation='admin' jid='{muc.user('x').jid}'/>"), "forbidden")


# --- §10.9 destroy ----------------------------------------------------------------------------------

def destroy(muc, c, room, inner=""):
    return muc.iq(c, room.jid, "set", f"<query xmlns='{NS_MUC_OWNER}'><destroy>{inner}</destroy></query>")


def destroy_presence(c, room, nick):
    p = c.wait_for(lambda el: is_unavailable(el) and el.get("from") == room.occ(nick), 5, "destroy presence")
    x = child(p, NS_MUC_USER, "x")
    d = None if x is None else child(x, NS_MUC_USER, "destroy")
    assert d is not None, to_string(p)
    return p, d


def test_owner_destroys_the_room(muc):
    """§10.9 (testDestroyPersistentRoom, testDestroyTemporaryRoom, mucDestroyOwnerTest,
    mucDestroyTestOccupant, testPresence): the owner gets a result; every occupant, owner
    included, gets exactly one unavailable presence with <destroy/>; the room is gone."""
    t = cast(muc, join="oab")
    marks = {c: mark(c) for c in (t.o, t.a, t.b)}
    assert_result(destroy(muc, t.o, t.room))
    for c, nick in ((t.o, "Olga"), (t.a, "Alice"), (t.b, "Bob")):
        p, d = destroy_presence(c, t.room, nick)
        assert item(p)["role"] == "none"
    for c, m in marks.items():
        muc.sync(c, t.room)  # the room is gone: the answer is item-not-found, still a barrier
        unavailable = m.since(lambda el: is_unavailable(el) and el.get("from", "").startswith(t.room.jid + "/"))
        assert len(unavailable) == 1, [to_string(x) for x in unavailable]
    assert_error(muc.join_error(t.a, t.room, "Alice"), "item-not-found")
    assert muc.http.get(f"/api/v1/projects/{t.room.pid}").status_code == 404


def test_destroy_relays_reason_and_alternate_venue(muc):
    """§10.9 (testAlternateVenue, testAlternateVenuePassword, testReason, testPresenceOptional):
    the alternate venue's JID, its password and the reason are included in the presence."""
    t = cast(muc, join="oa")
    venue = f"{muc.new_pid()}@{muc.domain}"
    assert_result(muc.iq(t.o, t.room.jid, "set", f"<query xmlns='{NS_MUC_OWNER}'><destroy jid={attr(venue)}>"
                         "<reason>moved</reason><password>s3cret</password></destroy></query>"))
    p, d = destroy_presence(t.a, t.room, "Alice")
    assert d.get("jid") == venue
    assert child(d, NS_MUC_USER, "reason").text == "moved"
    assert child(d, NS_MUC_USER, "password").text == "s3cret"


@pytest.mark.parametrize("who", ["admin", "member", "outcast", "participant", "non-participant"])
def test_non_owner_may_not_destroy(muc, who):
    """§10.9 (testAuthorizationAdmin/Member/Outcast/Participant/NonParticipant): <forbidden/>,
    and the room lives on."""
    t = cast(muc, who="oade", join="a" if who == "participant" else "", admin=True)
    if who == "outcast":
        assert_result(muc.set_affiliation(t.o, t.room, t.e.bare, "outcast"))
    c = {"admin": t.d, "member": t.a, "outcast": t.e, "participant": t.a, "non-participant": t.e}[who]
    assert_error(destroy(muc, c, t.room), "forbidden")
    muc.join(t.o, t.room, "Olga")


# --- requests that follow each other closely ------------------------------------------------------

def config_submit_xml(room, stanza_id, var, value):
    return (f"<iq type='set' id='{stanza_id}' to={attr(room.jid)}><query xmlns='{NS_MUC_OWNER}'>"
            f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE'><value>{NS_ROOMCONFIG}</value></field>"
            f"<field var='{var}'><value>{value}</value></field></x></query></iq>")


def test_quick_succession_of_owner_demotions_keeps_an_owner(muc):
    """§10 ('Every room MUST have at least one owner'), §10.4/§10.5 (<conflict/> for removing
    the last owner): an owner who demotes the other owner and then, before the answer, also
    themself must get <conflict/> for the second request; the room keeps an owner."""
    t = cast(muc, who="op")
    from lib.xmlutil import NS_MUC_ADMIN
    t.o.send(f"<iq type='set' id='d1' to={attr(t.room.jid)}><query xmlns='{NS_MUC_ADMIN}'>"
             f"<item affiliation='member' jid={attr(t.p.bare)}/></query></iq>"
             f"<iq type='set' id='d2' to={attr(t.room.jid)}><query xmlns='{NS_MUC_ADMIN}'>"
             f"<item affiliation='member' jid={attr(t.o.bare)}/></query></iq>")
    r1 = t.o.wait_for(lambda el: el.get("id") == "d1")
    r2 = t.o.wait_for(lambda el: el.get("id") == "d2")
    assert_result(r1)
    assert_error(r2, "conflict")
    assert set(affs(muc, t.o, t.room, "owner")) == {t.o.bare}


def test_two_configuration_changes_in_a_row_both_apply(muc):
    """§10.2: every configuration change the service acknowledges takes effect — also when the
    owner submits the next one before the first answer arrives."""
    t = cast(muc, who="o", name="Old name", description="Old text")
    t.o.send(config_submit_xml(t.room, "c1", "muc#roomconfig_roomname", "New name")
             + config_submit_xml(t.room, "c2", "muc#roomconfig_roomdesc", "New text"))
    assert_result(t.o.wait_for(lambda el: el.get("id") == "c1"))
    assert_result(t.o.wait_for(lambda el: el.get("id") == "c2"))
    f = form_fields(form_of(muc.config_form(t.o, t.room)))
    assert (f["muc#roomconfig_roomname"], f["muc#roomconfig_roomdesc"]) == (["New name"], ["New text"])


def test_subject_change_right_after_a_configuration_change_keeps_both(muc):
    """§10.2 and §8.1: a configuration change followed at once by a subject change — both are
    kept in the project's stored state (GET /api/v1/projects/{id}, what a restart restores)."""
    from muc_support import subject_message, wait_until
    t = cast(muc, join="o", name="Old name")
    t.o.send(config_submit_xml(t.room, "c1", "muc#roomconfig_roomname", "New name")
             + f"<message to={attr(t.room.jid)} type='groupchat'><subject>New subject</subject></message>")
    assert_result(t.o.wait_for(lambda el: el.get("id") == "c1"))
    t.o.wait_for(subject_message(t.room.jid))

    def stored():
        return muc.http.get(f"/api/v1/projects/{t.room.pid}").json()
    wait_until(lambda: stored()["subject"] == "New subject", 5, what="the subject stored")
    assert stored()["name"] == "New name"
    assert disco_name(muc, t.o, t.room) == ["New name"]
