"""One relationship's `GET .../insights`, as each member sees it, before and after issue 16.

One fixed history goes through the insights service's own pure functions (what each event
contributes, the view, the evaluation, what the query composes) into an in-memory copy of
the aggregates: no NATS, no MongoDB. The history replays the issue's cases:

- r1: ana (Los Angeles) and ben (Berlin; he created it). Four weekly walks, each marked
  missed by the scheduler and then recorded as done by ana a day late. One argument with
  sarcasm, logged by ana, and by ben as his perspective on it (before the issue there was
  no perspective, so he logged it as a conflict of his own). Two bids a day for two weeks,
  all turned toward. Ben's shared check-in every morning with a 0.14-point dip in
  connection this week; one check-in in each week also scores the pillars. Ana's private
  check-ins at 09:00, 17:00 and 17:00 on three days in a row in Los Angeles (after UTC
  midnight, the last two).
- r2: cy and dee, whose twenty bids 31 to 50 days ago were all turned away, and nothing
  since (the 30-day window of `bids_turned_away`).

Usage (from the repository's root):

    .venv/bin/python tools/insights_before_after.py > after.json
    git archive 1a816c8 | tar -x -C /tmp/attune-before   # the tree before issue 16
    PYTHONPATH=/tmp/attune-before .venv/bin/python tools/insights_before_after.py --before \\
        > before.json

`--trim` prints only each member's flags (code, severity, basis, evidence), health and
strengths. Everything is evaluated once, at NOW, from no earlier state, so every flag's
`raised_at` and the health's `as_of` are NOW.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 07:00 in Berlin, 22:00 on the 26th in LA

Store = dict[str, dict[str, dict[str, Any]]]


@dataclass
class Relationship:
    id: str
    created_by: str
    joined: dict[str, int]  # member -> the membership version of their joining
    zones: dict[str, str]
    events: list[Any] = field(default_factory=list)  # DecodedEvent, of whichever tree

    @property
    def members(self) -> list[str]:
        return sorted(self.joined)


# -- the history ---------------------------------------------------------------------------


def history(before: bool) -> list[Relationship]:
    """The events, built from the message models of the tree on the path."""
    from shared.envelope import Visibility
    from shared.messages.base import DecodedEvent, new_event
    from shared.messages.checkin import (
        BidAnswered,
        BidMade,
        CheckinLogged,
        ConflictLogged,
        PillarScores,
        RitualCompleted,
    )
    from shared.messages.scheduler import RitualMissed

    r1 = Relationship("r1", "ben", {"ben": 1, "ana": 2},
                      {"ana": "America/Los_Angeles", "ben": "Europe/Berlin"})  # fmt: skip
    r2 = Relationship("r2", "cy", {"cy": 1, "dee": 2},
                      {"cy": "Europe/London", "dee": "Europe/London"})  # fmt: skip

    def add(rel: Relationship, data: Any, actor: str | None, shared: bool = True) -> None:
        seen = Visibility.SHARED if shared else Visibility.PRIVATE
        moment = getattr(data, "occurred_at", None) or getattr(data, "occurrence", None) or NOW
        envelope = new_event(data, relationship_id=rel.id, actor_id=actor, visibility=seen,
                             time=moment)  # fmt: skip
        rel.events.append(DecodedEvent(envelope, data))

    for week in range(4):  # the walk is marked missed, then recorded as done a day late
        walk = datetime(2026, 11, 24, 17, 0, tzinfo=UTC) - timedelta(weeks=week)
        add(r1, RitualMissed(ritual_id="walk", occurrence=walk), None)
        add(r1, RitualCompleted(ritual_id="walk", occurrence=walk, member_id="ana",
                                occurred_at=walk + timedelta(days=1)), "ana")  # fmt: skip

    fight = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # one argument, both noted sarcasm
    add(r1, ConflictLogged(conflict_id="c1", author_id="ana", topic="the holidays", intensity=3,
                           sarcasm_or_contempt=True, occurred_at=fight), "ana")  # fmt: skip
    later = fight + timedelta(hours=5)
    # fmt: off
    if before:  # no perspective yet: ben could only log the same fight as his own conflict
        add(r1, ConflictLogged(conflict_id="c2", author_id="ben", topic="the holidays",
                               intensity=3, sarcasm_or_contempt=True, occurred_at=later), "ben")
    else:
        from shared.messages.checkin import ConflictPerspectiveAdded

        add(r1, ConflictPerspectiveAdded(
            conflict_id="c1", author_id="ben", intensity=3, sarcasm_or_contempt=True,
            conflict_occurred_at=fight, occurred_at=later,
        ), "ben")

    for ago in range(14):
        day = datetime(2026, 11, 27, tzinfo=UTC) - timedelta(days=ago)
        # Two bids a day, both turned toward: ana's at 17:00 in LA, ben's at 06:45 in Berlin.
        bids = [("ana", "ben", day + timedelta(hours=1)),
                ("ben", "ana", day + timedelta(hours=5, minutes=45))]
        for n, (by, to, at) in enumerate(bids):
            bid = f"bid-{ago}-{n}"
            add(r1, BidMade(bid_id=bid, from_member_id=by, to_member_id=to, kind="humor",
                            channel="in_person", occurred_at=at), by)
            add(r1, BidAnswered(bid_id=bid, from_member_id=by, to_member_id=to, response="toward",
                                made_at=at, occurred_at=at + timedelta(minutes=5)), to)
        # Ben's shared check-in at 06:30 in Berlin; this week's connection is 0.14 lower.
        scores = {3: PillarScores(emotional=2, intellectual=3, physical=2),
                  9: PillarScores(emotional=3, intellectual=3, physical=2)}.get(ago)
        add(r1, CheckinLogged(checkin_id=f"ben-{ago}", author_id="ben", mood=4,
                              connection=6 if ago == 3 else 7, pillars=scores,
                              occurred_at=day + timedelta(hours=5, minutes=30)), "ben")
    # Ana's own check-ins, private: 09:00, 17:00 and 17:00 in Los Angeles, three days running.
    mine = [datetime(2026, 11, 24, 17, 0, tzinfo=UTC), datetime(2026, 11, 26, 1, 0, tzinfo=UTC),
            datetime(2026, 11, 27, 1, 0, tzinfo=UTC)]
    for n, at in enumerate(mine):
        add(r1, CheckinLogged(checkin_id=f"ana-{n}", author_id="ana", mood=4, connection=7,
                              occurred_at=at), "ana", shared=False)

    for ago in range(31, 51):  # r2: twenty bids turned away, a month and more ago
        at, bid = NOW - timedelta(days=ago), f"bid-{ago}"
        add(r2, BidMade(bid_id=bid, from_member_id="cy", to_member_id="dee", kind="attention",
                        channel="message", occurred_at=at), "cy")
        add(r2, BidAnswered(bid_id=bid, from_member_id="cy", to_member_id="dee", response="away",
                            made_at=at, occurred_at=at + timedelta(minutes=10)), "dee")
    # fmt: on
    return [r1, r2]


# -- the aggregates, in memory -------------------------------------------------------------


def apply(store: Store, found: list[Any]) -> None:
    """What the store's update does: setOnInsert, inc, set, min, max, and the sorted push."""
    from services.insights.domain import ANSWER_ORDER, KEEP_ANSWERS

    for c in found:
        doc = store.setdefault(c.collection, {}).setdefault(c.key, {"_id": c.key, **c.on_insert})
        for name, value in c.inc.items():
            doc[name] = doc.get(name, 0) + value
        doc.update(c.set)
        for name, value in c.min.items():
            doc[name] = min(doc.get(name, value), value)
        for name, value in c.max.items():
            doc[name] = max(doc.get(name, value), value)
        for name, entry in c.push.items():
            kept = sorted([*doc.get(name, []), entry], key=lambda e: [e[k] for k in ANSWER_ORDER])
            doc[name] = kept[-KEEP_ANSWERS:]


