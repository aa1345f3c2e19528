"""The rate limiter's memory is bounded: a flood of new keys (random tokens, spoofed
addresses) neither grows it without end nor resets the limits of everyone else."""

from __future__ import annotations

import tracemalloc

from services.gateway.deps import TokenBucket


def test_two_hundred_thousand_random_keys_leave_the_limiter_bounded(figures) -> None:
    limiter = TokenBucket(rate=20, burst=60)  # the gateway's default member limit
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for n in range(200_000):  # each a token never seen before
            limiter.take(f"att_{n:043d}")
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grown = (after - before) / 2**20
    figures(f"rate limiter after 200,000 random keys: {len(limiter)} keys, {grown:.1f} MiB")
    assert len(limiter) <= 50_000
    assert grown < 40  # about 50,000 entries at most, whatever comes


def test_a_limited_key_stays_limited_while_others_come_and_go() -> None:
    limiter = TokenBucket(rate=1, burst=2, max_keys=1000)
    assert limiter.take("member", 0.0) == 0 and limiter.take("member", 0.0) == 0
    assert limiter.take("member", 0.0) > 0
    for n in range(500):  # fewer than the bound: nobody is forgotten early
        limiter.take(f"other-{n}", 0.0)
    assert limiter.take("member", 0.1) > 0


def test_an_idle_key_expires_once_its_bucket_would_be_full_again() -> None:
    limiter = TokenBucket(rate=10, burst=5)
    limiter.take("someone")
    assert len(limiter) == 1
    limiter.buckets.expire(limiter.buckets.timer() + 1.0)  # burst / rate = 0.5 s later
    assert len(limiter) == 0
