"""The web app's pure JavaScript functions, under Node's test runner (skipped without Node)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NODE = shutil.which("node")
TESTS = Path(__file__).resolve().parents[2] / "browser" / "web_modules.test.mjs"


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_the_web_apps_pure_functions_pass_their_node_tests() -> None:
    assert NODE is not None
    # The app's modules are plain ES modules without a package.json of their own.
    done = subprocess.run(
        [NODE, "--experimental-default-type=module", "--test", str(TESTS)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# fail 0" in done.stdout
