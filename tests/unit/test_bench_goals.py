"""`make bench`'s goals table: figures gathered from the benchmarks' `goal` lines."""

from bench.goals import derived, goal_table
from bench.run_all import Result, note


def test_goal_lines_are_gathered_from_a_benchmarks_output() -> None:
    result = Result("Ingest")
    for line in ("ceiling (FastAPI ...): 423 req/s", "goal ingest_ratio 0.3", "goal bad line x y"):
        note(result, line)
    assert result.goals == {"ingest_ratio": 0.3}


def test_the_pipeline_figure_is_divided_by_the_same_runs_ceiling() -> None:
    found = derived({"pipeline_events_per_second": 900, "ceiling_requests_per_second": 400})
    assert found["pipeline_ratio"] == 2.25
    assert "pipeline_ratio" not in derived({"pipeline_events_per_second": 900})


def test_each_goal_says_whether_it_holds_and_unmeasured_goals_are_left_out() -> None:
    table = goal_table({"ops_per_checkin": 5.0, "ingest_ratio": 0.3, "fault_slowest_s": 5.0})
    rows = {line.split("|")[1].strip(): line for line in table.splitlines()[2:]}
    assert (
        rows["database operations per accepted shared check-in (all services)"]
        .rstrip(" |")
        .endswith("yes")
    )
    assert "NO" in rows["ingest: check-ins/s at concurrency 16 / request-reply ceiling"]
    assert "NO" in rows["slowest accepted write after checkin is SIGKILLed mid-write"]  # < 5 s
    assert len(rows) == 3
    assert goal_table({}) == ""
