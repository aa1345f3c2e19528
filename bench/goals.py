"""The write path's six goals (issue 18), checked from one `make bench` run.

Benchmarks print `goal <name> <value>` lines (bench/report.py); `make bench` gathers them
and prints this table after its own. The pipeline figure divides insights' events/s by the
ingest benchmark's FastAPI + NATS request/reply ceiling from the same run, so it shows only
when both ran.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from bench.report import markdown


@dataclass(frozen=True)
class Goal:
    figure: str
    before: str  # as measured when the goal was set
    target: float
    holds: Callable[[float, float], bool]  # (measured, target)
    shown: str  # how the target reads, e.g. "<= 8"
    unit: str = ""


GOALS: dict[str, Goal] = {
    "ops_per_checkin": Goal(
        "database operations per accepted shared check-in (all services)", "~32",
        8, operator.le, "<= 8"),
    "ops_idle_per_second": Goal(
        "database operations per second with nothing happening", "~21", 2, operator.le, "<= 2"),
    "ingest_ratio": Goal(
        "ingest: check-ins/s at concurrency 16 / request-reply ceiling", "0.14",
        0.5, operator.ge, ">= 0.5"),
    "pipeline_ratio": Goal(
        "pipeline: insights events/s / that same ceiling's req/s", "0.18",
        2, operator.ge, ">= 2"),
    "webhook_p99_ms": Goal(
        "accepted write -> webhook arrival, p99 at 10 writes/s", "359 ms",
        250, operator.lt, "< 250 ms", " ms"),
    "fault_slowest_s": Goal(
        "slowest accepted write after checkin is SIGKILLed mid-write", "35-38 s",
        5, operator.lt, "< 5 s", " s"),
}  # fmt: skip


def derived(values: dict[str, float]) -> dict[str, float]:
    """The measured figures plus those computed from two benchmarks of the same run."""
    found = dict(values)
    if "pipeline_events_per_second" in found and found.get("ceiling_requests_per_second"):
        found["pipeline_ratio"] = (
            found["pipeline_events_per_second"] / found["ceiling_requests_per_second"]
        )
    return found


def goal_table(values: dict[str, float]) -> str:
    """One row per goal measured in this run: before, goal, now, and whether it holds."""
    measured = derived(values)
    rows = [("figure", "before", "goal", "now", "holds")]
    for name, g in GOALS.items():
        if name not in measured:
            continue
        now = measured[name]
        rows.append((g.figure, g.before, g.shown, f"{now:.3g}{g.unit}",
                     "yes" if g.holds(now, g.target) else "NO"))  # fmt: skip
    return markdown(rows) if len(rows) > 1 else ""
