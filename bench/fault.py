"""Fault: the slowest accepted write after the checkin service is SIGKILLed mid-write.

Runs the fault-injection test (tests/e2e/test_fault_injection.py, about two minutes) and
reads its table: `slowest_s` of the `checkin` phase is the time from a write's first
attempt to its acceptance. Also shows the test's lost and duplicate counts. Prints
`ratio slowest/goal 5 s` last; fails when the test fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import conclude, goal  # noqa: E402 - after the path is set

GOAL_SECONDS = 5.0
TEST = "tests/e2e/test_fault_injection.py"


def main() -> int:
    process = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    print(process.stdout[-6000:])
    columns: list[str] = []
    rows: dict[str, list[str]] = {}
    for line in process.stdout.splitlines():
        cells = line.split()
        if cells[:1] == ["phase"] and "slowest_s" in cells:
            columns = cells[1 : cells.index("slowest_s") + 1]  # the counts, not "clean refusals"
        elif columns and cells and cells[0] in ("checkin", "all") and len(cells) > len(columns):
            rows[cells[0]] = cells[1 : len(columns) + 1]
    if process.returncode != 0 or "checkin" not in rows:
        print(process.stderr[-3000:])
        return 1
    checkin = dict(zip(columns, rows["checkin"], strict=True))
    total = dict(zip(columns, rows["all"], strict=True))
    slowest = float(checkin["slowest_s"])
    goal("fault_slowest_s", slowest)
    conclude(
        f"slowest write after checkin SIGKILL {slowest:.1f} s; all phases: "
        f"{total['lost']} lost, {total['duplicates']} duplicates of {total['accepted']}",
        f"goal < {GOAL_SECONDS:.0f} s ({TEST})",
        "slowest/goal",
        slowest / GOAL_SECONDS,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
