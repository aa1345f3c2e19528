"""A real HTTP receiver on loopback that records webhook deliveries (and when each entry's first
arrived) and can be told to fail. The tests and the end-to-end benchmark share it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    fail_first: int = 0  # answer 500 to this many requests, then 200
    always_fail: bool = False
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    # Webhook "subject" (the entry id) -> when it first arrived, on time.perf_counter's clock.
    arrived: dict[str, float] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    host: str = "127.0.0.1"
    port: int = 0  # any free one

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{self.host}:{self.server.server_address[1]}/hook"

    @property
    def duplicates(self) -> int:
        """Deliveries of an entry that had already arrived."""
        return len(self.received) - len(self.arrived)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request (a fault test): not sent
                    self.close_connection = True
                    return
                receiver.attempts += 1
                failing = receiver.always_fail or receiver.attempts <= receiver.fail_first
                if not failing:
                    at = time.perf_counter()
                    receiver.received.append(Received(dict(self.headers.items()), body))
                    receiver.arrived.setdefault(str(json.loads(body).get("subject")), at)
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
