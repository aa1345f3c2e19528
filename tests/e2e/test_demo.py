"""`make run DEMO=1` seeds a demo relationship once."""

from __future__ import annotations

import asyncio

from deploy.demo import PASSWORD, PEOPLE, seed


async def test_the_demo_seeds_three_weeks_once_and_members_can_log_in(http, system):
    first = await asyncio.to_thread(seed, system.api)
    again = await asyncio.to_thread(seed, system.api)
    assert first["seeded"] is True
    assert again == {"relationship": first["relationship"], "seeded": False}
    token = await http.post("/v1/auth/token", json={"email": PEOPLE[1][0], "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    timeline = await http.get(
        f"/v1/relationships/{first['relationship']}/timeline?limit=200", headers=headers
    )
    kinds = {e["entry_type"] for e in timeline.json()["entries"]}
    assert {"checkin", "bid", "touch", "ritual", "boundary"} <= kinds
    assert len(timeline.json()["entries"]) > 60
