"""Helpers for the MUC protocol tests (tests/protocol/test_muc_*.py).

The `muc` fixture (defined at the end of this module; test modules import it, with
`muc_accounts` and `tuning`) hands each test a MucWorld: fresh accounts, connected
clients, fresh projects (rooms provisioned through the HTTP API) and the XEP-0045 moves
(join, leave, say, admin/owner IQs) as small functions over raw XML, so that every test reads
as the rule it checks.

Negative checks ("nobody got an unavailable presence") are made deterministic with a barrier:
`muc.sync(client, room)` sends a disco#info to the room and waits for the answer. salond
handles a room's stanzas in order on one thread and the XMPP server keeps the order on each
route, so whatever salond sent to that client before answering has arrived by then. The
assertion then looks at everything the client received since a mark (`Mark`), not at what
earlier waits left in the inbox.

Speed: the suite creates ~1000 accounts and logins per run, so account creation bypasses
prosodyctl (Accounts), and three slixmpp costs that have nothing to do with MUC are patched
away at import (a CA bundle load per stream, pure-Python SCRAM, ejabberd's SCRAM derivation
for this module's accounts). See the functions below; lib/client.py could take them over.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import requests

from lib.client import ClientLoop, XmppClient
from lib.http import SalondHttp
from lib.stack import Account, create_account
from lib.xmlutil import (NS_DATA, NS_DISCO_INFO, NS_MUC, NS_MUC_ADMIN,
                         NS_MUC_OWNER, NS_MUC_USER, NS_PING, NS_SID, Predicate,
                         attr, error_condition, error_type, local, to_string)

NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"
NS_REGISTER = "jabber:iq:register"
NS_ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig"
NS_ROOMINFO = "http://jabber.org/protocol/muc#roominfo"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_MARKERS = "urn:xmpp:chat-markers:0"
NS_CORRECT = "urn:xmpp:message-correct:0"
NS_REPLY = "urn:xmpp:reply:0"
NS_REACTIONS = "urn:xmpp:reactions:0"
NS_VCARD = "vcard-temp"

ROLE_AFFILIATION = {"client": "member", "designer": "member", "staff": "owner"}


def _speed_up_slixmpp_scram() -> None:
    """slixmpp computes SCRAM's Hi() in pure Python (~80 ms per login at 4096 rounds), which
    dominated this suite's run time; hashlib's PBKDF2 computes the same value (RFC 5802: Hi is
    PBKDF2 with one block) in C."""
    try:
        from slixmpp.util.sasl import mechanisms
    except ImportError:
        return

    def hi(self: Any, text: Any, salt: bytes, iterations: int) -> bytes:
        return hashlib.pbkdf2_hmac(self.hash().name, bytes(text), salt, iterations)

    if hasattr(mechanisms, "SCRAM") and hasattr(mechanisms.SCRAM, "Hi"):
        mechanisms.SCRAM.Hi = hi


_speed_up_slixmpp_scram()


def _speed_up_slixmpp_init() -> None:
    """Every slixmpp stream builds an ssl.create_default_context() when it is constructed,
    which loads the system CA bundle (~150 ms here) — for streams that never use TLS on this
    loopback stack. One context, created on first use, is shared instead (slixmpp's own module
    only; the context is only used for STARTTLS, which these clients disable)."""
    try:
        import ssl
        import types
        from slixmpp.xmlstream import xmlstream
    except ImportError:
        return
    cache: dict[str, Any] = {}

    def create_default_context(*args: Any, **kw: Any) -> Any:
        if args or kw:
            return ssl.create_default_context(*args, **kw)
        if "ctx" not in cache:
            cache["ctx"] = ssl.create_default_context()
        return cache["ctx"]

    if getattr(xmlstream, "ssl", None) is ssl:
        shim = types.ModuleType("ssl")
        shim.__dict__.update(ssl.__dict__)
        shim.create_default_context = create_default_context  # type: ignore[attr-defined]
        xmlstream.ssl = shim


_speed_up_slixmpp_init()

# Accounts made by Accounts.create(): they log in with SASL PLAIN (below).
_PLAIN_JIDS: set[str] = set()


def _plain_for_muc_accounts() -> None:
    """ejabberd derives the SCRAM keys of an account registered with a plain password at every
    SCRAM login (~70 ms of Erlang CPU each), which made logins most of this suite's time on
    ejabberd. The accounts this module creates log in with PLAIN instead (allowed on this
    loopback stack; the authentication mechanism is irrelevant to MUC). Other accounts keep
    slixmpp's choice."""
    try:
        from slixmpp.features.feature_mechanisms.mechanisms import FeatureMechanisms
    except ImportError:
        return
    original = FeatureMechanisms._handle_sasl_auth
    if getattr(original, "_salon_plain", False):
        return

    def handle(self: Any, features: Any) -> Any:
        if str(self.xmpp.boundjid.bare) in _PLAIN_JIDS and "PLAIN" in set(features["mechanisms"]):
            self.use_mech = "PLAIN"
        return original(self, features)

    handle._salon_plain = True  # type: ignore[attr-defined]
    FeatureMechanisms._handle_sasl_auth = handle


