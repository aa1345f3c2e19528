"""A loopback webhook receiver that notes when each delivery arrived, by its subject.

Arrival times come from `time.perf_counter`, the clock the benchmark's writer uses too.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class TimedReceiver:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}  # webhook "subject" (the entry id) -> arrival
        self.duplicates = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def start(self) -> TimedReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                at = time.perf_counter()
                subject = str(json.loads(body).get("subject"))
                if subject in receiver.arrived:
                    receiver.duplicates += 1
                else:
                    receiver.arrived[subject] = at
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
