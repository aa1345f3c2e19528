"""Fuzz the live API from its own OpenAPI document: no 5xx, no response off its schema.

Single requests (examples, coverage, fuzzing), then chains that follow the document's links
(create a relationship, log in it; make a bid, answer it; ...) in the stateful phase.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.api import couple

# CI runs a bounded budget; ATTUNE_FUZZ_EXAMPLES / ATTUNE_FUZZ_SECONDS raise it for a long run.
EXAMPLES = os.environ.get("ATTUNE_FUZZ_EXAMPLES", "3")
SECONDS = os.environ.get("ATTUNE_FUZZ_SECONDS", "60")
# The stream never ends, logging out ends the session, erasing or leaving ends the member:
# any of them would leave the rest of the run answering 401 or 404.
NEVER = r"^(GET .*/stream|POST /v1/auth/logout|DELETE /v1/me|DELETE .*/members/me)$"


@pytest.mark.slow
@pytest.mark.timeout(int(SECONDS) + 180)
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
            "--exclude-name-regex", NEVER,
            # The API refuses NUL in text (documented); hostile text is test_hostile_http's.
            "--generation-allow-x00", "false",
            "--phases", "examples,coverage,fuzzing,stateful",
            "-n", EXAMPLES, "--max-time", SECONDS, "--seed", "20261126",
            "--report", "json", "--report-json-path", str(report),
        ],
        cwd=tmp_path, capture_output=True, text=True, timeout=int(SECONDS) + 120, check=False,
    )  # fmt: skip
    result = json.loads(report.read_text())
    cases = result["test_cases"]
    links = re.search(r"Scenarios:\s+(\d+)\s+API Links:\s+(\d+) covered / (\d+) sel", run.stdout)
    print(f"schemathesis: {cases['generated']} cases, {cases['with_failures']} with failures;"
          f" stateful: {links and links[1]} scenarios, {links and links[2]}/{links and links[3]}"
          f" links covered; {SECONDS} s")  # fmt: skip
    assert result["failures"] == [], run.stdout[-5000:]
    assert cases["errored"] == 0, run.stdout[-5000:]
    assert cases["generated"] > 100, run.stdout[-3000:]
    assert result["phases"]["stateful"]["status"] == "success", run.stdout[-3000:]
    assert links is not None and int(links[2]) >= 5, run.stdout[-3000:]  # chains were followed
    assert (await member.get("/v1/me")).status_code == 200  # the member lived through it
