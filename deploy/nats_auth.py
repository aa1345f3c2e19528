"""Least privilege on the bus: one NATS user per service, allowed only its own subjects.

Each service may publish its own events and dead letters, create, update, read, delete
from and purge only its own streams (erasure), use only its own durable consumers (created,
read, fetched from and acknowledged by name), read dead letters (to redrive its own), receive
replies only on its own inbox prefix, and answer only the requests it got (`allow_responses`).
Only the gateway may send commands and queries, open the live stream's short-lived consumers,
read dead-letter queues headers-only and remove dead letters, and list consumers (for the ops
figures); each service receives only its own commands and queries. `nats_config()` renders the
nats-server authorization block (passwords inline for the embedded default, `$ENV` references
for deployments).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from shared.subjects import (
    CONSUMERS,
    SERVICES,
    access_subject,
    dead_letter_stream_name,
    dead_letter_subject,
    durable_name,
    inbox_prefix,
    owner_events,
    relay_wake_subject,
    stream_name,
)


def consumer_subjects(namespace: str, service: str) -> list[str]:
    """The JetStream API and ack subjects of exactly this service's durable consumers."""
    subjects = []
    for owner, purpose in CONSUMERS[service]:
        stream, durable = stream_name(namespace, owner), durable_name(service, purpose, owner)
        subjects += [
            f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
            f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.>",
            f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
            f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
    return subjects


def permissions(namespace: str, service: str) -> dict[str, Any]:
    own_streams = (stream_name(namespace, service), dead_letter_stream_name(namespace, service))
    publish = [
        owner_events(namespace, service),
        dead_letter_subject(namespace, service),
        relay_wake_subject(namespace, service),
        *(f"$JS.API.STREAM.{verb}.{name}" for name in own_streams for verb in ("CREATE", "UPDATE")),
        # Erasure: each service reads and deletes (or purges) messages on its own streams only.
        *(f"$JS.API.STREAM.{verb}.{name}" for name in own_streams
          for verb in ("MSG.GET", "MSG.DELETE", "PURGE")),
        "$JS.API.INFO", "$JS.API.STREAM.INFO.*", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
        *consumer_subjects(namespace, service),
    ]  # fmt: skip
    dead_letter_streams = [dead_letter_stream_name(namespace, s) for s in SERVICES]
    # An owner reads a dead letter of its own events to redrive it (shared/redrive.py).
    publish += [f"$JS.API.STREAM.MSG.GET.{name}" for name in dead_letter_streams]
    if service != "gateway":
        # Answers go to the gateway's inbox. `allow_responses` covers a reply on the node that
        # carried the request; on a cluster a reply can take another route, so the gateway's
        # inbox is allowed by name (publishing there reads nothing of anyone's).
        publish.append(f"{inbox_prefix(namespace, 'gateway')}.>")
    if service == "gateway":  # the only door: it alone asks the others
        # The ops figures list every stream's consumers (names and counts, no messages).
        publish += [f"{namespace}.cmd.>", f"{namespace}.qry.>", "$JS.FC.>",
                    "$JS.API.CONSUMER.LIST.*"]  # fmt: skip
        # Replicas tell one another which tokens and memberships to forget (core NATS).
        publish.append(access_subject(namespace))
        for owner in SERVICES:  # the live stream's short-lived ordered consumers
            publish.append(f"$JS.API.CONSUMER.CREATE.{stream_name(namespace, owner)}")
        # Operators read dead letters headers-only (a short-lived consumer) and remove them once
        # redriven or judged hopeless (never messages of event streams).
        publish += [f"$JS.API.STREAM.{verb}.{name}" for name in dead_letter_streams
                    for verb in ("MSG.DELETE", "PURGE")]  # fmt: skip
        for name in dead_letter_streams:
            publish += [f"$JS.API.CONSUMER.CREATE.{name}", f"$JS.API.CONSUMER.CREATE.{name}.>",
                        f"$JS.API.CONSUMER.INFO.{name}.*",
                        f"$JS.API.CONSUMER.MSG.NEXT.{name}.*",
                        f"$JS.API.CONSUMER.DELETE.{name}.*"]  # fmt: skip
    subscribe = [
        f"{inbox_prefix(namespace, service)}.>",
        relay_wake_subject(namespace, service),
        f"{namespace}.cmd.{service}.*",
        f"{namespace}.qry.{service}.*",
    ]
    if service == "gateway":
        subscribe.append(access_subject(namespace))
    return {
        "publish": {"allow": publish},
        "subscribe": {"allow": subscribe},
        # Replies go to whoever asked, once each, without any right on their inbox.
        "allow_responses": True,
    }


def new_passwords() -> dict[str, str]:
    return {service: secrets.token_urlsafe(24) for service in SERVICES}


def nats_config(namespace: str, passwords: dict[str, str] | None = None) -> str:
    """The authorization block; with `passwords` None it refers to $<SERVICE>_NATS_PASSWORD."""
    users = []
    for service in SERVICES:
        password = (
            json.dumps(passwords[service]) if passwords else f"${service.upper()}_NATS_PASSWORD"
        )
        perms = json.dumps(permissions(namespace, service), indent=2)
        users.append(f"    {{user: {service}, password: {password}, permissions: {perms}}}")
    return "authorization {\n  users: [\n" + ",\n".join(users) + "\n  ]\n}\n"


def write_embedded_config(
    run_dir: Path, namespace: str, port: int, store: Path
) -> tuple[Path, dict[str, str]]:
    """The embedded default's nats-server config, with passwords made once and kept (0600)."""
    secrets_file = run_dir / "nats-users.json"
    if not secrets_file.exists():
        secrets_file.write_text(json.dumps(new_passwords()))
        secrets_file.chmod(0o600)
    passwords = json.loads(secrets_file.read_text())
    config = run_dir / "nats.conf"
    config.write_text(
        f'listen: "127.0.0.1:{port}"\njetstream {{ store_dir: {json.dumps(str(store))} }}\n'
        + nats_config(namespace, passwords)
    )
    config.chmod(0o600)
    return config, passwords


CLUSTER_HEADER = """\
# NATS for docker-compose: a 3-node JetStream cluster, one user per service with only its
# subjects. Generated by `python -m deploy.nats_auth` (a test keeps it equal); passwords come
# from the environment (CHECKIN_NATS_PASSWORD, ...), never from this file.
server_name: $NATS_SERVER_NAME
port: 4222
http_port: 8222
jetstream {
  store_dir: /data
}
cluster {
  name: attune
  listen: 0.0.0.0:6222
  routes: [nats://nats1:6222, nats://nats2:6222, nats://nats3:6222]
}
"""


def cluster_config(namespace: str = "attune") -> str:
    return CLUSTER_HEADER + nats_config(namespace)


if __name__ == "__main__":
    (Path(__file__).parent / "nats" / "nats.conf").write_text(cluster_config())
