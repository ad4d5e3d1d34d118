#!/usr/bin/python3
# A private SMTP server for tests and the demo (Debian's python3-aiosmtpd): listens on loopback,
# saves every accepted message whole to DIR/NNNNNN.eml with its envelope in DIR/NNNNNN.json, and
# misbehaves on demand for the tests: CONTROL (a JSON file, read at every command) may say
#   {"mail_delay": 5}          wait 5 s before answering MAIL FROM (before the end of DATA)
#   {"rcpt": "550"}            refuse every recipient with 550 (or "451": try later)
#   {"data": "451"}            refuse the message after DATA (nothing saved)
#   {"data_delay": 5}          save the message, then wait 5 s before the 250 after DATA
# DIR/events.log gets a line per MAIL FROM ("mail <address>") and per saved message
# ("saved NNNNNN"), so a test can act while a transaction is in a given step.
# Usage: smtp_sink.py PORT DIR CONTROL
# SPDX-License-Identifier: GPL-3.0-or-later
import asyncio
import json
import os
import sys
import time

from aiosmtpd.smtp import SMTP

REPLIES = {
    "550": "550 5.1.1 mailbox unavailable (test sink)",
    "554": "554 5.7.1 rejected (test sink)",
    "451": "451 4.3.0 try again later (test sink)",
    "421": "421 4.3.2 service not available (test sink)",
}


class Sink:
    def __init__(self, directory, control):
        self.dir = directory
        self.control_path = control
        os.makedirs(directory, exist_ok=True)
        self.seq = len([f for f in os.listdir(directory) if f.endswith(".eml")])

    def control(self):
        try:
            with open(self.control_path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def event(self, line):
        with open(os.path.join(self.dir, "events.log"), "a", encoding="utf-8") as f:
            f.write(line + "\n")

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.event(f"mail {address}")
        delay = self.control().get("mail_delay")
        if delay:
            await asyncio.sleep(float(delay))
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self.control().get("rcpt")
        if code:
            return REPLIES.get(str(code), f"{code} refused (test sink)")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        ctl = self.control()
        if ctl.get("data"):
            return REPLIES.get(str(ctl["data"]), f"{ctl['data']} refused (test sink)")
        self.seq += 1
        base = os.path.join(self.dir, f"{self.seq:06d}")
        # The envelope first, the message last and atomically: a reader that sees NNNNNN.eml
        # sees the whole message and its envelope.
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "received_at": time.time()}, f)
        os.replace(base + ".json.tmp", base + ".json")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.replace(base + ".eml.tmp", base + ".eml")
        self.event(f"saved {self.seq:06d}")
        delay = ctl.get("data_delay")
        if delay:
            await asyncio.sleep(float(delay))
        return "250 2.0.0 accepted (test sink)"


def main():
    port, directory, control = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sink = Sink(directory, control)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(sink, hostname="sink.localhost", enable_SMTPUTF8=True, decode_data=False,
                     ident="salon test sink"),
        host="127.0.0.1", port=port, reuse_address=True))
    print(f"smtp sink on 127.0.0.1:{port}, saving to {directory}", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
