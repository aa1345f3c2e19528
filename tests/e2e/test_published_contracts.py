"""The published contracts pass the ecosystem's own validators: the AsyncAPI document
(`@asyncapi/cli validate`), and the OpenAPI document under Redocly's recommended rules and
Spectral's `spectral:oas` ruleset, with no error and no warning."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from deploy.processes import PROJECT_ROOT
from services.gateway.app import create_app

TOOLS = PROJECT_ROOT / "tools" / "contract" / "node_modules" / ".bin"


def _tool(name: str) -> Path:
    path = TOOLS / name
    if not path.exists() or shutil.which("node") is None:
        pytest.skip(f"{name} is not installed (make test runs npm ci in tools/contract)")
    return path


async def _served(path: str) -> dict:
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        response = await c.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASYNCAPI_METRICS": "false", "NO_UPDATE_NOTIFIER": "1",
           "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}  # fmt: skip
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )


async def test_the_asyncapi_document_is_valid_with_no_governance_issue(tmp_path):
    cli = _tool("asyncapi")
    document = await _served("/asyncapi.json")
    assert document["asyncapi"].startswith("3.")
    target = tmp_path / "asyncapi.json"
    target.write_text(json.dumps(document))
    done = _run([str(cli), "validate", str(target), "--fail-severity=info"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is valid" in done.stdout


async def test_the_openapi_document_is_clean_under_redocly_recommended(tmp_path):
    cli = _tool("redocly")
    target = tmp_path / "openapi.json"
    target.write_text(json.dumps(await _served("/openapi.json")))
    (tmp_path / "redocly.yaml").write_text("extends:\n  - recommended\n")
    done = _run([str(cli), "lint", str(target), "--max-problems=500"], tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.split("validating")[-1].lower(), output


async def test_the_openapi_document_is_clean_under_spectral_oas(tmp_path):
    cli = _tool("spectral")
    target = tmp_path / "openapi.json"
    target.write_text(json.dumps(await _served("/openapi.json")))
    ruleset = tmp_path / ".spectral.yaml"
    ruleset.write_text('extends: ["spectral:oas"]\n')
    done = _run(
        [str(cli), "lint", str(target), "--ruleset", str(ruleset), "--fail-severity=hint"],
        tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
