"""What an Idempotency-Key names: one member's request on one route.

The same derivation gives the Idempotency middleware its record id and the routes their command
id downstream, so the gateway and the owning service recognise the same repeat. It is keyed by
the verified member, not the token: a retry after signing in again is still the same request,
while two members using the same key, or one member using it on two routes, never meet.
"""

from __future__ import annotations

import hashlib
import hmac
import json


def _material(member_id: str, method: str, path: str, key: str) -> bytes:
    # As a JSON array: no choice of key or path can make two different requests read the same.
    return json.dumps([member_id, method.upper(), path, key]).encode()


def request_id(member_id: str, method: str, path: str, key: str) -> str:
    """The id of this member's request under this key on this route."""
    return hashlib.sha256(_material(member_id, method, path, key)).hexdigest()


def answer_key(secret: bytes, member_id: str, method: str, path: str, key: str) -> bytes:
    """The key that seals a recorded answer and fingerprints its request. It needs the
    Idempotency-Key, which the record does not hold, and the gateway's secret, which the
    database does not hold: neither a copy of the records alone nor guesses at a small body
    (a mood, a score) open or match them."""
    material = b"attune-idempotent-response\0" + _material(member_id, method, path, key)
    return hmac.new(secret, material, hashlib.sha256).digest()
