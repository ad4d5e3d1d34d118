"""Helpers for the archive protocol tests (test_archive_*.py): XEP-0313 MAM queries as raw XML
over real clients, the archived rows read straight from PostgreSQL, and a room with messages
whose stanza-ids (as reflected) are known, so tests check exact ids and order.
"""
from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Optional

from muc_support import bare, child, children, groupchat_with_body, mark, stanza_ids
from lib.xmlutil import NS_DATA, attr, local

NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FWD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
NS_CLIENT = "jabber:client"
NS_RETRACT = "urn:xmpp:message-retract:1"
NS_CORRECT = "urn:xmpp:message-correct:0"


def esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")


@dataclass
class Result:
    id: str           # the MAM id (= stanza-id)
    stamp: str
    message: ET.Element

    @property
    def body(self) -> Optional[str]:
        b = child(self.message, NS_CLIENT, "body")
        return None if b is None else (b.text or "")


@dataclass
class Answer:
    reply: ET.Element
    results: list[Result] = field(default_factory=list)

    @property
    def type(self) -> str:
        return self.reply.get("type", "")

    @property
    def fin(self) -> ET.Element:
        f = child(self.reply, NS_MAM, "fin")
        assert f is not None, f"no <fin/> in {ET.tostring(self.reply)!r}"
        return f

    @property
    def complete(self) -> bool:
        return self.fin.get("complete") in ("true", "1")

    def rsm(self, name: str) -> Optional[ET.Element]:
        s = child(self.fin, NS_RSM, "set")
        return None if s is None else child(s, NS_RSM, name)

    @property
    def count(self) -> Optional[int]:
        c = self.rsm("count")
        return None if c is None else int(c.text or "")

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.results]

    @property
    def bodies(self) -> list[Optional[str]]:
        return [r.body for r in self.results]


def query_xml(qid: str, fields: Optional[dict[str, Any]] = None, rsm: Optional[dict[str, str]] = None,
              flip: bool = False) -> str:
    x = ""
    if fields is not None:
        x = (f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE' type='hidden'>"
             f"<value>{NS_MAM}</value></field>")
        for var, val in fields.items():
            vals = val if isinstance(val, list) else [val]
            x += f"<field var={attr(var)}>" + "".join(f"<value>{esc(v)}</value>" for v in vals) + "</field>"
        x += "</x>"
    s = ""
    if rsm is not None:
        s = f"<set xmlns='{NS_RSM}'>" + "".join(
            f"<{k}/>" if v == "" else f"<{k}>{esc(v)}</{k}>" for k, v in rsm.items()) + "</set>"
    return f"<query xmlns='{NS_MAM}' queryid={attr(qid)}>{x}{s}{'<flip-page/>' if flip else ''}</query>"


def mam(muc, c, room, fields=None, rsm=None, flip=False, timeout=10.0) -> Answer:
    """Sends a MAM query to the room; returns the IQ reply and the results that came before it
    (only those with this query's queryid, in arrival order)."""
    rjid = room if isinstance(room, str) else room.jid
    qid = c.new_id()
    m = mark(c)
    reply = muc.iq(c, rjid, "set", query_xml(qid, fields, rsm, flip), timeout)
    answer = Answer(reply)
    for el in m.since():
        if local(el.tag) != "message":
            continue
        r = child(el, NS_MAM, "result")
        if r is None or r.get("queryid") != qid:
            continue
        assert bare(el.get("from", "")) == rjid, ET.tostring(el)
        fwd = child(r, NS_FWD, "forwarded")
        assert fwd is not None, ET.tostring(el)
        delay = child(fwd, NS_DELAY, "delay")
        msg = child(fwd, NS_CLIENT, "message")
        assert delay is not None and msg is not None, ET.tostring(el)
        answer.results.append(Result(r.get("id", ""), delay.get("stamp", ""), msg))
    return answer


def room_sid(el: ET.Element, room_jid: str) -> str:
    ids = [s["id"] for s in stanza_ids(el) if s.get("by") == room_jid]
    assert len(ids) == 1, ET.tostring(el)
    return ids[0]


def say(muc, c, room, text: str, extra: str = "") -> str:
    """Says `text` and returns the stanza-id the room gave it (as reflected to the sender)."""
    return room_sid(muc.say_and_wait(c, room, text, extra, timeout=10), room.jid)


def psql(stack, sql: str) -> list[list[str]]:
    out = subprocess.run([f"{stack['SALON_PG_BIN']}/psql", stack["SALON_PG_CONNINFO"], "-AtqF", "\t",
                          "-c", sql], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def archived(stack, pid: str, columns: str = "a.stanza_id") -> list[list[str]]:
    """The archive rows of a project's room, in archive order (pid is generated: safe to inline)."""
    return psql(stack, f"SELECT {columns} FROM archive a JOIN rooms r ON r.id = a.room_id "
                       f"WHERE r.jid_local = '{pid}' ORDER BY a.id")
