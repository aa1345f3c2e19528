"""The embedded default: a local nats-server and SecantusDB, then the four services.

`python -m deploy.embedded` (what `make run` calls) keeps its data under
`.run/` in the project, so a second run finds everything the first one wrote.
Ctrl-C (or SIGTERM) stops the services first, then the servers, and leaves no
process behind. The pieces live beside it: deploy/processes.py (child processes and
ports), deploy/servers.py (nats-server, SecantusDB), deploy/local_secrets.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from deploy.local_secrets import local_master_key, local_ops_token
from deploy.nats_auth import write_embedded_config
from deploy.processes import PROJECT_ROOT, ManagedProcess, free_port, preferred_port
from deploy.servers import mongo_url, start_nats, start_secantus

if TYPE_CHECKING:
    from deploy.nats_cluster import NatsCluster

SERVICES = ("checkin", "scheduler", "insights", "gateway")


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


@contextlib.contextmanager
def embedded_system(
    run_dir: Path,
    gateway_port: int = 8000,
    cluster: int = 1,
    nats_port: int = 4222,
    mongo_port: int = 27017,
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
            from deploy.nats_cluster import cluster_passwords, plan_cluster

            # Its own store (nats-cluster/n1..): the single server's streams stay as they were.
            nats_cluster = plan_cluster(
                run_dir / "nats-cluster", namespace, cluster, cluster_passwords(run_dir),
                [preferred_port(nats_port + i) for i in range(cluster)],
            )  # fmt: skip
            nats_url = nats_cluster.start().urls
            passwords = nats_cluster.passwords
        else:
            nats_port = preferred_port(nats_port)
            nats_url = f"nats://127.0.0.1:{nats_port}"
            # Least privilege even on one machine: each service its own NATS user.
            config, passwords = write_embedded_config(
                run_dir, namespace, nats_port, run_dir / "nats"
            )
            started.append(
                start_nats(nats_port, run_dir / "nats", logs / "nats-server.log", config=config)
            )
        mongo_port = preferred_port(mongo_port)
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
    parser.add_argument("--nats-port", type=int, default=4222, help="NATS port (if free)")
    parser.add_argument("--mongo-port", type=int, default=27017, help="SecantusDB port (if free)")
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
        where_to = (args.data_dir, args.port, args.cluster, args.nats_port, args.mongo_port)
        with embedded_system(*where_to) as where:
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
