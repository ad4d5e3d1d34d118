"""Raw-XML helpers: namespaces, an incremental stream parser, and stanza predicates.

Protocol tests look at the exact XML the servers send, as xml.etree.ElementTree elements
with tags in Clark notation ("{jabber:client}iq").
"""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from typing import Callable, Optional
from xml.sax.saxutils import quoteattr

NS_STREAM = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
NS_COMPONENT = "jabber:component:accept"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_PING = "urn:xmpp:ping"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner"
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_DATA = "jabber:x:data"
NS_SID = "urn:xmpp:sid:0"
NS_DELAY = "urn:xmpp:delay"
NS_FORWARD = "urn:xmpp:forward:0"

Predicate = Callable[[ET.Element], bool]

_ids = itertools.count(1)


def new_id(prefix: str = "t") -> str:
    """A stanza id unique within this test process."""
    return f"{prefix}{next(_ids)}"


def attr(value: str) -> str:
    """An XML attribute value, quoted and escaped: f"<iq to={attr(jid)}/>"."""
    return quoteattr(value)


def local(tag: str) -> str:
    """'{ns}name' -> 'name'."""
    return tag.rsplit("}", 1)[-1]


def ns(tag: str) -> str:
    """'{ns}name' -> 'ns' ('' without a namespace)."""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def to_string(el: ET.Element) -> str:
    return ET.tostring(el, encoding="unicode")


def error_condition(stanza: ET.Element) -> Optional[str]:
    """The defined condition of a stanza error ('service-unavailable'), or None."""
    err = next((c for c in stanza if local(c.tag) == "error"), None)
    if err is None:
        return None
    for child in err:
        if ns(child.tag) == NS_STANZAS and local(child.tag) != "text":
            return local(child.tag)
    return None


def error_type(stanza: ET.Element) -> Optional[str]:
    err = next((c for c in stanza if local(c.tag) == "error"), None)
    return None if err is None else err.get("type")


# --- predicates for wait_for() -------------------------------------------------------------

def is_kind(kind: str) -> Predicate:
    """Any <message/>, <presence/> or <iq/> (whatever the stream namespace)."""
    return lambda el: local(el.tag) == kind


def reply_to(stanza_id: str) -> Predicate:
    """The <iq type='result|error'/> answering the IQ with this id."""
    return lambda el: (local(el.tag) == "iq" and el.get("id") == stanza_id
                       and el.get("type") in ("result", "error"))


def from_jid(jid: str, kind: Optional[str] = None) -> Predicate:
    return lambda el: el.get("from") == jid and (kind is None or local(el.tag) == kind)


def has_child(namespace: str, name: Optional[str] = None) -> Predicate:
    def pred(el: ET.Element) -> bool:
        return any(ns(c.tag) == namespace and (name is None or local(c.tag) == name) for c in el)
    return pred


def all_of(*preds: Predicate) -> Predicate:
    return lambda el: all(p(el) for p in preds)


class StreamParser:
    """Feeds bytes of an XMPP stream; yields the stream header, then each top-level element.

    XMPP is one endless document, so a pull parser is fed as data arrives: the first 'start'
    event at depth 1 is <stream:stream>, each 'end' at depth 2 is a complete stanza.
    """

    def __init__(self) -> None:
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self.header: Optional[ET.Element] = None
        self.closed = False   # </stream:stream> seen

    def feed(self, data: bytes) -> list[ET.Element]:
        self._parser.feed(data)
        out: list[ET.Element] = []
        for event, el in self._parser.read_events():
            if event == "start":
                self._depth += 1
                if self._depth == 1:
                    self.header = el
            else:
                self._depth -= 1
                if self._depth == 1:
                    out.append(el)
                    if self.header is not None:
                        self.header.remove(el)   # the stream never ends: keep memory flat
                elif self._depth == 0:
                    self.closed = True
        return out
