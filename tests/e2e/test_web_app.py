"""The reference web app in a real headless Chromium: two members live the journey in two
browser contexts, each screen passes axe-core, and an offline check-in is sent exactly once.

Screenshots and the accessibility table go to $ATTUNE_SCREENSHOTS when it is set
(`ATTUNE_SCREENSHOTS=docs/screenshots pytest tests/e2e/test_web_app.py` refreshes the README's).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect
# Sign-up hashes a password and the machine may be busy: wait for outcomes, generously.
expect.set_options(timeout=20_000)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
AXE = Path(__file__).resolve().parents[1] / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ["ATTUNE_SCREENSHOTS"]) if os.environ.get("ATTUNE_SCREENSHOTS") else None
PHONE = {"width": 360, "height": 740}
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SHARED_NOTE = "we laughed at dinner"
PRIVATE_NOTE = "a private worry I keep to myself"
PASSWORD = "a long enough phrase"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")

ACCESSIBILITY: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()
    if SHOTS is not None and ACCESSIBILITY:
        SHOTS.mkdir(parents=True, exist_ok=True)
        lines = ["| screen | serious or critical | moderate or minor |", "|---|---|---|"]
        for screen, found in ACCESSIBILITY.items():
            bad = [v["id"] for v in found if v["impact"] in ("serious", "critical")]
            rest = [v["id"] for v in found if v["impact"] not in ("serious", "critical")]
            lines.append(f"| {screen} | {', '.join(bad) or 'none'} | {', '.join(rest) or 'none'} |")
        (SHOTS / "accessibility.md").write_text("\n".join(lines) + "\n")


class Member:
    """One person's browser context at phone size, with axe-core ready in every page."""

    def __init__(self, context: Any, page: Any, api: str) -> None:
        self.context, self.page, self.api = context, page, api
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    @classmethod
    async def open(cls, browser: Any, api: str) -> Member:
        context = await browser.new_context(viewport=PHONE, accept_downloads=True)
        if AXE.is_file():
            # Injected through the DevTools protocol, so the page's own CSP stays strict.
            await context.add_init_script(path=str(AXE))
        page = await context.new_page()
        return cls(context, page, api)

    async def go(self, screen: str) -> None:
        await self.page.goto(f"{self.api}/app/#/{screen}")
        # Only the hash changes: wait for this screen, not the one still showing.
        await expect(self.page.locator(f'main[data-screen="{screen}"] h1')).to_be_visible()

    async def screen(self, name: str, shot: str | None = None) -> None:
        """Check the screen with axe-core (no serious or critical violation) and that it fits
        a 360 px phone without sideways scrolling."""
        wide = await self.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], (name, wide)
        if AXE.is_file():
            found = await self.page.evaluate(
                """async () => (await axe.run(document, {resultTypes: ['violations']}))
                .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.map(n => n.target.join(' '))}))"""
            )
            ACCESSIBILITY[name] = found
            serious = [v for v in found if v["impact"] in ("serious", "critical")]
            assert not serious, (name, serious)
        if SHOTS is not None and shot is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            await self.page.evaluate("window.scrollTo(0, 0)")
            await self.page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=False)

    async def token(self) -> str:
        return str(
            await self.page.evaluate("JSON.parse(localStorage.getItem('attune.session')).token")
        )

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "pageerror" in e]


async def sign_up(member: Member, name: str, email: str) -> None:
    form = member.page.locator("form[data-form=signup]")
    await form.get_by_label("Your name").fill(name)
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Create my account").click()


async def check_in(member: Member, mood: str, note: str, shared: bool) -> None:
    page = member.page
    await member.go("today")
    form = page.locator("form[data-form=checkin]")
    await form.get_by_label(mood, exact=True).check()
    await form.get_by_label("How connected do you feel?").fill("7")
    await form.get_by_label("Heard").check()
    await form.get_by_label("A note").fill(note)
    if shared:
        await form.get_by_label("Shared with", exact=False).check()
        await form.get_by_role("button", name="Share with").click()
    else:
        await form.get_by_role("button", name="Save privately").click()
    await expect(page.locator("#status")).to_contain_text("Check-in")
    # Whatever was chosen last time, the next check-in starts private again.
    await expect(form.get_by_label("Only me (private)")).to_be_checked()


