#!/usr/bin/env python3
"""Tollhouse benchmark runner (stdlib only, so any python3 runs it).

Starts a fake upstream (nginx) and, one at a time, each target gateway pinned to
core 0; drives it with wrk pinned to core 1 (with nginx); writes bench/RESULTS.md.
Raw wrk output and server logs go to bench/.work/ (gitignored).

Settings (env): BENCH_TARGETS, BENCH_DURATION, BENCH_WARMUP, BENCH_RUNS,
BENCH_CONCURRENCY, BENCH_STREAM_CONCURRENCY, BENCH_START_TIMEOUT, BENCH_OUT,
BENCH_PORT_BASE, BENCH_WORK (see settings.py and bench/README.md).
Run it through bench/run.sh, which installs nginx, wrk, LiteLLM and Portkey first.

The pieces: settings.py (env, paths, ports), procs.py (processes, /proc, HTTP),
upstream.py (the fake upstream), targets.py and variants.py (what is measured),
load.py (wrk runs and CPU time), report.py (RESULTS.md).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import asdict
from datetime import UTC, datetime

from load import Outcome, bench_target, scenarios
from procs import stop_all
from report import report
from settings import CONCURRENCY, OUT, REPO, STREAM_CONCURRENCY, TARGETS, WORK
from targets import base_targets
from upstream import start_upstream
from variants import variant_targets


def main() -> int:
    started = datetime.now(UTC)
    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    all_targets = base_targets() | variant_targets()
    unknown = [t for t in TARGETS if t not in all_targets]
    if unknown:
        print(f"unknown targets: {unknown}; known: {list(all_targets)}", file=sys.stderr)
        return 2
    points = scenarios(CONCURRENCY, STREAM_CONCURRENCY)
    WORK.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, Outcome] = {}
    try:
        if start_upstream() is None:
            return 1
        for name in TARGETS:
            print(f"== {name}", flush=True)
            outcomes[name] = bench_target(all_targets[name], points)
            print(f"   status: {outcomes[name].status} {'; '.join(outcomes[name].notes)}", flush=True)
    finally:
        stop_all()
    results = {name: asdict(o) for name, o in outcomes.items()}
    (WORK / "results.json").write_text(json.dumps(results, indent=1))
    OUT.write_text(report(outcomes, all_targets, points, started))
    print(f"wrote {os.path.relpath(OUT, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
