"""FakeServer: stands in for the XMPP server on salond's XEP-0114 link.

salond connects to it as it would to Prosody's component port; the test then injects stanzas
"from users" and reads exactly what salond sends, with no server in between. Fast and
deterministic: ordering and edge cases are checked on the raw stream.

    srv = FakeServer(secret="s").start()          # listens on a free loopback port
    ... start salond with server_port=srv.port ...
    srv.wait_authenticated()
    srv.send("<presence from='u@localhost/r' to='room@rooms.test/nick'><x xmlns='...muc'/></presence>")
    srv.wait_for(pred)
"""
from __future__ import annotations

import hashlib
import secrets
import socket
import threading
import xml.etree.ElementTree as ET
from typing import Optional

from .inbox import Inbox
from .xmlutil import NS_COMPONENT, NS_STREAM, Predicate, StreamParser, attr, local


class FakeServer:
    def __init__(self, secret: str, host: str = "127.0.0.1") -> None:
        self.secret = secret
        self._listener = socket.create_server((host, 0))
        self.port = self._listener.getsockname()[1]
        self.inbox = Inbox("fake-server")
        self.authenticated = threading.Event()
        self.disconnected = threading.Event()
        self.domain: Optional[str] = None
        self.connections = 0
        self._sock: Optional[socket.socket] = None
        self._lock = threading.Lock()

    def start(self) -> "FakeServer":
        threading.Thread(target=self._accept_loop, name="fake-server", daemon=True).start()
        return self

    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self.authenticated.clear()
            self.disconnected.clear()
            self._sock = sock
            self._serve(sock)
            self.disconnected.set()

    def _serve(self, sock: socket.socket) -> None:
        parser = StreamParser()
        stream_id = secrets.token_hex(8)
        header_sent = False
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                for el in parser.feed(data):
                    if local(el.tag) == "handshake" and not self.authenticated.is_set():
                        want = hashlib.sha1((stream_id + self.secret).encode()).hexdigest()
                        if (el.text or "").strip().lower() == want:
                            self._write("<handshake/>")
                            self.authenticated.set()
                        else:
                            self._write("<stream:error><not-authorized "
                                        "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
                                        "</stream:stream>")
                            return
                    else:
                        self.inbox.put(el)
                if parser.header is not None and not header_sent:
                    self.domain = parser.header.get("to")
                    self._write(f"<?xml version='1.0'?><stream:stream xmlns={attr(NS_COMPONENT)} "
                                f"xmlns:stream={attr(NS_STREAM)} id={attr(stream_id)} "
                                f"from={attr(self.domain or '')}>")
                    header_sent = True
                if parser.closed:
                    return
        except (OSError, ET.ParseError):
            return
        finally:
            sock.close()

    def _write(self, data: str) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.sendall(data.encode())

    def send(self, xml: str) -> None:
        self._write(xml)

    def wait_authenticated(self, timeout: float = 10.0) -> None:
        if not self.authenticated.wait(timeout):
            raise AssertionError("salond did not complete the XEP-0114 handshake")

    def wait_for(self, pred: Predicate, timeout: float = 5.0, what: str = "a matching stanza") -> ET.Element:
        return self.inbox.wait_for(pred, timeout, what)

    def drop_connection(self) -> None:
        """Closes salond's connection abruptly, as a crashed server would."""
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self.drop_connection()
        self._listener.close()