_plain_for_muc_accounts()


# --- small readers ---------------------------------------------------------------------------

def child(el: ET.Element, namespace: str, name: str) -> Optional[ET.Element]:
    return el.find(f"{{{namespace}}}{name}")


def children(el: ET.Element, namespace: str, name: str) -> list[ET.Element]:
    return el.findall(f"{{{namespace}}}{name}")


def muc_x(el: ET.Element) -> Optional[ET.Element]:
    return child(el, NS_MUC_USER, "x")


def codes(el: ET.Element) -> set[int]:
    """The muc#user status codes of a presence or message."""
    x = muc_x(el)
    return set() if x is None else {int(s.get("code", "0")) for s in children(x, NS_MUC_USER, "status")}


def item(el: ET.Element) -> dict[str, str]:
    """The attributes of the muc#user <item/> (empty when there is none)."""
    x = muc_x(el)
    it = None if x is None else child(x, NS_MUC_USER, "item")
    return {} if it is None else dict(it.attrib)


def item_el(el: ET.Element) -> Optional[ET.Element]:
    x = muc_x(el)
    return None if x is None else child(x, NS_MUC_USER, "item")


def occupant_ids(el: ET.Element) -> list[str]:
    return [o.get("id", "") for o in children(el, NS_OCCUPANT_ID, "occupant-id")]


def stanza_ids(el: ET.Element) -> list[dict[str, str]]:
    return [dict(s.attrib) for s in children(el, NS_SID, "stanza-id")]


def body(el: ET.Element) -> Optional[str]:
    b = child(el, "jabber:client", "body")
    return None if b is None else (b.text or "")


def subject_of(el: ET.Element) -> Optional[str]:
    s = child(el, "jabber:client", "subject")
    return None if s is None else (s.text or "")


def is_presence(el: ET.Element) -> bool:
    return local(el.tag) == "presence"


def is_message(el: ET.Element) -> bool:
    return local(el.tag) == "message"


def is_unavailable(el: ET.Element) -> bool:
    return is_presence(el) and el.get("type") == "unavailable"


def bare(jid: str) -> str:
    return jid.split("/", 1)[0]


def resource(jid: str) -> str:
    return jid.split("/", 1)[1] if "/" in jid else ""


def error_el(el: ET.Element) -> Optional[ET.Element]:
    return child(el, "jabber:client", "error")


def assert_error(el: ET.Element, condition: str | Iterable[str], etype: Optional[str | Iterable[str]] = None,
                 kind: Optional[str] = None) -> None:
    """The stanza is an error with (one of) the condition(s) and type(s)."""
    conds = {condition} if isinstance(condition, str) else set(condition)
    assert el.get("type") == "error", f"expected an error, got {to_string(el)}"
    if kind:
        assert local(el.tag) == kind, to_string(el)
    assert error_condition(el) in conds, f"wanted {sorted(conds)}, got {to_string(el)}"
    if etype is not None:
        types = {etype} if isinstance(etype, str) else set(etype)
        assert error_type(el) in types, f"wanted error type {sorted(types)}, got {to_string(el)}"


def assert_result(el: ET.Element) -> None:
    assert el.get("type") == "result", f"expected a result, got {to_string(el)}"


def form_fields(x: ET.Element) -> dict[str, list[str]]:
    """jabber:x:data form -> {var: [values]}."""
    out: dict[str, list[str]] = {}
    for f in children(x, NS_DATA, "field"):
        out[f.get("var", "")] = [(v.text or "") for v in children(f, NS_DATA, "value")]
    return out


