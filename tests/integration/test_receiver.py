"""The test receiver counts only whole deliveries: a request cut off by its sender (a gateway
killed mid-send in the fault test) is not one, and its retry is."""

from __future__ import annotations

import json
import socket

import httpx

from tests.support.receiver import Receiver


def test_a_request_cut_off_mid_body_is_not_a_delivery():
    receiver = Receiver().start()
    try:
        assert receiver.server is not None
        body = json.dumps({"subject": "e1"}).encode()
        with socket.create_connection((receiver.host, receiver.server.server_address[1])) as cut:
            cut.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])  # fmt: skip
            cut.shutdown(socket.SHUT_WR)  # the sender is gone
            assert cut.recv(100) == b""  # closed without an answer
        assert httpx.post(receiver.url, content=body).status_code == 200
        assert [r.body for r in receiver.received] == [body]
        assert receiver.arrived.keys() == {"e1"}
    finally:
        receiver.stop()