AGGREGATES = ("days", "member_days", "bids", "assessments", "conflict_reports", "occurrences",
              "rituals")  # fmt: skip


def documents(store: Store, name: str) -> list[dict[str, Any]]:
    return list(store.get(name, {}).values())


# -- today's code --------------------------------------------------------------------------


def after(rel: Relationship) -> dict[str, Any]:
    from services.insights import domain, evaluation, showing
    from services.insights.settings import Rules

    rules = Rules()
    zones = domain.Zones(rel.zones, domain.relationship_zone(
        rel.members, rel.created_by, rel.zones, rel.joined
    ))  # fmt: skip
    store: Store = {}
    for event in rel.events:
        apply(store, domain.contributions(event, zones))
    docs = [documents(store, name) for name in AGGREGATES]
    view = domain.build_view(
        rel.id, NOW, rel.members, store.get("relationships", {}).get(rel.id), docs[0], docs[1],
        docs[2], docs[3], docs[4], docs[5], docs[6], zones,
    )  # fmt: skip
    state, _ = evaluation.evaluate(view, evaluation.State(), rules)
    return {
        member: showing.insights_for(view, state, member, rules, {}, set()).model_dump(mode="json")
        for member in rel.members
    }


# -- the tree before issue 16 (1a816c8), through its own signatures -------------------------


