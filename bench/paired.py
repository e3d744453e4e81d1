#!/usr/bin/env python3
"""Paired benchmark: what a Tollhouse variant costs against plain Tollhouse, measured in turns.

    .venv/bin/python bench/paired.py tollhouse-audit-async tollhouse-audit-strict

bench/runner.py loads one target after another, minutes apart; on a shared machine the
gateway's core gets a different share of the CPU from one minute to the next, and a variant
has come out *faster* than plain Tollhouse there. This script starts plain Tollhouse and each
named variant together (each on its own port, all pinned to the gateway core, idle while
another is loaded), then at every point loads them in turns — plain, variant, variant, ...,
the order rotating each round — so drift in the machine falls on all of them alike. A round's
cost is 1 - variant/plain of the runs in that round; the report gives every round's and their
median, for req/s and for CPU per request.

Settings (env): BENCH_ROUNDS (default 5), BENCH_DURATION (default 10 s per run),
BENCH_WARMUP, BENCH_CONCURRENCY, BENCH_STREAM_CONCURRENCY and the others of settings.py;
BENCH_PAIRED_OUT, a Markdown file for the report (default: stdout only). Needs what
bench/run.sh installs (nginx, wrk) and a PostgreSQL for the -pg variants; at most one
PostgreSQL variant per run, since their record counts are read from the newest chain.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
from dataclasses import replace

from load import Run, Scenario, hook, launch, scenarios, show, wrk
from procs import Server, stop_all, wait_healthy
from settings import CONCURRENCY, DURATION, REPO, STREAM_CONCURRENCY, TOLLHOUSE_PORT, WARMUP, env_int
from targets import Target, base_targets, check_answer
from upstream import start_upstream
from variants import variant_targets

ROUNDS = env_int("BENCH_ROUNDS", 5)
BASELINE = "tollhouse"


def on_own_port(target: Target, port: int) -> Target:
    """target served on port instead of the one all Tollhouse targets share."""
    assert target.cmd is not None
    cmd = [str(port) if part == str(TOLLHOUSE_PORT) else part for part in target.cmd]
    return replace(target, port=port, cmd=cmd)


def start(target: Target) -> tuple[Server | None, str | None]:
    """Start target and check both answers and its feature: (server, why it cannot be loaded)."""
    server, why = launch(target, f"paired-{target.name}")
    if why is not None:
        return server, why
    why = wait_healthy(target.port, target.health, server)
    for stream in (False, True):
        why = why or check_answer(target, stream)
    if why is None and target.probe is not None:
        why = hook(target.probe, target)
    return server, why


def median_cost(pairs: list[tuple[float, float]]) -> float:
    """The median over rounds of 1 - variant/plain, in percent."""
    return 100 * statistics.median(1 - v / p for p, v in pairs)


def rows(sc: Scenario, names: list[str], runs: dict[str, list[Run]]) -> list[str]:
    """One report line per variant: every round's req/s and CPU cost, then their medians."""
    plain = runs[BASELINE]
    out = []
    for name in names[1:]:
        mine = runs[name]
        rps = [(p.rps, v.rps) for p, v in zip(plain, mine, strict=True) if p.clean and v.clean]
        cpu = [
            (p.cpu_us, v.cpu_us)
            for p, v in zip(plain, mine, strict=True)
            if p.clean and v.clean and p.cpu_us and v.cpu_us
        ]
        # CPU cost of a round as the throughput a CPU-bound gateway loses: 1 - plain/variant.
        cpu_costs = [100 * (1 - p / v) for p, v in cpu]
        each = ", ".join(f"{100 * (1 - v / p):.0f}%" for p, v in rps)
        out.append(
            f"| {sc.title} | {name} | {median_cost(rps) if rps else float('nan'):.1f}% | "
            f"{statistics.median(cpu_costs) if cpu_costs else float('nan'):.1f}% | "
            f"{statistics.median(v - p for p, v in cpu) if cpu else float('nan'):+.0f} µs | {each} |"
        )
    return out


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    known = base_targets() | variant_targets()
    names = [BASELINE, *dict.fromkeys(a for a in argv if a != BASELINE)]
    unknown = [n for n in names if n not in known or known[n].config is None]
    if unknown or len(names) < 2:
        print(f"usage: paired.py VARIANT...; unknown or not Tollhouse: {unknown}", file=sys.stderr)
        return 2
    if sum(n.endswith("-pg") for n in names) > 1:
        print("at most one PostgreSQL variant per run (their tallies read the newest chain)", file=sys.stderr)
        return 2
    targets = {n: on_own_port(known[n], TOLLHOUSE_PORT + 20 + i) for i, n in enumerate(names)}
    servers: dict[str, Server | None] = {}
    completed = dict.fromkeys(names, 0)
    lines = [
        f"Paired runs: {', '.join(names)}; {ROUNDS} rounds of {DURATION} s per point, order rotating.",
        "",
        "| point | variant | cost in req/s (median) | cost in CPU/request (median) | CPU added | req/s cost per round |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    try:
        if start_upstream() is None:
            return 1
        for name, target in targets.items():
            servers[name], why = start(target)
            if why is not None:
                print(f"{name}: {why}", file=sys.stderr)
                return 1
        for sc in scenarios(CONCURRENCY, STREAM_CONCURRENCY):
            runs: dict[str, list[Run]] = {n: [] for n in names}
            for name in names:
                if WARMUP > 0:
                    completed[name] += wrk(targets[name], sc, WARMUP, "paired-warmup", servers[name]).requests
            for r in range(ROUNDS):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    run = wrk(targets[name], sc, DURATION, f"paired-{r}", servers[name])
                    completed[name] += run.requests
                    runs[name].append(run)
                    print(f"  {sc.title} round {r + 1} {name}", show(r + 1, run).strip(), flush=True)
            lines += rows(sc, names, runs)
    finally:
        stop_all()
    for name in names:
        tally = targets[name].tally
        if tally is not None:
            lines.append(f"\n{name}: {tally(targets[name], completed[name])}")
    text = "\n".join(lines) + "\n"
    print(text)
    if out := os.environ.get("BENCH_PAIRED_OUT"):
        (REPO / out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
