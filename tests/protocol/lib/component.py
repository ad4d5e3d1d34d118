"""ComponentHarness: a minimal XEP-0114 component on a raw socket.

It stands where salond stands: it authenticates to the XMPP server's component port with the
jabber:component:accept handshake (hex SHA-1 of stream id + secret), then sends raw XML and
collects the stanzas routed to its domain. Use it to check the stack itself, or as a
scriptable peer in protocol tests.

    with ComponentHarness("127.0.0.1", port, "harness.localhost", secret) as comp:
        comp.send(f"<message from='bot@harness.localhost' to='alice@localhost'>...")
        iq = comp.wait_for(is_kind("iq"))

Command line (exit status 0 when the handshake succeeds):
    /usr/bin/python3 -m lib.component HOST PORT DOMAIN SECRET     (from tests/protocol)
"""
from __future__ import annotations

import hashlib
import socket
import sys
import threading
import xml.etree.ElementTree as ET
from typing import Optional, Union

from .inbox import Inbox, StanzaTimeout
from .xmlutil import NS_COMPONENT, NS_STREAM, NS_STREAMS, Predicate, attr, local, new_id, ns, reply_to, to_string


class ComponentAuthError(Exception):
    """The server refused the handshake or closed the stream; .condition is the stream error."""

    def __init__(self, message: str, condition: Optional[str] = None) -> None:
        super().__init__(message)
        self.condition = condition


def handshake_digest(stream_id: str, secret: str) -> str:
    return hashlib.sha1((stream_id + secret).encode("utf-8")).hexdigest()


def stream_error_condition(el: ET.Element) -> Optional[str]:
    for child in el:
        if ns(child.tag) == NS_STREAMS and local(child.tag) != "text":
            return local(child.tag)
    return None


class ComponentHarness:
    def __init__(self, host: str, port: int, domain: str, secret: str, timeout: float = 10.0) -> None:
        self.host, self.port, self.domain, self.secret = host, int(port), domain, secret
        self.timeout = timeout
        self.stream_id: Optional[str] = None
        self.inbox = Inbox(f"component {domain}")
        self.closed = threading.Event()      # the server closed the stream or the socket
        self.stream_error: Optional[str] = None
        self._sock: Optional[socket.socket] = None
        self._header = threading.Event()
        self._reader: Optional[threading.Thread] = None
        self._send_lock = threading.Lock()

    # --- connection --------------------------------------------------------------------------

    def connect(self) -> "ComponentHarness":
        """Opens the stream and completes the handshake; raises ComponentAuthError if refused."""
        from .xmlutil import StreamParser
        self._parser = StreamParser()
        self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self._sock.settimeout(None)
        self._reader = threading.Thread(target=self._read_loop, name=f"component-{self.domain}", daemon=True)
        self._reader.start()
        self.send_raw(f"<stream:stream xmlns={attr(NS_COMPONENT)} xmlns:stream={attr(NS_STREAM)} "
                      f"to={attr(self.domain)}>")
        if not self._header.wait(self.timeout):
            self.close()
            raise ComponentAuthError(f"no stream header from {self.host}:{self.port}")
        if self.stream_id is None:
            self.close()
            raise ComponentAuthError("stream closed before the header", self.stream_error)
        self.send_raw(f"<handshake>{handshake_digest(self.stream_id, self.secret)}</handshake>")
        try:
            el = self.inbox.wait_for(lambda e: local(e.tag) in ("handshake", "error"), self.timeout,
                                     "handshake reply")
        except StanzaTimeout:
            self.close()
            raise ComponentAuthError("no handshake reply", self.stream_error) from None
        if local(el.tag) != "handshake":
            self.close()
            raise ComponentAuthError(f"handshake refused: {to_string(el)}", stream_error_condition(el))
        return self

    def _read_loop(self) -> None:
        assert self._sock is not None
        try:
            while True:
                data = self._sock.recv(65536)
                if not data:
                    break
                for el in self._parser.feed(data):
                    if el.tag == f"{{{NS_STREAM}}}error":
                        self.stream_error = stream_error_condition(el)
                    self.inbox.put(el)
                if self._parser.header is not None and not self._header.is_set():
                    self.stream_id = self._parser.header.get("id")
                    self._header.set()
                if self._parser.closed:
                    break
        except (OSError, ET.ParseError):
            pass
        finally:
            self.closed.set()
            self._header.set()

    def close(self) -> None:
        if self._sock is None:
            return
        try:
            if not self.closed.is_set():
                self.send_raw("</stream:stream>")
                self.closed.wait(2.0)
        except OSError:
            pass
        finally:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None

    def __enter__(self) -> "ComponentHarness":
        return self.connect() if self._sock is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- stanzas -----------------------------------------------------------------------------

    def send_raw(self, data: str) -> None:
        if self._sock is None:
            raise ConnectionError("not connected")
        with self._send_lock:
            self._sock.sendall(data.encode("utf-8"))

    def send(self, stanza: Union[str, ET.Element]) -> None:
        """Sends one stanza: XML text, or an element with unqualified tags (they land in the
        stream's jabber:component:accept namespace)."""
        if isinstance(stanza, ET.Element):
            stanza = ET.tostring(stanza, encoding="unicode")
        self.send_raw(stanza)

    def wait_for(self, pred: Predicate, timeout: float = 5.0, what: str = "a matching stanza") -> ET.Element:
        return self.inbox.wait_for(pred, timeout, what)

    def expect_nothing(self, pred: Predicate, within: float = 1.0) -> None:
        self.inbox.expect_nothing(pred, within)

    def iq(self, xml: str, timeout: float = 5.0) -> ET.Element:
        """Sends an <iq/> (its id attribute must be present) and returns the reply."""
        el = ET.fromstring(xml)
        stanza_id = el.get("id")
        if not stanza_id:
            raise ValueError("iq() needs an id attribute")
        self.send_raw(xml)
        return self.wait_for(reply_to(stanza_id), timeout, f"reply to iq {stanza_id}")

    def new_id(self) -> str:
        return new_id("c")


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__.split("Command line")[1], file=sys.stderr)
        return 2
    _, host, port, domain, secret = argv
    try:
        with ComponentHarness(host, int(port), domain, secret) as comp:
            print(f"{domain}: handshake accepted by {host}:{port} (stream id {comp.stream_id})")
    except (ComponentAuthError, OSError) as e:
        cond = getattr(e, "condition", None)
        print(f"{domain}: {e}" + (f" [{cond}]" if cond else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
