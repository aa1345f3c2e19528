"""A JetStream cluster on one machine: several nats-server processes on loopback ports, each
with its own store, routes between all of them, and the embedded default's user per service.

This is the topology a deployment runs (docker-compose.yml, deploy/k8s/) shrunk onto one
host: `make run CLUSTER=3` starts it, and the cluster fault test and benchmark use it to
prove that services ride through a node's death and what three replicas cost.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from deploy.nats_auth import nats_config
from deploy.processes import ManagedProcess, free_port, wait_for_port
from deploy.servers import find_nats_server
from shared.subjects import SERVICES

CLUSTER_NAME = "attune"


@dataclass
class ClusterNode:
    """One nats-server of the cluster; it can be killed and started again on the same store."""

    name: str
    client_port: int
    route_port: int
    monitor_port: int
    base: Path  # its config, store and log live here
    process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    @property
    def route(self) -> str:
        return f"nats://127.0.0.1:{self.route_port}"

    @property
    def config_path(self) -> Path:
        return self.base / "nats.conf"

    def start(self) -> ClusterNode:
        """Start the process and wait until it takes client connections (not for JetStream)."""
        self.process = ManagedProcess(
            f"nats-{self.name}",
            [find_nats_server(), "-c", str(self.config_path)],
            log_path=self.base / "nats-server.log",
        ).start()
        wait_for_port(self.client_port, self.process)
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def kill(self) -> None:
        """SIGKILL: the node vanishes without telling its peers (a crashed machine)."""
        if self.process is not None:
            self.process.kill()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def healthy(self) -> bool:
        """nats-server's own /healthz: JetStream is up and this node is current with the
        cluster (a meta leader is known and its streams are caught up)."""
        url = f"http://127.0.0.1:{self.monitor_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False


def node_config(node: ClusterNode, peers: list[ClusterNode], authorization: str) -> str:
    routes = ", ".join(json.dumps(peer.route) for peer in peers if peer is not node)
    store = json.dumps(str(node.base / "jetstream"))
    return (
        f"server_name: {node.name}\n"
        f'listen: "127.0.0.1:{node.client_port}"\n'
        f'http: "127.0.0.1:{node.monitor_port}"\n'
        f"jetstream {{ store_dir: {store} }}\n"
        f'cluster {{\n  name: {CLUSTER_NAME}\n  listen: "127.0.0.1:{node.route_port}"\n'
        f"  routes: [{routes}]\n}}\n" + authorization
    )


def cluster_passwords(run_dir: Path) -> dict[str, str]:
    """One password per service user, made once and kept beside the data (0600); the same
    file as the single-server embedded default, so switching between the two keeps them."""
    path = run_dir / "nats-users.json"
    if not path.exists():
        path.write_text(json.dumps({s: secrets.token_urlsafe(24) for s in SERVICES}))
        path.chmod(0o600)
    passwords: dict[str, str] = json.loads(path.read_text())
    return passwords


@dataclass
class NatsCluster:
    nodes: list[ClusterNode]
    passwords: dict[str, str]
    namespace: str = "attune"
    _started: bool = field(default=False, repr=False)

    @property
    def urls(self) -> str:
        """Every node, comma-separated: what ATTUNE_NATS_URL holds for a cluster."""
        return ",".join(node.url for node in self.nodes)

    def user_url(self, user: str, node: ClusterNode | None = None) -> str:
        """A URL of a live node with a service user's credentials (none on an open cluster)."""
        target = node or next(n for n in self.nodes if n.alive())
        if not self.passwords:
            return target.url
        return f"nats://{user}:{self.passwords[user]}@127.0.0.1:{target.client_port}"

    def node(self, name: str) -> ClusterNode:
        return next(node for node in self.nodes if node.name == name)

    def write_configs(self) -> None:
        authorization = nats_config(self.namespace, self.passwords) if self.passwords else ""
        for node in self.nodes:
            node.base.mkdir(parents=True, exist_ok=True)
            node.config_path.write_text(node_config(node, self.nodes, authorization))
            node.config_path.chmod(0o600)  # it holds the passwords

    def start(self, timeout: float = 60.0) -> NatsCluster:
        self.write_configs()
        # All at once: a node alone waits for its peers before JetStream elects a meta leader.
        for node in self.nodes:
            node.start()
        self._started = True
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 60.0, nodes: list[ClusterNode] | None = None) -> None:
        """Until every (given) node reports JetStream current; services start only after."""
        wait_until(
            lambda: all(node.healthy() for node in (nodes or self.nodes)),
            timeout,
            f"the JetStream cluster was not healthy within {timeout}s "
            f"(logs under {self.nodes[0].base.parent})",
        )

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def wait_until(check: Callable[[], bool], timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError(message)


def plan_cluster(
    base: Path,
    namespace: str,
    size: int = 3,
    passwords: dict[str, str] | None = None,
    client_ports: list[int] | None = None,
    users: bool = True,
) -> NatsCluster:
    """Nodes n1..n<size> under `base` on free loopback ports (or the given client ports);
    `users` False leaves it open to anyone on loopback (benchmarks, like private_servers)."""
    ports = client_ports or [free_port() for _ in range(size)]
    nodes = [
        ClusterNode(f"n{i + 1}", ports[i], free_port(), free_port(), base / f"n{i + 1}")
        for i in range(size)
    ]
    if not users:
        return NatsCluster(nodes, {}, namespace)
    return NatsCluster(nodes, passwords or cluster_passwords(base), namespace)


@contextlib.contextmanager
def running_cluster(
    base: Path, namespace: str, size: int = 3, users: bool = True
) -> Iterator[NatsCluster]:
    base.mkdir(parents=True, exist_ok=True)
    cluster = plan_cluster(base, namespace, size, users=users)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