async def test_the_app_is_served_with_a_self_only_policy_and_revalidated(http: httpx.AsyncClient):
    page = await http.get("/app/")
    assert page.status_code == 200 and "Attune" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy
    assert page.headers["cache-control"] == "no-cache" and page.headers["etag"]
    assert page.headers["x-content-type-options"] == "nosniff"
    again = await http.get("/app/", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304
    script = await http.get("/app/js/main.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "content-security-policy" in script.headers
    bare = await http.get("/app")
    assert bare.status_code in (307, 308) and bare.headers["location"].endswith("/app/")
    assert (await http.get("/app/js/nothing-here.js")).status_code == 404


async def test_two_members_live_the_journey_in_the_browser(browser, system, http):
    if not AXE.is_file():  # the journey is also the accessibility check: never pass without it
        pytest.skip("axe-core is not installed (make test runs npm ci in tests/browser)")
    tag = uuid.uuid4().hex[:8]
    sam = await Member.open(browser, system.api)
    kim = await Member.open(browser, system.api)

    # Sign up; a refused field is explained beside that field, in a sentence.
    await sam.page.goto(f"{system.api}/app/")
    await sam.screen("welcome", "01-welcome")
    form = sam.page.locator("form[data-form=signup]")
    await form.get_by_label("Your name").fill("Sam")
    await form.get_by_label("Email").fill(f"sam-{tag}@example.org")
    await form.get_by_label("Password").fill("short")
    await form.get_by_role("button", name="Create my account").click()
    password_error = form.locator('[data-error-for="password"]')
    await expect(password_error).to_contain_text("10")
    assert (await password_error.inner_text()).strip().endswith(".")
    assert await form.get_by_label("Password").get_attribute("aria-invalid") == "true"
    await sign_up(sam, "Sam", f"sam-{tag}@example.org")

    # Start a relationship and invite by code and link.
    await expect(sam.page.get_by_role("heading", name="Start together")).to_be_visible()
    await sam.page.locator("form[data-form=start]").get_by_role("button", name="Start").click()
    await sam.page.get_by_role("button", name="Create an invite").click()
    await expect(sam.page.locator("#invite-code")).not_to_be_empty()
    link = await sam.page.locator("#invite-link").input_value()
    await sam.screen("relationship and invite", "02-invite")

    await kim.page.goto(link)
    await expect(kim.page.get_by_text("You have an invitation")).to_be_visible()
    await sign_up(kim, "Kim", f"sam-{tag}@example.org")
    email_error = kim.page.locator('form[data-form=signup] [data-error-for="email"]')
    await expect(email_error).to_contain_text("log in instead")
    await sign_up(kim, "Kim", f"kim-{tag}@example.org")
    await expect(kim.page.get_by_role("heading", name="Join your partner")).to_be_visible()
    await kim.page.locator("form[data-form=join]").get_by_role("button", name="Join").click()
    await expect(kim.page.get_by_role("heading", name="Hello, Kim")).to_be_visible()

    # Sam's app learns from the stream that Kim joined.
    await sam.go("us")
    await expect(sam.page.locator("#members")).to_contain_text("Kim")

    # Kim watches the timeline; Sam's shared check-in appears there live, the private never.
    await kim.go("timeline")
    await kim.page.evaluate("window.stillTheSamePage = true")
    await check_in(sam, "Good", SHARED_NOTE, shared=True)
    await sam.screen("today", "03-today")
    await reachable_by_keyboard(
        sam, ["mood", "connection", "needs", "note", "visibility", "submit"]
    )
    await expect(kim.page.locator("#timeline")).to_contain_text(SHARED_NOTE, timeout=15000)
    assert await kim.page.evaluate("window.stillTheSamePage === true")
    await check_in(sam, "Low", PRIVATE_NOTE, shared=False)

    # A bid, answered by its target; it too reaches Kim's timeline after the private check-in.
    await sam.go("bids")
    bid = sam.page.locator("form[data-form=bid]")
    await bid.get_by_label("Kind of bid").select_option("humor")
    await bid.get_by_role("button", name="Record the bid").click()
    await expect(sam.page.locator("#status")).to_contain_text("Bid recorded")
    await expect(kim.page.locator("#timeline")).to_contain_text("Humor", timeout=15000)
    assert PRIVATE_NOTE not in await kim.page.content()
    await kim.screen("timeline", "04-timeline")
    await kim.go("bids")
    await expect(kim.page.locator("#bid-count")).to_have_text("One bid is waiting for you.")
    await kim.screen("bids", "05-bids")
    await kim.page.get_by_role("button", name="Turned toward").click()
    await expect(kim.page.locator("#bid-count")).to_contain_text("all caught up")

    await sam.go("timeline")
    await expect(sam.page.locator("#timeline")).to_contain_text(PRIVATE_NOTE)
    await expect(sam.page.locator("#timeline")).to_contain_text("Private: only you")

    # A boundary Sam proposes becomes active once Kim accepts it.
    await sam.go("boundaries")
    proposal = sam.page.locator("form[data-form=boundary]")
    await proposal.get_by_label("The boundary, in your words").fill("No phones at dinner")
    await proposal.get_by_role("button", name="Propose").click()
    await expect(sam.page.locator("#boundaries")).to_contain_text("No phones at dinner")
    await kim.go("boundaries")
    await kim.page.locator("#boundaries").get_by_role("button", name="Accept").click()
    await expect(kim.page.locator("#boundaries [data-status=active]")).to_have_count(1)
    await kim.screen("boundaries", "06-boundaries")

    # The remaining screens, each checked with axe-core.
    await sam.go("together")
    await sam.screen("touch and time", "07-touch-and-time")
    await sam.go("conflicts")
    await sam.screen("conflicts", "08-conflicts")
    await sam.go("assessment")
    for statement in range(10):
        group = sam.page.locator(f'fieldset[data-group="a{statement}"]')
        await group.get_by_label("Yes" if statement % 3 else "No").check()
    await sam.page.get_by_role("button", name="See my band").click()
    await expect(sam.page.locator("#assessment-result h2")).to_have_text("Room to grow")
    await sam.screen("check-up", "09-check-up")
    await sam.go("rituals")
    ritual = sam.page.locator("form[data-form=ritual]")
    await ritual.get_by_label("What you will do").fill("Walk after dinner")
    await ritual.get_by_role("button", name="Add the ritual").click()
    await expect(sam.page.locator("#rituals")).to_contain_text("Walk after dinner")
    await sam.screen("rituals and schedule", "10-rituals")

    await kim.go("insights")
    await expect(kim.page.get_by_role("heading", name="Health by pillar")).to_be_visible()
    await kim.screen("insights", "11-insights")
    await kim.go("reviews")
    await expect(kim.page.get_by_role("heading", name="Monthly reviews")).to_be_visible()
    await kim.screen("reviews and program", "14-reviews")
    # The trust program: proposed by one, it starts once the other accepts, with its words.
    await kim.page.get_by_role("button", name="Propose the program").click()
    await expect(kim.page.locator("#status")).to_contain_text("Program proposed")
    await sam.go("reviews")
    await sam.page.get_by_role("button", name="Accept the program").click()
    await expect(sam.page.locator("#status")).to_contain_text("You accepted the program")
    await expect(sam.page.locator("main")).to_contain_text("Status: Active")
    await expect(sam.page.locator("main li").first).not_to_be_empty()  # a prompt in words

    # A digital date: proposed by one, accepted by the other, each in their own time.
    await sam.go("dates")
    date = sam.page.locator("form[data-form=date]")
    # A month ahead (dates start within the next two years), 20:00 in the member's zone.
    ahead = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT20:00")
    await date.get_by_label("When").fill(ahead)
    await date.get_by_label("The plan").fill("film night")
    await date.get_by_role("button", name="Propose the date").click()
    await expect(sam.page.locator("#dates")).to_contain_text("film night")
    await sam.screen("dates", "12-dates")
    await kim.go("dates")
    await kim.page.locator("#dates").get_by_role("button", name="Accept").click()
    await expect(kim.page.locator("#status")).to_contain_text("Date accepted")

    await sam.go("settings")
    settings = sam.page.locator("form[data-form=settings]")
    await settings.get_by_label("Daily check-in reminder").fill("20:30")
    await settings.get_by_role("button", name="Save settings").click()
    await expect(sam.page.locator("#status")).to_contain_text("Settings saved")
    me = (await http.get("/v1/me", headers={"Authorization": f"Bearer {await sam.token()}"})).json()
    assert me["checkin_reminder_time"] == "20:30"
    await sam.screen("settings", "13-settings")

    # Kim exports everything about herself, then deletes the account.
    await kim.go("settings")
    async with kim.page.expect_download() as waiting:
        await kim.page.get_by_role("button", name="Download everything about me").click()
    download = await waiting.value
    exported = json.loads(await asyncio.to_thread(Path(await download.path()).read_text))
    assert exported["member"]["email"] == f"kim-{tag}@example.org"
    kim_token = await kim.token()
    await kim.page.get_by_role("button", name="Delete my account").click()
    await expect(kim.page.locator("#status")).to_contain_text("Tick the box")
    await kim.page.get_by_label("I understand").check()
    await kim.page.get_by_role("button", name="Delete my account").click()
    await expect(kim.page.get_by_role("heading", name="Welcome to Attune")).to_be_visible()
    await expect(kim.page.locator("#status")).to_contain_text("erased")
    gone = await http.get("/v1/me", headers={"Authorization": f"Bearer {kim_token}"})
    assert gone.status_code == 401
    assert await kim.page.evaluate("localStorage.getItem('attune.session')") is None

    assert not sam.csp_violations() and not kim.csp_violations(), sam.errors + kim.errors
    await sam.context.close()
    await kim.context.close()


async def test_a_checkin_written_offline_is_sent_once_when_the_connection_returns(
    browser, system, http
):
    tag = uuid.uuid4().hex[:8]
    ana = await Member.open(browser, system.api)
    await ana.page.goto(f"{system.api}/app/")
    await sign_up(ana, "Ana", f"ana-{tag}@example.org")
    await ana.page.locator("form[data-form=start]").get_by_role("button", name="Start").click()
    await expect(ana.page.get_by_role("button", name="Create an invite")).to_be_visible()
    token = await ana.token()
    rid = await ana.page.evaluate("localStorage.getItem('attune.relationship')")

    # The first attempt reaches the server but its answer is lost on the way back; until the
    # test lets them through, the app's own retries are lost too.
    keys: list[str] = []
    released = asyncio.Event()

    async def lose_first_answer(route: Any) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            await route.fetch()
            await route.abort("internetdisconnected")
        elif not released.is_set():
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    await ana.page.route("**/checkins", lose_first_answer)
    await check_in_expecting_queue(ana, "answer lost on the way")
    await expect(ana.page.locator("#connection")).to_be_visible()
    released.set()
    await ana.page.get_by_role("button", name="Try again").click()
    await expect(ana.page.locator("#status")).to_contain_text("was sent", timeout=15000)
    assert len(keys) >= 2 and len(set(keys)) == 1

    # Written with no connection at all: kept on the device, sent once when it returns.
    await ana.context.set_offline(True)
    await check_in_expecting_queue(ana, "written on the train")
    await expect(ana.page.locator("#kept")).to_contain_text("kept on this device")
    await ana.context.set_offline(False)
    await expect(ana.page.locator("#status")).to_contain_text("was sent", timeout=20000)
    await ana.page.reload()
    await expect(ana.page.locator("main h1")).to_be_visible()

    headers = {"Authorization": f"Bearer {token}"}
    entries = (await http.get(f"/v1/relationships/{rid}/timeline", headers=headers)).json()[
        "entries"
    ]
    notes = sorted(e.get("note") for e in entries if e["entry_type"] == "checkin")
    assert notes == ["answer lost on the way", "written on the train"]
    # Every attempt at the same check-in carried its one key; the server kept one of each.
    assert len(set(keys)) == 2 and len(keys) >= 3
    assert (
        await ana.page.evaluate(
            f"localStorage.getItem('attune.outbox.' + {json.dumps(entries[0]['author_id'])})"
        )
        == "[]"
    )
    await ana.context.close()


async def reachable_by_keyboard(member: Member, names: list[str]) -> None:
    """Tab through the page: every named control (and the submit button) takes the focus."""
    await member.page.locator("body").focus()
    seen: set[str] = set()
    for _ in range(60):
        await member.page.keyboard.press("Tab")
        seen.add(
            await member.page.evaluate(
                "document.activeElement.name || document.activeElement.type || ''"
            )
        )
    assert set(names) <= seen, seen


async def check_in_expecting_queue(member: Member, note: str) -> None:
    page = member.page
    await member.go("today")
    form = page.locator("form[data-form=checkin]")
    await form.get_by_label("Okay", exact=True).check()
    await form.get_by_label("A note").fill(note)
    await form.get_by_role("button", name="Save privately").click()
    await expect(page.locator("#status")).to_contain_text("kept on this device")