def roominfo(reply: ET.Element) -> dict[str, list[str]]:
    """The muc#roominfo form of a room's disco#info result (XEP-0045 §15.5.4)."""
    assert_result(reply)
    q = child(reply, NS_DISCO_INFO, "query")
    for x in ([] if q is None else children(q, NS_DATA, "x")):
        f = form_fields(x)
        if f.get("FORM_TYPE") == [NS_ROOMINFO]:
            return f
    raise AssertionError(f"no muc#roominfo form: {to_string(reply)}")


def form_field_types(x: ET.Element) -> dict[str, str]:
    return {f.get("var", ""): f.get("type", "") for f in children(x, NS_DATA, "field")}


# --- predicates ------------------------------------------------------------------------------

def presence_from(jid: str, unavailable: Optional[bool] = None) -> Predicate:
    def pred(el: ET.Element) -> bool:
        if not is_presence(el) or el.get("from") != jid or el.get("type") == "error":
            return False
        return unavailable is None or (el.get("type") == "unavailable") == unavailable
    return pred


def presence_error_from(jid: str) -> Predicate:
    return lambda el: is_presence(el) and el.get("from") == jid and el.get("type") == "error"


def message_from(jid: str, mtype: Optional[str] = None, text: Optional[str] = None) -> Predicate:
    def pred(el: ET.Element) -> bool:
        if not is_message(el) or el.get("from") != jid:
            return False
        if mtype is not None and el.get("type") != mtype:
            return False
        return text is None or body(el) == text
    return pred


def groupchat_with_body(room: str, text: str) -> Predicate:
    return lambda el: (is_message(el) and el.get("type") == "groupchat"
                       and bare(el.get("from", "")) == room and body(el) == text)


def subject_message(room: str) -> Predicate:
    """The subject message that ends a join (§7.2.15): a <subject/> and no <body/>."""
    return lambda el: (is_message(el) and el.get("type") == "groupchat" and bare(el.get("from", "")) == room
                       and subject_of(el) is not None and body(el) is None)


def message_error_with_id(stanza_id: str) -> Predicate:
    return lambda el: is_message(el) and el.get("type") == "error" and el.get("id") == stanza_id


def any_of(*preds: Predicate) -> Predicate:
    return lambda el: any(p(el) for p in preds)


# --- accounts --------------------------------------------------------------------------------

class Accounts:
    """Fresh accounts, fast. prosodyctl takes ~0.25 s of CPU per account (a Lua VM and 10,000
    PBKDF2 rounds), which alone would take most of the time budget of this suite; so for
    Prosody the account file is written the way mod_auth_internal_hashed stores it (SCRAM-SHA-1
    keys), and ejabberd's accounts go straight to its mod_http_api `register` command, which
    `scripts/stack adduser` uses too. Anything unexpected falls back to scripts/stack adduser.
    The first account of a session is verified by a login (the `muc` fixture does it)."""

    def __init__(self, stack: dict[str, str]) -> None:
        self.stack = stack
        self.domain = stack["SALON_USER_DOMAIN"]
        self.server = stack["SALON_XMPP_SERVER"]
        self.fast = True
        self._prosody_dir: Optional[Path] = None
        if self.server == "prosody":
            cfg = Path(stack["SALON_XMPP_CONFIG"])
            data = cfg.parent / "data" / _prosody_encode(self.domain) / "accounts"
            if data.parent.parent.is_dir():
                self._prosody_dir = data

    def create(self, prefix: str = "u") -> Account:
        name = f"{prefix}{secrets.token_hex(5)}"          # [a-z0-9]: no escaping anywhere
        account = Account(name, self.domain, secrets.token_hex(8))
        _PLAIN_JIDS.add(account.jid)
        if self.fast:
            try:
                if self.server == "prosody" and self._prosody_dir is not None:
                    self._prosody_write(account)
                    return account
                if self.server == "ejabberd":
                    self._ejabberd_register(account)
                    return account
            except (OSError, requests.RequestException, RuntimeError):
                self.fast = False
        return create_account(self.stack, prefix) if not self.fast else _slow(self.stack, account)

    def _prosody_write(self, account: Account) -> None:
        salt = str(uuid.uuid4())
        iterations = 4096   # the SCRAM minimum (RFC 5802); Prosody reads it from the file
        salted = hashlib.pbkdf2_hmac("sha1", account.password.encode(), salt.encode(), iterations)
        stored = hashlib.sha1(hmac.new(salted, b"Client Key", "sha1").digest()).hexdigest()
        server = hmac.new(salted, b"Server Key", "sha1").hexdigest()
        assert self._prosody_dir is not None
        self._prosody_dir.mkdir(parents=True, exist_ok=True)
        path = self._prosody_dir / f"{_prosody_encode(account.user)}.dat"
        tmp = path.with_suffix(".tmp")
        tmp.write_text("return {\n"
                       f'\t["stored_key"] = "{stored}";\n'
                       f'\t["iteration_count"] = {iterations};\n'
                       f'\t["salt"] = "{salt}";\n'
                       f'\t["server_key"] = "{server}";\n'
                       "};\n")
        tmp.replace(path)

    def _ejabberd_register(self, account: Account) -> None:
        url = f"http://127.0.0.1:{self.stack['SALON_XMPP_HTTP_PORT']}/api/register"
        r = requests.post(url, json={"user": account.user, "host": account.domain,
                                     "password": account.password}, timeout=10)
        if r.status_code != 200:
            raise RuntimeError(f"ejabberd register: {r.status_code} {r.text}")


