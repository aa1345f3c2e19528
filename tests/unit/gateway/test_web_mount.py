"""The web app's mount: served with its policy when its files exist, absent otherwise."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from services.gateway import web


def client_of(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


async def test_the_app_is_served_with_a_self_only_policy_and_no_blind_caching(
    tmp_path: Path,
) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>Attune</title>")
    app = FastAPI()
    web.mount(app, tmp_path)
    client = client_of(app)
    page = await client.get("/app/")
    assert page.status_code == 200 and "Attune" in page.text
    assert page.headers["content-security-policy"] == web.POLICY
    assert "'unsafe-inline'" not in web.POLICY and "connect-src 'self'" in web.POLICY
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert (await client.get("/app/missing.js")).status_code == 404
    moved = await client.get("/app", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/app/"


async def test_a_deployment_without_the_apps_files_serves_no_app(tmp_path: Path) -> None:
    app = FastAPI()
    web.mount(app, tmp_path)
    assert (await client_of(app).get("/app/")).status_code == 404


def test_the_repository_holds_the_app() -> None:
    assert (web.REPOSITORY_WEB / "index.html").is_file()
    assert (web.REPOSITORY_WEB / "js" / "main.js").is_file()
