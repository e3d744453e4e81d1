"""Driving the load: wrk runs against one target, parsed, with the target's CPU time.

A target is started, checked, then loaded scenario by scenario (a warm-up, then RUNS runs).
Around each wrk run the gateway's process tree's CPU time is read from /proc, so every run
also yields CPU microseconds per completed request: on a shared machine that moves much
less than req/s, which falls whenever another process takes the gateway's core.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field

from procs import Server, port_open, wait_healthy
from settings import DRIVER_CORE, DURATION, REPO, RUNS, WARMUP, WORK
from targets import Hook, Target, check_answer, served_command


def hook(step: Hook, target: Target) -> str | None:
    """A target's setup or feature check; a crash in it is a failure, not the runner's end."""
    try:
        return step(target)
    except Exception as err:
        return f"{step.__name__} raised {err!r}"


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    sock_errors: int
    raw: str
    cpu_s: float | None = None  # the gateway tree's CPU time (user + system) during the run
    wall_s: float = 0.0  # how long wrk ran, as the runner timed it
    cpu_us: float | None = None  # cpu_s per completed request, in microseconds

    @property
    def problem(self) -> str:
        """Why this run is not a result ("" if it is one)."""
        if self.non2xx or self.sock_errors:
            return "ERRORS"
        return "" if self.requests else "NO RESPONSES"

    @property
    def clean(self) -> bool:
        return not self.problem

    @property
    def core_pct(self) -> float | None:
        """How busy the gateway kept its core: CPU time over wall time, in percent."""
        return None if self.cpu_s is None or not self.wall_s else 100 * self.cpu_s / self.wall_s


@dataclass
class Scenario:
    key: str
    title: str
    stream: bool
    conns: int


@dataclass
class Outcome:
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    runs: dict[str, list[Run]] = field(default_factory=dict)
    rss_mib: float | None = None


def scenarios(concurrency: list[int], stream_concurrency: list[int]) -> list[Scenario]:
    out = [Scenario(f"json-c{c}", f"Non-streaming, concurrency {c}", False, c) for c in concurrency]
    out += [Scenario(f"sse-c{c}", f"Streaming, concurrency {c}", True, c) for c in stream_concurrency]
    return out


def wrk(target: Target, sc: Scenario, seconds: int, tag: str, server: Server | None) -> Run:
    path, body, headers = target.request(sc.stream)
    url = f"http://127.0.0.1:{target.port}{path}"
    body_file = WORK / "bodies" / f"{target.name}-{'stream' if sc.stream else 'json'}.json"
    body_file.parent.mkdir(parents=True, exist_ok=True)
    body_file.write_bytes(body)
    # One wrk thread is plenty for these rates and keeps the driver on its one core.
    cmd = [
        *f"taskset -c {DRIVER_CORE} wrk -t1 -c{sc.conns} -d{seconds}s --timeout 10s --latency"
        f" -s bench/wrk_chat.lua {url} -- {os.path.relpath(body_file, REPO)}".split(),
        *headers,
    ]
    cpu_before = server.cpu_seconds() if server is not None else None
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=seconds + 60)
    wall_s = time.monotonic() - started
    cpu_s = server.cpu_seconds() - cpu_before if server is not None and cpu_before is not None else None
    raw = WORK / "raw" / f"{target.name}-{sc.key}-{tag}.txt"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(" ".join(cmd) + "\n\n" + done.stdout + done.stderr)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        return Run(0.0, 0.0, 0.0, 0, 0, 0, os.path.relpath(raw, REPO), cpu_s, wall_s)
    s = json.loads(line.removeprefix("BENCH_JSON "))
    requests = s["requests"]
    return Run(
        rps=requests / (s["duration_us"] / 1e6),
        p50_ms=s["p50_us"] / 1000,
        p99_ms=s["p99_us"] / 1000,
        requests=requests,
        non2xx=s["non2xx"],
        sock_errors=s["connect"] + s["read"] + s["write"] + s["timeout"],
        raw=os.path.relpath(raw, REPO),
        cpu_s=cpu_s,
        wall_s=wall_s,
        cpu_us=cpu_s * 1e6 / requests if cpu_s is not None and requests else None,
    )


def show(i: int, run: Run) -> str:
    cpu = "" if run.cpu_us is None else f"  cpu {run.cpu_us:6.0f} us/req ({run.core_pct:3.0f}% core)"
    errs = run.problem and f"  {run.problem} non2xx={run.non2xx} sock={run.sock_errors}"
    return f"    run {i}: {run.rps:9.1f} req/s  p50 {run.p50_ms:7.2f} ms  p99 {run.p99_ms:7.2f} ms{cpu}{errs}"


def launch(target: Target, name: str | None = None) -> tuple[Server | None, str | None]:
    """Start target's server (none for a target without a command) after its setup:
    (server, why it could not start). ``name`` names the server's log (default: the target's)."""
    if target.cmd is None:
        return None, None
    if port_open(target.port):
        return None, f"port {target.port} already in use; stop whatever holds it"
    try:
        cmd = served_command(target)
    except OSError as err:
        return None, f"cannot read its config: {err}"
    if target.prepare is not None:
        print(f"  {target.name}: setting up", flush=True)
        why = hook(target.prepare, target)
        if why is not None:
            return None, f"setup failed: {why}"
    return Server(name or target.name, cmd, target.env), None


def bench_target(target: Target, scenarios: list[Scenario]) -> Outcome:
    out = Outcome()
    completed = 0  # every request wrk completed, warm-ups included (for the tallies)
    server, why = launch(target)
    if why is not None:
        return Outcome(status=why)
    try:
        why = wait_healthy(target.port, target.health, server)
        if why is not None:
            out.status = f"did not start: {why}"
            return out
        checks = {stream: check_answer(target, stream) for stream in (False, True)}
        for stream, why in checks.items():
            if why is not None:
                kind = "streaming" if stream else "non-streaming"
                out.notes.append(f"{kind} check failed: {why}")
        if target.probe is not None and not any(checks.values()):
            why = hook(target.probe, target)
            if why is not None:
                out.notes.append(f"feature check failed: {why}")
                checks = dict.fromkeys(checks, why)  # not loaded: it would measure something else
        for sc in scenarios:
            if checks[sc.stream] is not None:
                continue
            print(f"  {target.name} {sc.title}: warm-up {WARMUP}s", flush=True)
            if WARMUP > 0:
                completed += wrk(target, sc, WARMUP, "warmup", server).requests
            for i in range(1, RUNS + 1):
                run = wrk(target, sc, DURATION, f"run{i}", server)
                completed += run.requests
                out.runs.setdefault(sc.key, []).append(run)
                print(show(i, run), flush=True)
        if server is not None:
            out.rss_mib = server.peak_rss_mib()
        if any(checks.values()):
            out.status = "check failed"
    finally:
        if server is not None:
            server.stop()
    if target.tally is not None and out.runs:
        try:
            note = target.tally(target, completed)
        except Exception as err:
            note = f"{target.tally.__name__} raised {err!r}"
        if note:
            out.notes.append(note)
    return out