def _slow(stack: dict[str, str], account: Account) -> Account:
    from lib.stack import stack as stack_cmd
    stack_cmd("adduser", account.user, account.password)
    return account


def _prosody_encode(s: str) -> str:
    """Prosody's datamanager file-name encoding (util/datamanager.lua)."""
    return re.sub(r"[^A-Za-z0-9]", lambda m: "%%%02x" % ord(m.group(0)), s)


# --- marks: "everything received since" -------------------------------------------------------

@dataclass
class Mark:
    client: XmppClient
    index: int

    def since(self, pred: Optional[Predicate] = None) -> list[ET.Element]:
        got = self.client.inbox.received[self.index:]
        return [el for el in got if pred is None or pred(el)]


def mark(client: XmppClient) -> Mark:
    return Mark(client, len(client.inbox.received))


def consume(client: XmppClient, elements: Iterable[ET.Element]) -> None:
    """Removes elements (by identity) from what later wait_for calls would still find."""
    ids = {id(e) for e in elements}
    inbox = client.inbox
    with inbox._lock:   # the Inbox keeps unmatched elements here for later waits
        inbox._pending = [e for e in inbox._pending if id(e) not in ids]


# --- rooms and joins -------------------------------------------------------------------------

@dataclass
class Member:
    account: Account
    role: str            # marketplace role: client, designer, staff
    name: str            # reserved nick

    def as_json(self) -> dict[str, Any]:
        return {"jid": self.account.jid, "name": self.name, "role": self.role,
                "email": f"{self.account.user}@example.com"}


@dataclass
class Room:
    pid: str
    jid: str
    name: str
    description: str
    members: list[Member]

    def occ(self, nick: str) -> str:
        return f"{self.jid}/{nick}"


@dataclass
class Join:
    """What a client received for one join, in order: presences of others, its own presence,
    (history,) the subject."""
    stanzas: list[ET.Element]
    self_presence: ET.Element
    subject: ET.Element

    @property
    def others(self) -> list[ET.Element]:
        return [s for s in self.stanzas if is_presence(s) and s is not self.self_presence]

    @property
    def codes(self) -> set[int]:
        return codes(self.self_presence)

    @property
    def occupant_id(self) -> str:
        ids = occupant_ids(self.self_presence)
        return ids[0] if ids else ""


_POOL = __import__("concurrent.futures").futures.ThreadPoolExecutor(8, thread_name_prefix="muc")


