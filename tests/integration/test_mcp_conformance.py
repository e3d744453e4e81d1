"""The official MCP conformance suite through a single-upstream Tollhouse route.

``scripts/mcp_conformance.sh`` installs Node 22 and ``@modelcontextprotocol/conformance`` with
npm (into ``.mcp-conformance/``), runs the suite's server scenarios against the reference
server directly and through the gateway, and fails when a scenario regresses through the
gateway. About 45 s with a fresh install, 25 s after.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
@pytest.mark.skipif(shutil.which("npm") is None, reason="the conformance suite is installed with npm")
def test_every_scenario_that_passes_directly_passes_through_the_gateway() -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "mcp_conformance.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    summary = re.search(
        r"(\d+) of (\d+) scenarios passed directly; (\d+) of them through the gateway", output
    )
    assert summary is not None, output
    passed, total, through = (int(n) for n in summary.groups())
    assert total >= 30 and passed >= 30, output  # the suite ran, and the reference server serves it
    assert through == passed, output
    for scenario in (
        "dns-rebinding-protection",
        "tools-call-sampling",
        "tools-call-elicitation",
        "resources-subscribe",
    ):
        assert re.search(rf"^ok  {scenario} +direct=pass gateway=pass$", output, re.M), output
