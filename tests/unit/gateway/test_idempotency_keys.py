"""One derivation of what an Idempotency-Key names: the member's request on one route."""

from __future__ import annotations

from services.gateway.idempotency_keys import answer_key, request_id

PATH = "/v1/relationships/r1/checkins"


def test_the_same_members_request_is_the_same_whichever_token_carried_it() -> None:
    # Nothing of the token goes in: signing in again changes nothing.
    assert request_id("m1", "POST", PATH, "k") == request_id("m1", "post", PATH, "k")


def test_members_routes_and_keys_are_kept_apart() -> None:
    ids = {
        request_id("m1", "POST", PATH, "k"),
        request_id("m2", "POST", PATH, "k"),
        request_id("m1", "PUT", PATH, "k"),
        request_id("m1", "POST", "/v1/relationships/r1/touches", "k"),
        request_id("m1", "POST", "/v1/relationships/r2/checkins", "k"),
        request_id("m1", "POST", PATH, "k2"),
    }
    assert len(ids) == 6


def test_no_key_or_path_can_pass_for_another_request() -> None:
    # A separator inside one part never shifts text into the next.
    assert request_id("m1", "POST", "/a", ":b") != request_id("m1", "POST", "/a:", "b")
    assert request_id("m1:x", "POST", "/a", "b") != request_id("m1", "POST", "x:/a", "b")
    assert request_id("m1", "POST", '/a", "b', "c") != request_id("m1", "POST", "/a", 'b", "c')


def test_the_sealing_key_needs_the_gateways_secret_and_is_not_the_record_id() -> None:
    named = ("m1", "POST", PATH, "k")
    sealing = answer_key(b"secret", *named)
    assert sealing == answer_key(b"secret", *named)
    assert sealing != answer_key(b"another secret", *named)
    assert sealing != answer_key(b"secret", "m2", "POST", PATH, "k")
    assert sealing.hex() != request_id(*named)
    assert len(sealing) == 32  # an AES-256 key