class MucWorld:
    def __init__(self, stack: dict[str, str], http: SalondHttp, loop: ClientLoop,
                 accounts: Accounts) -> None:
        self.stack = stack
        self.http = http
        self.loop = loop
        self.accounts = accounts
        self.domain = stack["SALON_COMPONENT_DOMAIN"]
        self.user_domain = stack["SALON_USER_DOMAIN"]
        self.server = stack["SALON_XMPP_SERVER"]
        self.clients: list[XmppClient] = []
        self.projects: list[str] = []

    # accounts and clients

    def user(self, prefix: str = "u") -> Account:
        return self.accounts.create(prefix)

    def client(self, account: Optional[Account] = None, resource: Optional[str] = None,
               prefix: str = "u") -> XmppClient:
        account = account or self.user(prefix)
        jid = account.jid + "/" + (resource or f"r{secrets.token_hex(3)}")
        c = XmppClient(self.loop, jid, account.password, self.stack["SALON_XMPP_HOST"],
                       int(self.stack["SALON_C2S_PORT"]), name=jid)
        self.clients.append(c)
        c.account = account  # type: ignore[attr-defined]
        return c.connect(10)

    def clients_for(self, *accounts: Account) -> list[XmppClient]:
        """Connected clients for these accounts, logged in concurrently."""
        return list(_POOL.map(lambda a: self.client(a), accounts))

    def new_clients(self, *prefixes: str) -> list[XmppClient]:
        """One fresh account and connected client per prefix, logged in concurrently."""
        accounts = [self.user(p) for p in prefixes]
        return self.clients_for(*accounts)

    def close(self) -> None:
        def close_one(c: XmppClient) -> None:
            try:
                c.close()
            except Exception:   # a test may have killed its connection already
                pass
        list(_POOL.map(close_one, self.clients))
        for pid in self.projects:
            try:
                self.http.delete(f"/api/v1/projects/{pid}")
            except requests.RequestException:
                pass

    # projects

    def new_pid(self) -> str:
        pid = f"m{uuid.uuid4().hex[:14]}"
        self.projects.append(pid)
        return pid

    def project(self, *members: tuple[Any, str, str], name: str = "Project room",
                description: str = "A test project", pid: Optional[str] = None) -> Room:
        """project((alice_client_or_account, "client", "Alice"), ...) -> Room (PUT)."""
        pid = pid or self.new_pid()
        ms = [Member(_account(a), role, nick) for a, role, nick in members]
        room = Room(pid, f"{pid}@{self.domain}", name, description, ms)
        self.put(room)
        return room

    def put(self, room: Room, expect: Sequence[int] = (200, 201)) -> requests.Response:
        r = self.http.put(f"/api/v1/projects/{room.pid}", json={
            "name": room.name, "description": room.description,
            "members": [m.as_json() for m in room.members]})
        assert r.status_code in expect, f"PUT {room.pid}: {r.status_code} {r.text}"
        return r

    def delete(self, room: Room) -> requests.Response:
        return self.http.delete(f"/api/v1/projects/{room.pid}")

    # XEP-0045 moves

    def join(self, c: XmppClient, room: Room | str, nick: str, history: Optional[str] = "",
             payload: str = "", timeout: float = 5.0) -> Join:
        """Sends the join presence and waits for the subject that ends the join; fails on an
        error presence. Returns the join's stanzas in arrival order (and takes them out of the
        inbox)."""
        rjid = room.jid if isinstance(room, Room) else room
        m = mark(c)
        c.send(join_xml(rjid, nick, history, payload))
        end = c.wait_for(any_of(subject_message(rjid), presence_error_from(f"{rjid}/{nick}"),
                                lambda el: is_presence(el) and el.get("type") == "error"
                                and bare(el.get("from", "")) == rjid),
                         timeout, f"the end of the join of {rjid}/{nick}")
        assert end.get("type") != "error", f"join {rjid}/{nick} refused: {to_string(end)}"
        got = m.since()
        upto = next(i for i, el in enumerate(got) if el is end)
        stanzas = [el for el in got[:upto + 1] if bare(el.get("from", "")) == rjid]
        selfs = [el for el in stanzas if is_presence(el) and 110 in codes(el)]
        assert selfs, f"no self-presence (110) before the subject: {[to_string(s) for s in stanzas]}"
        consume(c, stanzas)
        return Join(stanzas, selfs[-1], end)

    def join_error(self, c: XmppClient, room: Room | str, nick: str, payload: str = "",
                   timeout: float = 5.0, to: Optional[str] = None) -> ET.Element:
        """Sends a join and returns the error presence it must get."""
        rjid = room.jid if isinstance(room, Room) else room
        target = to or f"{rjid}/{nick}"
        c.send(f"<presence to={attr(target)}><x xmlns='{NS_MUC}'/>{payload}</presence>")
        return c.wait_for(lambda el: (is_presence(el) and el.get("type") == "error"
                                      and bare(el.get("from", "")) == rjid),
                          timeout, f"an error presence from {rjid}")

    def leave(self, c: XmppClient, room: Room | str, nick: str, timeout: float = 5.0) -> ET.Element:
        rjid = room.jid if isinstance(room, Room) else room
        c.send(f"<presence to={attr(rjid + '/' + nick)} type='unavailable'/>")
        return c.wait_for(lambda el: is_unavailable(el) and el.get("from") == f"{rjid}/{nick}"
                          and 110 in codes(el), timeout, "the self unavailable presence")

    def say(self, c: XmppClient, room: Room | str, text: str, extra: str = "",
            stanza_id: Optional[str] = None) -> str:
        rjid = room.jid if isinstance(room, Room) else room
        sid = stanza_id or new_stanza_id()
        c.send(f"<message to={attr(rjid)} type='groupchat' id={attr(sid)}>"
               f"<body>{_esc(text)}</body>{extra}</message>")
        return sid

    def say_and_wait(self, c: XmppClient, room: Room | str, text: str, extra: str = "",
                     timeout: float = 5.0) -> ET.Element:
        rjid = room.jid if isinstance(room, Room) else room
        sid = self.say(c, rjid, text, extra)
        got = c.wait_for(any_of(groupchat_with_body(rjid, text), message_error_with_id(sid)),
                         timeout, f"the reflection of '{text}'")
        assert got.get("type") != "error", f"groupchat refused: {to_string(got)}"
        return got

    def iq(self, c: XmppClient, to: str, itype: str, payload: str, timeout: float = 5.0) -> ET.Element:
        return c.iq(f"<iq type='{itype}' id={attr(c.new_id())} to={attr(to)}>{payload}</iq>", timeout)

    def available(self, c: XmppClient) -> None:
        """Sends initial presence (RFC 6121 §4.2) so that the server delivers messages sent to
        the bare JID; the ping to its own server afterwards makes sure it was processed."""
        c.send("<presence/>")
        r = self.iq(c, self.user_domain, "get", f"<ping xmlns='{NS_PING}'/>")
        consume(c, [r])

    def sync(self, c: XmppClient, room: Room | str) -> None:
        """Barrier: whatever salond sent c before now has arrived (see the module doc)."""
        rjid = room.jid if isinstance(room, Room) else room
        r = self.iq(c, rjid, "get", f"<query xmlns='{NS_DISCO_INFO}'/>")
        consume(c, [r])

    def admin_set(self, c: XmppClient, room: Room, items: str) -> ET.Element:
        return self.iq(c, room.jid, "set", f"<query xmlns='{NS_MUC_ADMIN}'>{items}</query>")

    def admin_list(self, c: XmppClient, room: Room, affiliation: Optional[str] = None,
                   role: Optional[str] = None) -> ET.Element:
        a = f"affiliation='{affiliation}'" if affiliation else f"role='{role}'"
        return self.iq(c, room.jid, "get", f"<query xmlns='{NS_MUC_ADMIN}'><item {a}/></query>")

    def list_items(self, reply: ET.Element) -> list[dict[str, str]]:
        assert_result(reply)
        q = child(reply, NS_MUC_ADMIN, "query")
        assert q is not None, to_string(reply)
        return [dict(i.attrib) for i in children(q, NS_MUC_ADMIN, "item")]

    def set_affiliation(self, c: XmppClient, room: Room, jid: str, affiliation: str,
                        reason: Optional[str] = None, nick: Optional[str] = None) -> ET.Element:
        extra = f" nick={attr(nick)}" if nick else ""
        r = f"<reason>{_esc(reason)}</reason>" if reason else ""
        return self.admin_set(c, room, f"<item affiliation='{affiliation}' jid={attr(jid)}{extra}>{r}</item>")

    def set_role(self, c: XmppClient, room: Room, nick: str, role: str,
                 reason: Optional[str] = None) -> ET.Element:
        r = f"<reason>{_esc(reason)}</reason>" if reason else ""
        return self.admin_set(c, room, f"<item role='{role}' nick={attr(nick)}>{r}</item>")

    def config_form(self, c: XmppClient, room: Room) -> ET.Element:
        return self.iq(c, room.jid, "get", f"<query xmlns='{NS_MUC_OWNER}'/>")

    def submit_config(self, c: XmppClient, room: Room, fields: dict[str, str | list[str]]) -> ET.Element:
        xml = [f"<field var='FORM_TYPE'><value>{NS_ROOMCONFIG}</value></field>"]
        for var, v in fields.items():
            vals = v if isinstance(v, list) else [v]
            xml.append(f"<field var={attr(var)}>" + "".join(f"<value>{_esc(x)}</value>" for x in vals)
                       + "</field>")
        return self.iq(c, room.jid, "set", f"<query xmlns='{NS_MUC_OWNER}'>"
                       f"<x xmlns='{NS_DATA}' type='submit'>{''.join(xml)}</x></query>")

    def disco_info(self, c: XmppClient, to: str, node: Optional[str] = None) -> ET.Element:
        n = f" node={attr(node)}" if node else ""
        return self.iq(c, to, "get", f"<query xmlns='{NS_DISCO_INFO}'{n}/>")

    def self_ping(self, c: XmppClient, room: Room, nick: str) -> ET.Element:
        return self.iq(c, room.occ(nick), "get", f"<ping xmlns='{NS_PING}'/>")

    def wait_http_ready(self, timeout: float = 30.0) -> None:
        self.http.wait_status("/readyz", 200, timeout=timeout)


