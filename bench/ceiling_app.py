"""The ingest ceiling: a bare FastAPI endpoint that does one NATS request/reply to a trivial
responder living in the same process. Run by bench/ingest.py; not part of Attune."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from fastapi import FastAPI
from nats.aio.msg import Msg

SUBJECT = "bench.ceiling.echo"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    connection = await nats.connect(os.environ["BENCH_NATS_URL"])

    async def echo(msg: Msg) -> None:
        await msg.respond(msg.data)

    await connection.subscribe(SUBJECT, cb=echo)
    app.state.nats = connection
    yield
    await connection.close()


app = FastAPI(lifespan=lifespan)


@app.post("/echo", status_code=201)
async def echo(body: dict[str, object]) -> dict[str, object]:
    reply = await app.state.nats.request(SUBJECT, b"{}", timeout=5)
    return {"ok": bool(reply), **body}
