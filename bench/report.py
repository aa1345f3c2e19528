"""How a benchmark ends its output, so `make bench` (bench/run_all.py) can build its table.

Each script prints whatever helps a reader, then `figure:` (what we measured), `baseline:`
(what we measured it against) and, last, `ratio <name>: X.XX`.
"""

from __future__ import annotations

FIGURE = "figure:"
BASELINE = "baseline:"
MEMORY = "memory:"
RATIO = "ratio "


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