def join_xml(room_jid: str, nick: str, history: Optional[str] = "", payload: str = "") -> str:
    h = "" if history is None else (history or "<history maxstanzas='0'/>")
    return (f"<presence to={attr(room_jid + '/' + nick)}><x xmlns='{NS_MUC}'>{h}</x>"
            f"{payload}</presence>")


def _account(a: Any) -> Account:
    if isinstance(a, Account):
        return a
    acct = getattr(a, "account", None)
    if isinstance(acct, Account):
        return acct
    raise TypeError(f"not an account or a muc client: {a!r}")


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def new_stanza_id() -> str:
    return f"m-{uuid.uuid4().hex[:12]}"


def wait_until(cond: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02,
               what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(interval)


# --- pytest fixtures (imported by the test_muc_* modules) -------------------------------------

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def muc_accounts(stack: dict[str, str], xmpp_loop: ClientLoop) -> Accounts:
    """Session-wide account factory; the first account proves the fast path logs in."""
    accounts = Accounts(stack)
    probe = accounts.create("probe")
    c = XmppClient(xmpp_loop, probe.jid + "/probe", probe.password, stack["SALON_XMPP_HOST"],
                   int(stack["SALON_C2S_PORT"]))
    try:
        c.connect(10)
    except Exception:
        accounts.fast = False   # e.g. a server version with another storage format
    finally:
        c.close()
    return accounts


@pytest.fixture
def muc(stack: dict[str, str], http: SalondHttp, xmpp_loop: ClientLoop,
        muc_accounts: Accounts) -> Any:
    world = MucWorld(stack, http, xmpp_loop, muc_accounts)
    yield world
    world.close()


class SalondTuning:
    """Changes [muc] limits of the stack's salond live (SIGHUP reload), restored afterwards."""

    def __init__(self, stack: dict[str, str]) -> None:
        self.stack = stack
        self.config = Path(stack["SALON_CONFIG"])
        self.original: Optional[str] = None

    def _pid(self) -> int:
        return int(Path(self.stack["SALON_SALOND_PIDFILE"]).read_text().split()[0])

    def _reload(self) -> None:
        log = Path(self.stack["SALON_SALOND_LOG"])
        before = log.read_text(errors="replace").count("[config] reload")
        os.kill(self._pid(), __import__("signal").SIGHUP)
        def done() -> bool:
            text = log.read_text(errors="replace")
            return text.count("[config] reload") > before
        wait_until(done, 10, what="salond's reload log line")
        last = [l for l in log.read_text(errors="replace").splitlines() if "[config] reload" in l][-1]
        assert "[config] reloaded" in last, last

    def set(self, **muc_keys: Any) -> None:
        from lib.salond import write_config
        if self.original is None:
            self.original = self.config.read_text()
        base = self.config.with_name(".salond-base.toml")
        base.write_text(self.original)
        write_config(self.config.parent, base, name=self.config.name, muc=muc_keys)
        base.unlink()
        self._reload()

    def restore(self) -> None:
        if self.original is not None:
            self.config.write_text(self.original)
            self.original = None
            self._reload()


@pytest.fixture
def tuning(stack: dict[str, str], http: SalondHttp) -> Any:
    t = SalondTuning(stack)
    yield t
    t.restore()
