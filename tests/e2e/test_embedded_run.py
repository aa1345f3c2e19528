"""`make run`'s launcher: starts from nothing, turns ready, stops leaving no process, keeps data."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nats
import pytest
from pymongo import MongoClient

from deploy.processes import PROJECT_ROOT, free_port
from shared.subjects import inbox_prefix


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def start_launcher(
    data_dir: Path, port: int, *options: str
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    # Ports of our own for the servers too: a second test run beside this one (or `make run`)
    # may hold the usual ones, and two launchers must never race for the same free port.
    servers = ["--nats-port", str(free_port()), "--mongo-port", str(free_port())]
    argv = ["--data-dir", str(data_dir), "--port", str(port), *servers, *options]
    launcher = subprocess.Popen(
        [sys.executable, "-m", "deploy.embedded", *argv],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert launcher.stdout is not None
    output: list[str] = []
    for line in launcher.stdout:
        output.append(line)
        if "Press Ctrl-C" in line:
            break
    text = "".join(output)
    assert "Attune is running." in text, text
    names = r"app|API|docs|NATS|MongoDB \(SecantusDB\)"
    where = dict(re.findall(rf"^\s+({names}):\s+(\S+)", text, re.M))
    return launcher, where


def stop_launcher(launcher: subprocess.Popen[str]) -> set[int]:
    children = children_of(launcher.pid)
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=60) == 0
    return children


@pytest.mark.slow
def test_make_run_starts_from_nothing_turns_ready_stops_cleanly_and_keeps_data(tmp_path):
    data_dir = tmp_path / "run"
    port = free_port()
    launcher, where = start_launcher(data_dir, port)
    try:
        with urllib.request.urlopen(f"{where['API']}/readyz", timeout=5) as response:  # noqa: S310
            assert response.status == 200
        with urllib.request.urlopen(where["docs"], timeout=5) as response:  # noqa: S310
            assert response.status == 200
        with urllib.request.urlopen(where["app"], timeout=5) as response:  # noqa: S310
            assert response.status == 200 and b"Attune" in response.read()
        with MongoClient(where["MongoDB (SecantusDB)"]) as client:
            client.smoke.notes.insert_one({"_id": "kept", "at": time.time()})
    finally:
        children = stop_launcher(launcher)
    assert len(children) == 6  # nats-server, SecantusDB and four services
    assert not [pid for pid in children if alive(pid)]

    launcher, where = start_launcher(data_dir, port)
    try:
        with MongoClient(where["MongoDB (SecantusDB)"]) as client:
            assert client.smoke.notes.find_one({"_id": "kept"}) is not None
    finally:
        children = stop_launcher(launcher)
    assert not [pid for pid in children if alive(pid)]


@pytest.mark.slow
@pytest.mark.parametrize("service", ["checkin", "scheduler", "insights", "gateway"])
def test_each_service_stops_cleanly_on_sigterm(service, servers, namespace, tmp_path):
    from deploy.embedded import start_service, wait_ready

    env = {
        "ATTUNE_NATS_URL": servers.nats_url,
        "ATTUNE_MONGO_URL": servers.mongo_url,
        "ATTUNE_NAMESPACE": namespace,
    }
    port = free_port()
    process = start_service(service, env, port, tmp_path / f"{service}.log")
    try:
        # Alone, a service is live but (for the gateway) not ready; liveness is what we need.
        wait_ready(f"http://127.0.0.1:{port}/healthz", [process], timeout=60)
    finally:
        process.signal(signal.SIGTERM)
        code = process.process.wait(timeout=30) if process.process else None
    log = (tmp_path / f"{service}.log").read_text()
    # uvicorn finishes its graceful shutdown, then re-raises SIGTERM so the exit status
    # tells a supervisor why it stopped; the log shows the shutdown ran to the end.
    assert code in (0, -signal.SIGTERM), log
    assert '"event": "service_stopped"' in log
    assert '"level": "error"' not in log


@pytest.mark.slow
def test_make_run_cluster_3_runs_every_stream_on_three_nodes_and_stops_cleanly(tmp_path):
    data_dir = tmp_path / "run"
    launcher, where = start_launcher(data_dir, free_port(), "--cluster", "3")
    try:
        with urllib.request.urlopen(f"{where['API']}/readyz", timeout=5) as response:  # noqa: S310
            assert response.status == 200
        urls = where["NATS"].split(",")
        assert len(urls) == 3, where
        password = json.loads((data_dir / "nats-users.json").read_text())["checkin"]
        first = urls[0].replace("nats://", f"nats://checkin:{password}@")
        groups = asyncio.run(stream_groups(first, ["ATTUNE_CHECKIN", "ATTUNE_GATEWAY"]))
        for name, (replicas, peers) in groups.items():
            assert replicas == 3, (name, replicas)
            assert len(peers) == 3, (name, peers)  # a leader and two followers, one per node
    finally:
        children = stop_launcher(launcher)
    assert len(children) == 8  # three nats-servers, SecantusDB and four services
    assert not [pid for pid in children if alive(pid)]


async def stream_groups(url: str, streams: list[str]) -> dict[str, tuple[int, set[str]]]:
    """Each stream's configured replicas and the nodes holding it."""
    # As the checkin user, whose replies arrive only under its own inbox prefix.
    connection = await nats.connect(url, inbox_prefix=inbox_prefix("attune", "checkin"))
    try:
        found = {}
        for stream in streams:
            info = await connection.jetstream().stream_info(stream)
            group = info.cluster
            assert group is not None and group.leader, (stream, group)
            peers = {group.leader, *(str(r.name) for r in group.replicas or [])}
            found[stream] = (info.config.num_replicas or 0, peers)
        return found
    finally:
        await connection.close()
