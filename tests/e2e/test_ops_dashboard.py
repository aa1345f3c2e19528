"""The dashboard at 3 a.m.: event rates, consumer lag over time, the slowest routes, outbox depth
and the dead-letter groups with a redrive button - rendered by headless Chromium, counts only.

With $ATTUNE_SCREENSHOTS set, the rendered page is also saved there as ops-dashboard.png
(`ATTUNE_SCREENSHOTS=docs/screenshots pytest tests/e2e/test_ops_dashboard.py` refreshes the
one in docs/).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from nats.aio.client import Client

from shared.nats import MSG_ID_HEADER
from tests.support.api import couple
from tests.support.system import System
from tests.support.waiting import eventually

TOKEN = "ops-test-token"  # the e2e system's operator token (tests/e2e/conftest.py)
OPS = {"Authorization": f"Bearer {TOKEN}"}
SHOTS = Path(os.environ["ATTUNE_SCREENSHOTS"]) if os.environ.get("ATTUNE_SCREENSHOTS") else None


def render(chromium: str, url: str, *output: str) -> str:
    """The page after its scripts ran: its DOM by default, or what `output` asks for."""
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
             *(output or ["--dump-dom"]), url],
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

    # A few check-ins, so the event figures have something to show (and the screenshot too).
    relationship, people = await couple(http, "Dana", "Eli")
    for i in range(4):
        await people[i % 2].ok("POST", f"/v1/relationships/{relationship}/checkins",
                               {"mood": 4, "connection": 7, "visibility": "shared"})  # fmt: skip

    async def figures() -> dict | None:
        summary = (await http.get("/ops/summary", headers=OPS)).json()
        ready = summary["dead_letter_groups"] and summary["consumer_lag"]
        counted = summary["events"]["per_minute_by_type"].get("checkin.logged")
        return summary if ready and counted and summary["http"]["routes"] else None

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
    assert "checkin.logged" in dom  # the events by type
    assert marker not in dom and "r_dash" not in dom  # no body, no relationship id

    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / "ops-dashboard.png"
        shot.unlink(missing_ok=True)
        await asyncio.to_thread(
            render, chromium, f"{system.api}/ops?token={TOKEN}",
            f"--screenshot={shot.resolve()}", "--window-size=1300,1900", "--hide-scrollbars",
        )  # fmt: skip
        assert shot.exists() and shot.stat().st_size > 0
