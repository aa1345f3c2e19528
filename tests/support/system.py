"""The whole system as real processes (four services, optionally several replicas each)
against given servers, for HTTP tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from deploy.embedded import SERVICES, start_service, wait_ready
from deploy.processes import ManagedProcess, free_port


@dataclass
class System:
    api: str
    namespace: str
    processes: dict[str, ManagedProcess]
    logs: Path
    ports: dict[str, int] = field(default_factory=dict)  # process name -> HTTP port
    env: dict[str, str] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)  # e.g. its NATS user

    def env_of(self, service: str) -> dict[str, str]:
        return {**self.env, **self.service_env.get(service, {})}

    def kill_and_restart(self, name: str) -> None:
        """SIGKILL one process, then start it again on the same port and wait until live."""
        self.processes[name].kill()
        service, port = name.split("-")[0], self.ports[name]
        process = start_service(service, self.env_of(service), port, self.logs / f"{name}.log")
        self.processes[name] = process
        wait_ready(f"http://127.0.0.1:{port}/healthz", [process], timeout=60)

    def urls(self, service: str) -> list[str]:
        return [f"http://127.0.0.1:{port}" for name, port in sorted(self.ports.items())
                if name.split("-")[0] == service]  # fmt: skip


@contextmanager
def running_system(
    nats_url: str,
    mongo_url: str,
    namespace: str,
    logs: Path,
    replicas: int = 1,
    service_env: dict[str, dict[str, str]] | None = None,
    nats_users: dict[str, str] | None = None,
    **settings: str,
) -> Iterator[System]:
    """`service_env` adds environment per service; `nats_users` (service -> password) runs each
    service as its own NATS user."""
    env = {
        "ATTUNE_NATS_URL": nats_url,
        "ATTUNE_MONGO_URL": mongo_url,
        "ATTUNE_NAMESPACE": namespace,
        "ATTUNE_ENVIRONMENT": "test",
        "ATTUNE_REQUEST_TIMEOUT_SECONDS": "3",
        "ATTUNE_OUTBOX_POLL_SECONDS": "0.1",
        **{f"ATTUNE_{k.upper()}": v for k, v in settings.items()},
    }
    logs.mkdir(parents=True, exist_ok=True)
    own = {service: dict((service_env or {}).get(service, {})) for service in SERVICES}
    if nats_users is not None:
        for service in SERVICES:
            own[service].update(ATTUNE_NATS_USER=service, ATTUNE_NATS_PASSWORD=nats_users[service])
    with ExitStack() as stack:
        processes: dict[str, ManagedProcess] = {}
        ports: dict[str, int] = {}
        for service in SERVICES:
            for replica in range(1, replicas + 1):
                name = service if replicas == 1 else f"{service}-{replica}"
                port = free_port()
                process = start_service(
                    service, {**env, **own.get(service, {})}, port, logs / f"{name}.log"
                )
                stack.callback(process.stop)
                processes[name], ports[name] = process, port
        gateway = "gateway" if replicas == 1 else "gateway-1"
        api = f"http://127.0.0.1:{ports[gateway]}"
        for name, port in ports.items():
            probe = "readyz" if name.startswith("gateway") else "healthz"
            wait_ready(f"http://127.0.0.1:{port}/{probe}", list(processes.values()), timeout=60)
        system = System(api, namespace, processes, logs, ports, env, own)
        try:
            yield system
        finally:
            for process in system.processes.values():  # restarted ones included
                process.stop()
