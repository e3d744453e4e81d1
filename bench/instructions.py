"""Instructions per request under callgrind: a noise-free cost figure for any bench target.

wall-clock req/s on this shared 2-core machine moves with whatever else runs; the number of
machine instructions a gateway executes per request does not (callgrind counts them in a
simulated CPU). This script serves one or more bench targets under
`valgrind --tool=callgrind --instr-atstart=no`, warms each up, switches counting on only
around a wrk run at low concurrency, and prints instructions per completed request.

    .venv/bin/python bench/instructions.py floor tollhouse               # non-streaming
    .venv/bin/python bench/instructions.py --stream floor tollhouse      # streaming
    BENCH_PORT_BASE=19080 .venv/bin/python bench/instructions.py tollhouse-limits

It starts the nginx upstream itself (bench/upstream.py) unless one already answers on the
upstream port. Ratios between targets of one run are what to compare: the absolute count
depends on the Python build and library versions.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from load import Scenario, hook, wrk
from procs import Server, port_open, stop_all, wait_healthy
from settings import REPO, UPSTREAM_PORT, WORK
from targets import Target, base_targets, check_answer, served_command
from upstream import start_upstream
from variants import variant_targets

# The "summary:" header of a dump made by callgrind_control can read 0; "totals:" is right.
TOTALS_RE = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)


def under_callgrind(cmd: list[str], out_file: Path) -> list[str]:
    """cmd (taskset-pinned, a venv console script) run by the venv's python under callgrind."""
    head, rest = cmd[:3], cmd[3:]  # ["taskset", "-c", core]
    script = Path(REPO / rest[0])
    python = script.parent / "python"
    valgrind = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}",
        *os.environ.get("BENCH_CALLGRIND_ARGS", "").split(),
    ]  # fmt: skip
    return [*head, *valgrind, str(python), str(script), *rest[1:]]


def instructions(out_file: Path) -> int:
    """Sum of instruction counts over every dump of out_file (callgrind may write several)."""
    total = 0
    for dump in out_file.parent.glob(out_file.name + "*"):
        match = TOTALS_RE.search(dump.read_text(errors="replace"))
        if match:
            total += int(match.group(1))
    return total


def measure(target: Target, stream: bool, seconds: int, conns: int) -> str:
    if target.cmd is None:
        return f"{target.name}: not a served target"
    if port_open(target.port):
        return f"{target.name}: port {target.port} already in use"
    cg_dir = WORK / "callgrind"
    cg_dir.mkdir(parents=True, exist_ok=True)
    out_file = cg_dir / f"{target.name}-{'sse' if stream else 'json'}.out"
    for old in cg_dir.glob(out_file.name + "*"):
        old.unlink()
    cmd = served_command(target)
    if target.prepare is not None:
        why = hook(target.prepare, target)
        if why is not None:
            return f"{target.name}: setup failed: {why}"
    server = Server(target.name + "-callgrind", under_callgrind(cmd, out_file), target.env)
    try:
        why = wait_healthy(target.port, target.health, server)
        if why is not None:
            return f"{target.name}: did not start: {why}"
        why = check_answer(target, stream)
        if why is not None:
            return f"{target.name}: answer check failed: {why}"
        sc = Scenario("cg", "callgrind", stream, conns)
        wrk(target, sc, 5, "cg-warmup", server)
        subprocess.run(["callgrind_control", "-i", "on", str(server.proc.pid)], capture_output=True)
        run = wrk(target, sc, seconds, "cg", server)
        subprocess.run(["callgrind_control", "-i", "off", str(server.proc.pid)], capture_output=True)
        subprocess.run(["callgrind_control", "-d", str(server.proc.pid)], capture_output=True)
        time.sleep(1.0)
        if run.requests == 0 or run.non2xx or run.sock_errors:
            return f"{target.name}: run not clean ({run.requests} requests, {run.non2xx} non-2xx)"
        total = instructions(out_file)
        return (
            f"{target.name:28} {total / run.requests / 1000:10.0f} k instr/request  ({run.requests} requests)"
        )
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="+")
    parser.add_argument("--stream", action="store_true", help="measure the streaming request")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--conns", type=int, default=4)
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    all_targets = base_targets() | variant_targets()
    unknown = [t for t in args.targets if t not in all_targets]
    if unknown:
        print(f"unknown targets: {unknown}; known: {list(all_targets)}", file=sys.stderr)
        return 2
    upstream = None
    try:
        if not port_open(UPSTREAM_PORT):
            upstream = start_upstream()
            if upstream is None:
                return 1
        for name in args.targets:
            print(measure(all_targets[name], args.stream, args.seconds, args.conns), flush=True)
    finally:
        if upstream is not None:
            upstream.stop()
        stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
