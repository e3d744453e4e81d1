"""Compare two runs of the MCP conformance suite's server scenarios: direct and through Tollhouse.

Each run is a folder the suite wrote with ``-o``: one ``server-{scenario}-{timestamp}/checks.json``
per scenario. A scenario passes when none of its checks is a FAILURE (or ERROR) and at least
one SUCCEEDED. Exit 1 when a scenario that passes directly does not pass through the gateway,
or when the direct run passed nothing (the reference server is broken: nothing was compared).

    python scripts/mcp_conformance_compare.py RUN/direct RUN/gateway
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_FOLDER = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")
_BAD = {"FAILURE", "ERROR"}


def results(run: Path) -> dict[str, tuple[bool, list[str]]]:
    """Per scenario: whether it passed, and the failed checks' ids and messages."""
    found: dict[str, tuple[bool, list[str]]] = {}
    for checks_file in sorted(run.glob("server-*/checks.json")):
        match = _FOLDER.match(checks_file.parent.name)
        if match is None:
            continue
        checks = json.loads(checks_file.read_text())
        failed = [
            f"{c.get('id')}: {str(c.get('errorMessage') or '')[:200]}"
            for c in checks
            if c.get("status") in _BAD
        ]
        passed = not failed and any(c.get("status") == "SUCCESS" for c in checks)
        found[match.group("scenario")] = (passed, failed)
    return found


def main(direct_dir: str, gateway_dir: str) -> int:
    direct, gateway = results(Path(direct_dir)), results(Path(gateway_dir))
    regressions: list[str] = []
    for scenario in sorted(direct):
        ok_direct, failed_direct = direct[scenario]
        ok_gateway, failed_gateway = gateway.get(scenario, (False, ["(not run through the gateway)"]))
        mark = "ok " if ok_gateway or not ok_direct else "REG"
        print(
            f"{mark} {scenario:34} direct={'pass' if ok_direct else 'fail'} gateway={'pass' if ok_gateway else 'fail'}"
        )
        if ok_direct and not ok_gateway:
            regressions.append(scenario)
            for line in failed_gateway:
                print(f"      {line}")
        elif not ok_direct:
            for line in failed_direct:
                print(f"      direct: {line}")
    passing = [s for s, (ok, _) in direct.items() if ok]
    through = [s for s in passing if gateway.get(s, (False, []))[0]]
    print(
        f"{len(passing)} of {len(direct)} scenarios passed directly; {len(through)} of them through the gateway"
    )
    if not passing:
        print("nothing passed directly: the reference server or the suite is broken", file=sys.stderr)
        return 1
    if regressions:
        print(f"failing only through the gateway: {', '.join(regressions)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
