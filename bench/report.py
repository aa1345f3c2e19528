"""How a benchmark ends its output, so `make bench` (bench/run_all.py) can build its table.

Each script prints whatever helps a reader, then `figure:` (what we measured), `baseline:`
(what we measured it against) and, last, `ratio <name>: X.XX`.
"""

from __future__ import annotations

from collections.abc import Sequence

FIGURE = "figure:"
BASELINE = "baseline:"
MEMORY = "memory:"
RATIO = "ratio "
GOAL = "goal "  # `goal <name> <value>`: one of the write path's figures (bench/goals.py)


def percentile_ms(values: list[float], share: float) -> float:
    """The `share` percentile of `values` (seconds), in milliseconds; nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def spread(values: list[float]) -> str:
    return f"p50 {percentile_ms(values, 0.5):.1f} ms, p99 {percentile_ms(values, 0.99):.1f} ms"


def conclude(figure: str, baseline: str, ratio_name: str, ratio: float) -> None:
    print(f"{FIGURE} {figure}")
    print(f"{BASELINE} {baseline}")
    # Two decimals, unless that would round a small ratio away.
    shown = f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.3f}"
    print(f"{RATIO}{ratio_name}: {shown}", flush=True)


def goal(name: str, value: float) -> None:
    """One of the figures `make bench` checks against the write path's goals."""
    print(f"{GOAL}{name} {value:.4g}", flush=True)


def markdown(rows: Sequence[tuple[str, ...]]) -> str:
    """Rows as a Markdown table, the first row its header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in rows]  # fmt: skip
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
