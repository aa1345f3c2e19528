"""The whole system as real processes (four services) against given servers, for HTTP tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.embedded import SERVICES, ManagedProcess, free_port, start_service, wait_ready


@dataclass
class System:
    api: str
    namespace: str
    processes: dict[str, ManagedProcess]
    logs: Path


@contextmanager
def running_system(
    nats_url: str, mongo_url: str, namespace: str, logs: Path, **settings: str
) -> Iterator[System]:
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
    with ExitStack() as stack:
        processes: dict[str, ManagedProcess] = {}
        gateway_port = free_port()
        for service in SERVICES:
            port = gateway_port if service == "gateway" else free_port()
            process = start_service(service, env, port, logs / f"{service}.log")
            stack.callback(process.stop)
            processes[service] = process
        api = f"http://127.0.0.1:{gateway_port}"
        wait_ready(f"{api}/readyz", list(processes.values()), timeout=60)
        yield System(api=api, namespace=namespace, processes=processes, logs=logs)
