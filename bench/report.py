"""RESULTS.md: the machine, the method, one table per point, RSS, ratios and variants."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from load import Outcome, Run, Scenario
from settings import DURATION, REL_INSTALL, REL_WORK, REPO, RUNS, WARMUP
from targets import Target


def sh(*cmd: str) -> str:
    try:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "n/a"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else "n/a"


def pkg_version(python: str, *names: str) -> str:
    code = "import importlib.metadata as m, sys\n"
    code += "for n in sys.argv[1:]:\n"
    code += "    try: print(n, m.version(n))\n"
    code += "    except m.PackageNotFoundError: print(n, 'missing')\n"
    if not (REPO / python).exists():
        return "not installed"
    done = subprocess.run([python, "-c", code, *names], cwd=REPO, capture_output=True, text=True)
    return ", ".join(done.stdout.split("\n")[:-1]) or "n/a"


def machine() -> list[tuple[str, str]]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")),
        platform.processor(),
    )
    mem_kib = int(
        next(
            ln.split()[1]
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        )
    )
    pk = REPO / REL_INSTALL / "portkey/node_modules/@portkey-ai/gateway/package.json"
    return [
        ("CPU", model),
        ("cores", str(os.cpu_count())),
        ("RAM", f"{mem_kib / 1024 / 1024:.1f} GiB"),
        ("kernel", platform.release()),
        ("OS", sh("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME")),
        ("Tollhouse commit", sh("sh", "-c", "git describe --always --dirty 2>/dev/null || echo none")),
        (
            "Tollhouse venv",
            pkg_version(".venv/bin/python", "tollhouse", "uvicorn", "uvloop", "httptools", "aiohttp")
            + "; "
            + sh(".venv/bin/python", "--version"),
        ),
        (
            "LiteLLM venv",
            pkg_version(
                f"{REL_INSTALL}/litellm-venv/bin/python", "litellm", "uvicorn", "uvloop", "httptools"
            ),
        ),
        ("Portkey gateway", json.loads(pk.read_text())["version"] if pk.exists() else "missing"),
        ("node", sh("node", "--version")),
        ("nginx", sh("nginx", "-v")),
        ("wrk", sh("wrk", "-v")),
    ]


def best(runs: list[Run] | None) -> Run | None:
    """Best clean run (highest req/s); None if there is none."""
    clean = [r for r in runs or [] if r.clean]
    return max(clean, key=lambda r: r.rps) if clean else None


def least_cpu(runs: list[Run] | None) -> float | None:
    """Lowest CPU µs per request over the clean runs; None if there is none."""
    cpus = [r.cpu_us for r in runs or [] if r.clean and r.cpu_us is not None]
    return min(cpus) if cpus else None


def cell(runs: list[Run], attr: str, fmt: str) -> str:
    values = [getattr(r, attr) for r in runs]
    return " / ".join("-" if v is None else format(v, fmt) for v in values)


METHOD = [
    "- Fake upstream: nginx (1 worker, keep-alive) answering POST `/v1/chat/completions` "
    "with a fixed chat.completion JSON (with usage) and POST `/sse/v1/chat/completions` "
    "with a fixed `text/event-stream` body of 20 `data:` lines "
    "(role, 16 content deltas, stop, usage chunk, `[DONE]`).",
    "- Each gateway runs alone with one worker, pinned to core 0 (`taskset -c 0`); wrk "
    "(1 thread) and nginx share core 1. Targets run one after another, never together.",
    "- `direct`: wrk straight to nginx (the ceiling). `floor`: `bench/floor_app.py`, a raw "
    "ASGI proxy on uvicorn+uvloop+httptools with one pooled aiohttp session and no JSON "
    "parsing (the best a Python proxy can do). `tollhouse`: `tollhouse serve --config "
    "bench/tollhouse.yaml --workers 1`. `litellm`: `litellm --config bench/litellm.yaml "
    "--num_workers 1`, no database, no callbacks. `portkey`: `@portkey-ai/gateway` on node, "
    "routed with `x-portkey-provider: openai` + `x-portkey-custom-host`.",
    "- Before loading a target, one request of each kind is checked for a correct answer "
    "(status 200, expected content; for streaming, all deltas and a final `data: [DONE]`).",
]

CPU_METHOD = (
    "- CPU µs/req: user + system CPU time of the gateway's process tree (`/proc/PID/stat`, "
    "reaped children included), read just before and just after each wrk run, divided by the "
    "requests the run completed. It includes the gateway's background work during the run and "
    "requests still in flight when wrk stops; it excludes nginx and wrk. core %: that CPU time "
    "over the run's wall time (near 100 %: the gateway was the bottleneck). Another process on "
    "core 0 lowers req/s but moves CPU per request much less, so on a shared machine compare "
    "this column first. Ratios use each target's lowest clean CPU figure."
)


def report(
    outcomes: dict[str, Outcome], targets: dict[str, Target], scenarios: list[Scenario], started: datetime
) -> str:
    took = (datetime.now(UTC) - started).total_seconds() / 60
    variants = [name for name in outcomes if targets[name].about]
    md = [
        "# Tollhouse benchmark results",
        "",
        f"Generated by `bash bench/run.sh` on {started:%Y-%m-%d %H:%M} UTC (took {took:.1f} min). "
        f"Settings: {DURATION} s per run, {WARMUP} s warm-up, {RUNS} runs per point, "
        f"targets: {' '.join(outcomes)}.",
        "",
        "## Machine",
        "",
        "| what | value |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in machine()],
        "",
        "## Method",
        "",
        *METHOD,
        *(
            [
                "- Tollhouse variants: `tollhouse` with one feature on, each with its own config in "
                "`bench/variants/`, on the same port and core; listed under Variants."
            ]
            if variants
            else []
        ),
        f"- Each point: {WARMUP} s warm-up, then {RUNS} runs of {DURATION} s; both runs are "
        "shown (`run1 / run2`). Latency is full-response time as wrk sees it, over the "
        "requests that completed within the run (so it is truncated near the run length). "
        "**ERRORS** marks a point where wrk saw non-2xx answers or socket errors (incl. "
        "timeouts past 10 s), **NO RESPONSES** one where no request completed: such figures "
        "are not a result. Ratios use each target's best clean run.",
        CPU_METHOD,
        "- Peak RSS: VmHWM of the gateway's process tree at the end of its runs, summed.",
        "",
    ]
    status_rows = []
    for name, o in outcomes.items():
        notes = "; ".join(o.notes).replace("|", "\\|")
        status_rows.append(f"| {name} | {o.status} | {notes} |")
    md += ["## Targets", "", "| target | status | notes |", "| --- | --- | --- |", *status_rows, ""]

    for sc in scenarios:
        md += [
            f"## {sc.title}",
            "",
            "| target | req/s | CPU µs/req | core % | p50 ms | p99 ms | non-2xx | socket errors | flag |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, o in outcomes.items():
            runs = o.runs.get(sc.key)
            if not runs:
                md.append(f"| {name} | - | - | - | - | - | - | - | not run |")
                continue
            problems = sorted({r.problem for r in runs if r.problem})
            flag = " ".join(f"**{p}**" for p in problems) or "ok"
            md.append(
                f"| {name} | {cell(runs, 'rps', '.0f')} | {cell(runs, 'cpu_us', '.0f')} | "
                f"{cell(runs, 'core_pct', '.0f')} | {cell(runs, 'p50_ms', '.2f')} | "
                f"{cell(runs, 'p99_ms', '.2f')} | {cell(runs, 'non2xx', 'd')} | "
                f"{cell(runs, 'sock_errors', 'd')} | {flag} |"
            )
        md.append("")

    md += ["## Peak RSS", "", "| target | peak RSS (MiB) |", "| --- | ---: |"]
    for name, o in outcomes.items():
        if name != "direct":
            md.append(f"| {name} | {'-' if o.rss_mib is None else f'{o.rss_mib:.0f}'} |")
    md.append("")
    md += ratios(outcomes, scenarios)
    md += variants_section(outcomes, targets, scenarios, variants)
    md += [
        f"Raw wrk outputs and server logs: `{REL_WORK}/raw/`, `{REL_WORK}/logs/` (not committed).",
        "",
    ]
    return "\n".join(md)


def ratios(outcomes: dict[str, Outcome], scenarios: list[Scenario]) -> list[str]:
    def runs(name: str, key: str) -> list[Run] | None:
        return outcomes[name].runs.get(key) if name in outcomes else None

    def ratio(a: str, b: str, key: str, pct: bool) -> str:
        ra, rb = best(runs(a, key)), best(runs(b, key))
        if ra is None or rb is None or rb.rps == 0:
            return "n/a"
        return f"{100 * ra.rps / rb.rps:.0f} %" if pct else f"{ra.rps / rb.rps:.2f}x"

    def cpu_ratio(a: str, b: str, key: str) -> str:
        ca, cb = least_cpu(runs(a, key)), least_cpu(runs(b, key))
        if ca is None or cb is None or cb == 0:
            return "n/a"
        return f"{ca / cb:.2f}x ({ca:.0f} vs {cb:.0f} µs)"

    md = [
        "## Ratios (Tollhouse relative to the others)",
        "",
        "req/s from each target's best clean run; CPU per request from its lowest clean one.",
        "",
        "| scenario | req/s tollhouse / floor | tollhouse CPU/request vs floor CPU/request "
        "| req/s tollhouse / litellm | req/s tollhouse / portkey |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for sc in scenarios:
        md.append(
            f"| {sc.title} | {ratio('tollhouse', 'floor', sc.key, True)} | "
            f"{cpu_ratio('tollhouse', 'floor', sc.key)} | "
            f"{ratio('tollhouse', 'litellm', sc.key, False)} | "
            f"{ratio('tollhouse', 'portkey', sc.key, False)} |"
        )
    md.append("")

    c1 = next((sc.key for sc in scenarios if not sc.stream and sc.conns == 1), None)
    direct = best(outcomes["direct"].runs.get(c1)) if c1 and "direct" in outcomes else None
    if direct is not None:
        md += ["Added p50 latency over `direct` at concurrency 1 (best runs):", ""]
        for name, o in outcomes.items():
            run = best(o.runs.get(c1 or ""))
            if name != "direct" and run is not None:
                md.append(
                    f"- {name}: {run.p50_ms - direct.p50_ms:+.2f} ms "
                    f"(p50 {run.p50_ms:.2f} ms vs {direct.p50_ms:.2f} ms)"
                )
        md.append("")
    return md


def variants_section(
    outcomes: dict[str, Outcome], targets: dict[str, Target], scenarios: list[Scenario], variants: list[str]
) -> list[str]:
    """Each variant against plain tollhouse: req/s change and CPU µs per request added."""
    if not variants:
        return []
    md = ["## Variants (relative to plain `tollhouse`)", ""]
    if "tollhouse" not in outcomes:
        return [*md, "Not compared: run the `tollhouse` target in the same run.", ""]
    base = outcomes["tollhouse"].runs

    def delta(runs: list[Run] | None, key: str) -> str:
        run, ref = best(runs), best(base.get(key))
        cpu, ref_cpu = least_cpu(runs), least_cpu(base.get(key))
        parts = []
        if run is not None and ref is not None and ref.rps:
            parts.append(f"{100 * (run.rps / ref.rps - 1):+.0f} % req/s")
        if cpu is not None and ref_cpu:
            parts.append(f"{cpu - ref_cpu:+.0f} µs CPU/request ({100 * (cpu / ref_cpu - 1):+.0f} %)")
        return ", ".join(parts) or "n/a"

    rows = [
        f"| {name} | " + " | ".join(delta(outcomes[name].runs.get(sc.key), sc.key) for sc in scenarios) + " |"
        for name in variants
    ]
    md += [
        "Each cell: the variant's best clean req/s against tollhouse's (same point, same run), "
        "and the CPU time per request it adds (lowest clean run of each). Targets run one "
        "after another, so req/s also moves with the machine's other load; the CPU figure "
        "much less.",
        "",
        "| variant | " + " | ".join(sc.title for sc in scenarios) + " |",
        "| --- |" + " ---: |" * len(scenarios),
        *rows,
        "",
    ]
    md += [f"- `{name}` (`{targets[name].config}`): {targets[name].about}." for name in variants]
    md.append("")
    return md
