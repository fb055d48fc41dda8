#!/usr/bin/env python3
"""An HTTP listener for the SendNotification webhook tests (standard library
only). It listens on 127.0.0.1 only, on a port the system picks, writes that
port to --ready once it accepts connections, appends every request to --out
as one JSON line (method, path, headers, body) before answering, and exits by
itself after --lifetime seconds.

The path chooses the answer:
  /ok/...          200
  /status/CODE     CODE
  /flaky/N/...     500 for the first N requests to that exact path, then 200
  /slow/MS/...     200 after MS milliseconds
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
seen = {}  # path -> requests so far (lock)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    out = None

    def log_message(self, fmt, *args):
        pass  # the recording is the log

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        with lock:
            seen[self.path] = count = seen.get(self.path, 0) + 1
            with open(self.out, "a", encoding="utf-8") as f:
                f.write(json.dumps({"method": "POST", "path": self.path,
                                    "headers": dict(self.headers.items()),
                                    "body": body}) + "\n")
        self.answer(self.choose(count))

    do_PUT = do_POST

    def choose(self, count):
        parts = self.path.strip("/").split("/")
        try:
            if parts[0] == "status":
                return int(parts[1])
            if parts[0] == "flaky":
                return 500 if count <= int(parts[1]) else 200
            if parts[0] == "slow":
                time.sleep(int(parts[1]) / 1000.0)
                return 200
        except (IndexError, ValueError):
            return 404
        return 200 if parts[0] == "ok" else 404

    def answer(self, code):
        text = json.dumps({"status": code}).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()
    Handler.out = args.out
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.ready)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
