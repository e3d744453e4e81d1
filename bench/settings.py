"""Benchmark settings: paths, ports, fixed values and the BENCH_* environment variables.

Every other bench module reads its settings from here, so what a run does is decided in
one place. Paths handed to subprocesses stay relative to the repo (they run in it).
"""

from __future__ import annotations

import os
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_ints(name: str, default: str) -> list[int]:
    return [int(c) for c in os.environ.get(name, default).split()]


# Installs (LiteLLM's venv, Portkey's node_modules) always live in bench/.work, where
# run.sh puts them; everything a run writes goes to WORK (BENCH_WORK, default the same).
REL_INSTALL = "bench/.work"
WORK = (REPO / os.environ.get("BENCH_WORK", "bench/.work")).resolve()
REL_WORK = os.path.relpath(WORK, REPO)

# Ports: upstream, floor, tollhouse (and every tollhouse variant: targets run one at a
# time), litellm, portkey. BENCH_PORT_BASE moves all five together.
PORT_BASE = env_int("BENCH_PORT_BASE", 18080)
UPSTREAM_PORT = PORT_BASE
FLOOR_PORT, TOLLHOUSE_PORT, LITELLM_PORT, PORTKEY_PORT = (PORT_BASE + i for i in range(1, 5))
CONFIG_UPSTREAM = "127.0.0.1:18080"  # what the checked-in configs name; rewritten if moved
CONFIG_WORK = "bench/.work/"  # where the checked-in configs keep databases; rewritten if moved

GATEWAY_CORE, DRIVER_CORE = "0", "1"
UPSTREAM_KEY = "sk-upstream-fake"
GATEWAY_KEY = "sk-bench"
PORTKEY_JS = "portkey/node_modules/@portkey-ai/gateway/build/start-server.js"
REPLY = "Hello from the fake upstream. This is a fixed benchmark reply of exactly sixteen short words."

DURATION = env_int("BENCH_DURATION", 10)
WARMUP = env_int("BENCH_WARMUP", 3)
RUNS = env_int("BENCH_RUNS", 2)
START_TIMEOUT = env_int("BENCH_START_TIMEOUT", 90)
CONCURRENCY = env_ints("BENCH_CONCURRENCY", "1 16 64 256")
STREAM_CONCURRENCY = env_ints("BENCH_STREAM_CONCURRENCY", "64")
DEFAULT_TARGETS = "direct floor tollhouse litellm portkey"
TARGETS = list(dict.fromkeys(os.environ.get("BENCH_TARGETS", DEFAULT_TARGETS).split()))
OUT = REPO / os.environ.get("BENCH_OUT", "bench/RESULTS.md")
