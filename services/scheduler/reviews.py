"""The monthly review: when it may fire, and what the month looked like for the relationship.

Pure rules. The content is built only from shared, relationship-wide happenings the scheduler
logged (a member's private entries and member-only flags never reach this log).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.scheduler.domain import after_quiet_hours

PILLARS = ("emotional", "intellectual", "physical", "overall")
DEFAULT_TIME = "10:00"


def rule(day_of_month: int, at: str) -> str:
    hour, minute = at.split(":")
    return (
        f"FREQ=MONTHLY;BYMONTHDAY={day_of_month};BYHOUR={int(hour)};BYMINUTE={int(minute)};"
        "BYSECOND=0"
    )


def clear_of_everyone(
    instant: datetime, members: list[tuple[str, tuple[str, str] | None]]
) -> datetime:
    """The first moment from `instant` outside every member's quiet hours: each member's quiet
    hours push it to their end, until no one's hold it (bounded, for quiet hours that together
    cover the whole day: then the last push wins)."""
    moment = instant
    for _ in range(4 * max(1, len(members))):
        moved = moment
        for timezone, quiet in members:
            moved = after_quiet_hours(moved, timezone, quiet)
        if moved == moment:
            return moment
        moment = moved
    return moment


def _health(entry: dict[str, Any] | None) -> dict[str, float | None]:
    values = (entry or {}).get("values", {})
    return {pillar: values.get(pillar) for pillar in PILLARS}


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def ritual_tally(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Occurrences kept and skipped, however many members answered for each: one is kept when
    anyone completed it, skipped only when everyone who answered skipped it. (An entry logged
    without its occurrence stands for one occurrence of its own.)"""
    answers: dict[tuple[Any, ...], set[str]] = {}
    for n, e in enumerate(entries):
        if e["kind"] == "ritual_outcome":
            key = (e.get("ref"), e.get("occurrence") or e.get("_id") or n)
            answers.setdefault(key, set()).add(e["outcome"])
    kept = sum(1 for said in answers.values() if "completed" in said)
    return {"kept": kept, "skipped": len(answers) - kept}


def content(health_before: dict[str, Any] | None, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The month as every member may see it: health per pillar at its start and end, flags
    raised and cleared, rituals kept, boundaries agreed, dates had, and the strengths in it."""
    healths = [e for e in entries if e["kind"] == "health"]
    start = _health(health_before or (healths[0] if healths else None))
    end = _health(healths[-1] if healths else health_before)
    raised = [{"code": e["code"], "at": e["at"]} for e in entries if e["kind"] == "flag_raised"]
    cleared = [{"code": e["code"], "at": e["at"]} for e in entries if e["kind"] == "flag_cleared"]
    rituals = ritual_tally(entries)
    boundaries = [{"boundary_id": e["ref"], "kind": e.get("boundary_kind")}
                  for e in entries if e["kind"] == "boundary_agreed"]  # fmt: skip
    dates = [{"date_id": e["ref"], "kind": e.get("date_kind"), "at": e["at"]}
             for e in entries if e["kind"] == "date_happened"]  # fmt: skip
    strengths: list[str] = []
    if rituals["kept"]:
        times = "once" if rituals["kept"] == 1 else f"{rituals['kept']} times"
        strengths.append(f"You kept your rituals together {times} this month.")
    if dates:
        strengths.append(
            f"You made time for {_counted(len(dates), 'digital date', 'digital dates')}."
        )
    if boundaries:
        agreed = _counted(len(boundaries), "boundary", "boundaries")
        strengths.append(f"You agreed on {agreed} together.")
    if cleared:
        strengths.append("Some worries from earlier eased off this month.")
    grown = [p for p in PILLARS[:3] if (start[p] or 0) < (end[p] or 0) and start[p] is not None]
    if grown:
        strengths.append(f"Growing: {', '.join(grown)}.")
    return {
        "health": {"start": start, "end": end},
        "flags_raised": raised,
        "flags_cleared": cleared,
        "rituals": rituals,
        "boundaries_agreed": boundaries,
        "dates_had": dates,
        "strengths": strengths,
    }