def before(rel: Relationship) -> dict[str, Any]:
    """The old query handler's steps: no zones, four aggregate collections, the old models."""
    domain: Any = importlib.import_module("services.insights.domain")
    evaluation: Any = importlib.import_module("services.insights.evaluation")
    rules: Any = importlib.import_module("services.insights.settings").Rules()
    views: Any = importlib.import_module("shared.messages.views_rpc")
    store: Store = {}
    for event in rel.events:
        apply(store, domain.contributions(event))
    view = domain.build_view(  # it had no conflict reports, occurrences or rituals yet
        rel.id, NOW, rel.members, store.get("relationships", {}).get(rel.id),
        *(documents(store, name) for name in AGGREGATES[:4]),
    )  # fmt: skip
    state, _ = evaluation.evaluate(view, evaluation.State(), rules)
    shown = {}
    for member in rel.members:
        flags = [
            views.Flag(code=f["code"], severity=f["severity"], raised_at=f["raised_at"],
                       evidence=f["evidence"], suggestion=f["suggestion"])
            for f in evaluation.visible_flags(state, member)
        ]  # fmt: skip
        answer = views.Insights(
            flags=flags,
            health=views.Health(**state.health) if state.health else views.Health(),
            strengths=evaluation.strengths(view, member),
            recommendations=[views.Recommendation(**r) for r in
                             evaluation.recommendations(view, state, member, rules)],
        )  # fmt: skip
        shown[member] = answer.model_dump(mode="json")
    return shown


# -- output --------------------------------------------------------------------------------

TEXTS = {"id", "title", "summary", "text", "text_key", "suggestion"}


def trimmed(insights: dict[str, Any]) -> dict[str, Any]:
    """Flags without their texts, health, and strengths by code (with their figures)."""
    keep = ("code", "severity", "basis", "evidence")
    return {
        "flags": [{k: f[k] for k in keep if k in f} for f in insights["flags"]],
        "health": insights["health"],
        "strengths": [{k: v for k, v in s.items() if k not in TEXTS}
                      for s in insights["strengths"]],
    }  # fmt: skip


def dumps(value: Any, inline_from: int, depth: int = 0) -> str:
    """JSON, indented down to `inline_from` levels and on one line below that."""
    if depth >= inline_from or not isinstance(value, dict | list) or not value:
        return json.dumps(value, separators=(", ", ": "))
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, inline_from, depth + 1)}"
                 for k, v in value.items()]  # fmt: skip
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    items = [f"{inner}{dumps(v, inline_from, depth + 1)}" for v in value]
    return "[\n" + ",\n".join(items) + f"\n{pad}]"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--before",
        action="store_true",
        help="run the tree on PYTHONPATH (before issue 16) instead of this one",
    )
    parser.add_argument("--trim", action="store_true", help="flags, health and strengths only")
    args = parser.parse_args(argv)
    if not args.before:
        sys.path.insert(0, str(ROOT))
    import services.insights

    origin = Path(services.insights.__file__).resolve()
    if args.before and origin.is_relative_to(ROOT):
        parser.error("--before needs the old tree first on PYTHONPATH (see the docstring)")
    show: Callable[[Relationship], dict[str, Any]] = before if args.before else after
    out: dict[str, Any] = {"code": "before" if args.before else "after", "now": NOW.isoformat()}
    for rel in history(args.before):
        members = show(rel)
        out[rel.id] = {m: trimmed(i) for m, i in members.items()} if args.trim else members
    # Trimmed: one line per flag, strength and health figure (what docs/insights.md shows).
    print(dumps(out, inline_from=4) if args.trim else json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
