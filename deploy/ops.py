"""Operator commands against a running gateway's /ops API (the same operator token).

    python -m deploy.ops dead-letters list
    python -m deploy.ops dead-letters show insights 12
    python -m deploy.ops dead-letters redrive insights --reason "gave up after 20 deliveries: ..."
    python -m deploy.ops dead-letters redrive insights --reason "..." --event-type bid.made
    python -m deploy.ops dead-letters redrive insights --sequence 12
    python -m deploy.ops dead-letters purge insights [--reason R | --sequence N | --all]

The token comes from ATTUNE_OPS_TOKEN or the embedded default's `.run/ops.token`, never from
the command line (where `ps` would show it). The API is ATTUNE_API_URL or --api.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def operator_token() -> str:
    token = os.environ.get("ATTUNE_OPS_TOKEN")
    if token:
        return token
    local = PROJECT_ROOT / ".run" / "ops.token"
    if local.exists():
        return local.read_text().strip()
    raise SystemExit("Set ATTUNE_OPS_TOKEN (or start the embedded default with `make run`).")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m deploy.ops", description="Operator commands for Attune."
    )
    main.add_argument("--api", default=os.environ.get("ATTUNE_API_URL", "http://127.0.0.1:8000"))
    topics = main.add_subparsers(dest="topic", required=True)
    letters = topics.add_parser("dead-letters", help="inspect, redrive and purge dead letters")
    actions = letters.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="groups by service, reason and event type, with counts")
    show = actions.add_parser("show", help="one dead letter's metadata and reason")
    show.add_argument("service")
    show.add_argument("sequence", type=int)
    redrive = actions.add_parser("redrive", help="publish back onto the original subject")
    redrive.add_argument("service")
    which = redrive.add_mutually_exclusive_group(required=True)
    which.add_argument("--reason")
    which.add_argument("--sequence", type=int)
    redrive.add_argument(
        "--event-type", help="with --reason: only this event type's letters (one listed group)"
    )
    purge = actions.add_parser("purge", help="remove dead letters")
    purge.add_argument("service")
    what = purge.add_mutually_exclusive_group(required=True)
    what.add_argument("--reason")
    what.add_argument("--sequence", type=int)
    what.add_argument("--all", action="store_true")
    return main


def request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any]]:
    """The HTTP call an action stands for: (method, path, keyword arguments)."""
    base = "/ops/dead-letters"
    if args.action == "list":
        return "GET", base, {}
    if args.action == "show":
        return "GET", f"{base}/{args.service}/{args.sequence}", {}
    if args.action == "redrive":
        body: dict[str, Any] = (
            {"reason": args.reason} if args.reason is not None else {"sequence": args.sequence}
        )
        if args.event_type is not None:
            body["event_type"] = args.event_type  # the API refuses it with a sequence
        return "POST", f"{base}/{args.service}/redrive", {"json": body}
    if args.sequence is not None:
        return "DELETE", f"{base}/{args.service}/{args.sequence}", {}
    params = {"all": "true"} if args.all else {"reason": args.reason}
    return "DELETE", f"{base}/{args.service}", {"params": params}


def table(groups: list[dict[str, Any]]) -> str:
    if not groups:
        return "No dead letters."
    lines = [f"{'SERVICE':<10} {'COUNT':>5}  {'LAST SEEN':<25} {'EVENT TYPE':<28} REASON"]
    lines += [f"{g['service']:<10} {g['count']:>5}  {g['last_seen'][:25]:<25} "
              f"{g['event_type']:<28} {g['reason']}" for g in groups]  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    method, path, extra = request(args)
    headers = {"Authorization": f"Bearer {operator_token()}"}
    try:
        response = httpx.request(method, args.api + path, headers=headers, timeout=30, **extra)
    except httpx.HTTPError as exc:
        print(f"Cannot reach {args.api}: {exc}", file=sys.stderr)
        return 2
    body = response.json()
    if response.is_error:
        print(f"{response.status_code}: {body.get('detail', body)}", file=sys.stderr)
        return 1
    print(table(body["groups"]) if args.action == "list" else json.dumps(body, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
