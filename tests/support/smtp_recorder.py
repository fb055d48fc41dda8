#!/usr/bin/env python3
"""An SMTP server for the SendNotification tests (aiosmtpd, Debian's
python3-aiosmtpd). It listens on 127.0.0.1 only, on a port the system picks,
writes that port to --ready once it accepts connections, appends every
message it accepts to --out as one JSON line, and exits by itself after
--lifetime seconds so that nothing outlives a crashed test.

Recipients steer the answers, so that tests can provoke SMTP's failures:
  reject...@  -> 550 (permanent)      busy...@ -> 451 (transient)
With --auth USER:PASSWORD the server requires AUTH PLAIN or LOGIN.
"""
import argparse
import asyncio
import json
import os

from aiosmtpd.smtp import SMTP, AuthResult


class Recorder:
    def __init__(self, out):
        self.out = out

    async def handle_RCPT(self, server, session, envelope, address, options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("busy"):
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "authenticated": bool(session.authenticated),
            "data": envelope.original_content.decode("utf-8", "replace"),
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 2.0.0 message accepted"


def authenticator_for(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode() == user and
              auth_data.password.decode() == password)
        # handled=False: aiosmtpd then answers 535 itself on failure.
        return AuthResult(success=ok, handled=False)
    return check


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--auth")
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()

    options = {"hostname": "smtp.test"}
    if args.auth:
        user, password = args.auth.split(":", 1)
        options.update(authenticator=authenticator_for(user, password),
                       auth_required=True, auth_require_tls=False)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Recorder(args.out), **options), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    # Written whole under another name, then renamed: the test never reads
    # half a port number.
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, args.ready)
    await asyncio.sleep(args.lifetime)


if __name__ == "__main__":
    asyncio.run(main())
