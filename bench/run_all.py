"""`make bench`: run every benchmark, show its output, then one table of the results.

Each benchmark runs as its own process (its own private servers and services), one after
another so they do not compete for the machine. The table comes from the lines each
script ends with (see bench/report.py); a failed or silent script shows as such and
makes the whole run fail after the table is printed.

    python -m bench.run_all [name ...]   # all, or only the named ones (e.g. pipeline)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.goals import goal_table
from bench.report import BASELINE, FIGURE, GOAL, MEMORY, RATIO, markdown

BENCH_DIR = Path(__file__).resolve().parent
BENCHMARKS = {
    "ingest": "Ingest",
    "pipeline": "Pipeline",
    "end_to_end": "End to end",
    "outbox_relay": "Outbox relay",
    "insights_history": "Insights history",
    "scheduler_tick": "Scheduler tick",
    "cluster_ingest": "Ingest, 3-node cluster R3",
    "cluster_pipeline": "Pipeline, 3-node cluster R3",
    "db_ops": "Database operations",
    "fault": "Fault (checkin SIGKILL)",
    "statements": "SecantusDB statements",
}
TIMEOUT_SECONDS = 400.0  # per benchmark: a hung one must not hang `make bench`


@dataclass
class Result:
    title: str
    seconds: float = 0.0
    exit_code: int | None = None
    lines: dict[str, str] = field(default_factory=dict)  # prefix -> the rest of its line
    goals: dict[str, float] = field(default_factory=dict)  # `goal <name> <value>` lines
    ratio: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and bool(self.ratio)


def run(name: str) -> Result:
    result = Result(BENCHMARKS[name])
    print(f"== {name}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(BENCH_DIR / f"{name}.py")],
        cwd=BENCH_DIR.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # so a timeout stops its servers and services too
    )
    timer = threading.Timer(TIMEOUT_SECONDS, stop, (process,))
    timer.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            note(result, line.rstrip("\n"))
        result.exit_code = process.wait()
    finally:
        timer.cancel()
    result.seconds = time.monotonic() - started
    if result.exit_code != 0:
        print(f"!! {name} failed (exit {result.exit_code})", flush=True)
    return result


def stop(process: subprocess.Popen[str]) -> None:
    """Interrupt a benchmark that ran too long: SIGINT lets it stop its servers and
    services and remove its files; SIGKILL if it does not end soon after."""
    print(f"!! timed out after {TIMEOUT_SECONDS:.0f} s", flush=True)
    for signum in (signal.SIGINT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        try:
            process.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            continue


def note(result: Result, line: str) -> None:
    for prefix in (FIGURE, BASELINE, MEMORY):
        if line.startswith(prefix):
            result.lines[prefix] = line.removeprefix(prefix).strip()
    if line.startswith(GOAL) and len(parts := line.split()) == 3:
        result.goals[parts[1]] = float(parts[2])
    if line.startswith(RATIO):
        result.ratio = line.removeprefix(RATIO).strip()  # the last one wins


def table(results: list[Result]) -> str:
    rows = [("benchmark", "figure", "baseline", "ratio", "time")]
    for r in results:
        ratio = r.ratio if r.ok else f"FAILED (exit {r.exit_code})"
        rows.append((r.title, r.lines.get(FIGURE, "-"), r.lines.get(BASELINE, "-"), ratio,
                     f"{r.seconds:.0f} s"))  # fmt: skip
        if MEMORY in r.lines:  # resident size of each service, from the ingest run
            rows.append((f"Memory ({r.title.lower()})", r.lines[MEMORY], "-", "-", "-"))
    return markdown(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks and print a table.")
    parser.add_argument("names", nargs="*", metavar="name", help=", ".join(BENCHMARKS))
    names = parser.parse_args().names or list(BENCHMARKS)
    if unknown := set(names) - set(BENCHMARKS):
        parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
    started = time.monotonic()
    results = [run(name) for name in names]
    print(f"\n{table(results)}")
    if goals := goal_table({k: v for r in results if r.ok for k, v in r.goals.items()}):
        print(f"\nThe write path's goals (issue 18), from this run:\n\n{goals}")
    print(f"\n{len(results)} benchmarks in {time.monotonic() - started:.0f} s")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
