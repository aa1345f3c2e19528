"""Least privilege on the bus: one NATS user per service, allowed only its own subjects.

Each service may publish its own events and dead letters, create and update only its own
streams, use consumers and acknowledgements, and answer on inboxes; only the gateway may
send commands and queries; each service receives only its own commands and queries.
`nats_config()` renders the nats-server authorization block (passwords inline for the
embedded default, `$ENV` references for deployments).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from shared.subjects import (
    SERVICES,
    dead_letter_stream_name,
    dead_letter_subject,
    owner_events,
    stream_name,
)


def permissions(namespace: str, service: str) -> dict[str, dict[str, list[str]]]:
    own_streams = (stream_name(namespace, service), dead_letter_stream_name(namespace, service))
    publish = [
        owner_events(namespace, service),
        dead_letter_subject(namespace, service),
        *(f"$JS.API.STREAM.{verb}.{name}" for name in own_streams for verb in ("CREATE", "UPDATE")),
        "$JS.API.INFO", "$JS.API.STREAM.INFO.*", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST",
        "$JS.API.CONSUMER.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>",
    ]  # fmt: skip
    if service == "gateway":  # the only door: it alone asks the others
        publish += [f"{namespace}.cmd.>", f"{namespace}.qry.>"]
    subscribe = [
        "_INBOX.>",
        f"{namespace}.cmd.{service}.*",
        f"{namespace}.qry.{service}.*",
    ]
    return {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}}


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
