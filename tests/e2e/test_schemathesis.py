"""Fuzz the live API from its own OpenAPI document: no 5xx, no response off its schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.api import couple

# CI runs a bounded budget; ATTUNE_FUZZ_EXAMPLES / ATTUNE_FUZZ_SECONDS raise it for a long run.
EXAMPLES = os.environ.get("ATTUNE_FUZZ_EXAMPLES", "3")
SECONDS = os.environ.get("ATTUNE_FUZZ_SECONDS", "45")


@pytest.mark.slow
async def test_fuzzing_the_api_finds_no_server_error_and_no_schema_break(
    http, system, tmp_path: Path
):
    rid, (member,) = await couple(http, "Fuzz")
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"path.rid" = "{rid}"\n')
    report = tmp_path / "report.json"
    st = Path(sys.executable).parent / "st"
    run = subprocess.run(  # noqa: ASYNC221 - a bounded run of the fuzzer, in its own process
        [
            str(st), "--config-file", str(config), "run", f"{system.api}/openapi.json",
            "-H", f"Authorization: Bearer {member.token}",
            "--checks", "not_a_server_error,response_schema_conformance",
            # The stream never ends, logout would end the session, leaving would end the member.
            "--exclude-path-regex", "(stream|logout|members/me)$",
            "--phases", "examples,coverage,fuzzing",
            "-n", EXAMPLES, "--max-time", SECONDS, "--seed", "20261126",
            "--report", "json", "--report-json-path", str(report),
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=int(SECONDS) + 120, check=False,
    )  # fmt: skip
    result = json.loads(report.read_text())
    cases = result["test_cases"]
    print(f"schemathesis: {cases['generated']} cases, {cases['with_failures']} with failures")
    assert cases["generated"] > 100, run.stdout[-3000:]
    assert result["failures"] == [], run.stdout[-5000:]
    assert cases["errored"] == 0, run.stdout[-5000:]
