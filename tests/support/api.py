"""A member of Attune as an app would be: HTTP with a bearer token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Person:
    http: httpx.AsyncClient
    id: str
    token: str
    email: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    async def post(
        self, path: str, json: Any = None, key: str | None = None, **kw: Any
    ) -> httpx.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        if key:
            headers["Idempotency-Key"] = key
        return await self.http.post(path, json=json, headers=headers, **kw)

    async def delete(self, path: str) -> httpx.Response:
        return await self.http.delete(path, headers=self.headers)

    async def ok(self, method: str, path: str, json: Any = None, status: int | None = None) -> Any:
        response = await self.http.request(method, path, json=json, headers=self.headers)
        expected = status or (201 if method == "POST" else 200)
        assert response.status_code == expected, (method, path, response.status_code, response.text)
        return response.json() if response.content else None


async def sign_up(http: httpx.AsyncClient, name: str, timezone: str = "Europe/Berlin") -> Person:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.org"
    response = await http.post(
        "/v1/auth/signup",
        json={"email": email, "password": "a long enough secret", "display_name": name,
              "timezone": timezone},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    return Person(http, body["member"]["id"], body["access_token"], email)


async def couple(http: httpx.AsyncClient, *names: str) -> tuple[str, list[Person]]:
    """The first person creates a relationship; the others join with invites."""
    people = [await sign_up(http, name) for name in names]
    relationship = await people[0].ok("POST", "/v1/relationships", {"name": "us"})
    for person in people[1:]:
        invite = await people[0].ok("POST", f"/v1/relationships/{relationship['id']}/invites")
        await person.ok("POST", f"/v1/invites/{invite['code']}/accept", status=200)
    return relationship["id"], people
