"""The ops dashboard: behind the operator token, live figures, a chart, and no member content."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile

import pytest

from tests.support.api import couple
from tests.support.waiting import eventually

TOKEN = "ops-test-token"  # the e2e system's operator token (tests/e2e/conftest.py)
SECRET_NOTE = "a note no operator may read"


async def traffic(http) -> tuple[str, list]:
    rid, people = await couple(http, "Opal", "Pim")
    for i in range(3):
        await people[i % 2].ok("POST", f"/v1/relationships/{rid}/checkins",
                               {"mood": 3, "connection": 6, "note": SECRET_NOTE,
                                "visibility": "shared"})  # fmt: skip
    return rid, people


async def test_the_summary_needs_the_operator_token_and_holds_counts_only(http):
    _, people = await traffic(http)
    assert (await http.get("/ops/summary")).status_code == 401
    assert (await http.get("/ops")).status_code == 401
    assert (await http.get("/ops/summary", headers=people[0].headers)).status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def counted() -> dict | None:
        summary = (await http.get("/ops/summary", headers=headers)).json()
        return summary if summary["events"]["per_minute_by_type"].get("checkin.logged") else None

    summary = await eventually(counted, timeout=20)
    assert {s["name"] for s in summary["services"]} == {
        "gateway",
        "checkin",
        "scheduler",
        "insights",
    }
    assert all(s["up"] for s in summary["services"])
    assert sum(p["count"] for p in summary["events"]["last_hour"]) > 0
    assert any(c["name"] == "insights-aggregates-checkin" for s in summary["streams"]
               for c in s["consumers"])  # fmt: skip
    assert summary["http"]["requests"] > 0
    text = str(summary)
    assert SECRET_NOTE not in text and people[0].email not in text and "Opal" not in text


@pytest.mark.slow
async def test_the_dashboard_renders_in_headless_chromium(http, system):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (make test installs it with apt-get)")
    _, people = await traffic(http)
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def counted() -> bool:  # the events have reached the counters the page draws
        summary = (await http.get("/ops/summary", headers=headers)).json()
        return bool(summary["events"]["per_minute_by_type"].get("checkin.logged"))

    await eventually(counted, timeout=20)

    def dump(url: str) -> str:
        with tempfile.TemporaryDirectory() as profile:
            return subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                 "--dump-dom", url],
                capture_output=True, text=True, timeout=90, check=False,
            ).stdout  # fmt: skip

    dom = await asyncio.to_thread(dump, f"{system.api}/ops?token={TOKEN}")
    assert 'data-loaded="true"' in dom, dom[:2000]
    for section in ("services", "http", "webhooks", "dead-letters", "events", "streams"):
        assert f'id="{section}"' in dom
    assert "checkin.logged" in dom and "insights-aggregates-checkin" in dom
    assert 'id="event-chart"' in dom and 'data-points="60"' in dom
    assert SECRET_NOTE not in dom and people[0].email not in dom and "Opal" not in dom
    refused = await asyncio.to_thread(dump, f"{system.api}/ops")
    assert "operator_token_required" in refused
