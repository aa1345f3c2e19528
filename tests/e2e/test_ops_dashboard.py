"""The dashboard at 3 a.m.: consumer lag over time, the slowest routes, outbox depth and the
dead-letter groups with a redrive button - rendered by headless Chromium, counts only."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import uuid

import pytest
from nats.aio.client import Client

from shared.nats import MSG_ID_HEADER
from tests.support.system import System
from tests.support.waiting import eventually

TOKEN = "ops-test-token"  # the e2e system's operator token (tests/e2e/conftest.py)
OPS = {"Authorization": f"Bearer {TOKEN}"}


def render(chromium: str, url: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=90, check=False,
        ).stdout  # fmt: skip


@pytest.mark.slow
async def test_the_dashboard_shows_lag_routes_outbox_and_dead_letter_groups(
    http, system: System, nats_client: Client
):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (make test installs it with apt-get)")
    marker = f"secretbody{uuid.uuid4().hex}"
    subject = f"{system.namespace}.scheduler.evt.r_dash.review.due"
    await nats_client.jetstream().publish(
        subject, f"not json {marker}".encode(), headers={MSG_ID_HEADER: marker}
    )

    async def figures() -> dict | None:
        summary = (await http.get("/ops/summary", headers=OPS)).json()
        ready = summary["dead_letter_groups"] and summary["consumer_lag"]
        return summary if ready and summary["http"]["routes"] else None

    summary = await eventually(figures, timeout=40)
    assert set(summary["outbox_pending"]) == {"gateway", "checkin", "scheduler", "insights"}
    assert all(isinstance(n, int) for n in summary["outbox_pending"].values())
    assert all("p99_seconds" in r and "{" not in r["method"] for r in summary["http"]["routes"])

    dom = await asyncio.to_thread(render, chromium, f"{system.api}/ops?token={TOKEN}")
    assert 'data-loaded="true"' in dom, dom[:2000]
    for section in ("lag-section", "dead-letter-groups", "outbox", "routes"):
        assert f'id="{section}"' in dom
    assert 'id="lag-chart"' in dom and 'data-consumers="0"' not in dom
    assert 'class="redrive"' in dom and "review.due" in dom
    assert marker not in dom and "r_dash" not in dom  # no body, no relationship id
