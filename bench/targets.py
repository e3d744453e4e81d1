"""What gets measured: the targets, how each one starts, and the check of its answer.

The base targets are direct (the fake upstream itself), floor, tollhouse, litellm and
portkey; the Tollhouse variants are in variants.py. A target's config file is served as
checked in, or as a copy in WORK/configs when the run moves the ports or the work dir.
"""

from __future__ import annotations

import http.client
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from procs import fetch
from settings import (
    CONFIG_UPSTREAM,
    CONFIG_WORK,
    FLOOR_PORT,
    GATEWAY_CORE,
    GATEWAY_KEY,
    LITELLM_PORT,
    PORTKEY_JS,
    PORTKEY_PORT,
    REL_INSTALL,
    REL_WORK,
    REPLY,
    REPO,
    TOLLHOUSE_PORT,
    UPSTREAM_KEY,
    UPSTREAM_PORT,
    WORK,
)

Hook = Callable[["Target"], str | None]  # None: fine; else what went wrong
Tally = Callable[["Target", int], str | None]  # given the requests completed: a note, if any


@dataclass
class Target:
    name: str
    port: int
    cmd: list[str] | None  # None: nothing to start (direct hits the upstream)
    health: str
    headers: list[str]
    models: tuple[str, str]  # (non-stream, stream) model names
    paths: tuple[str, str] = ("/v1/chat/completions", "/v1/chat/completions")
    env: dict[str, str | None] = field(default_factory=dict)  # None: unset the variable
    stream_headers: list[str] | None = None  # replaces headers for streaming, if set
    config: str | None = None  # the config file in cmd, relative to the repo
    about: str = ""  # one line for the report (variants)
    prepare: Hook | None = None  # before the server starts (e.g. issue a key)
    probe: Hook | None = None  # after the answer checks: does the feature really work?
    tally: Tally | None = None  # after the server stopped (e.g. count audit records)
    served: str | None = None  # the config file actually served (see served_command)
    database: Path | None = None  # the SQLite file the served config names, if in WORK

    def request(self, stream: bool) -> tuple[str, bytes, list[str]]:
        """Path, JSON body and headers of the benchmark request."""
        body: dict[str, object] = {
            "model": self.models[stream],
            "messages": [
                {"role": "system", "content": "You are a concise assistant."},
                {"role": "user", "content": "Give me one short sentence about toll roads."},
            ],
            "max_tokens": 64,
        }
        if stream:
            body |= {"stream": True, "stream_options": {"include_usage": True}}
        headers = self.stream_headers if stream and self.stream_headers else self.headers
        return self.paths[stream], json.dumps(body).encode(), headers


def pinned(cmd: str) -> list[str]:
    """The gateway command line (no quoting needed), pinned to the gateway core."""
    return ["taskset", "-c", GATEWAY_CORE, *cmd.split()]


def tollhouse(
    name: str,
    config: str,
    about: str = "",
    prepare: Hook | None = None,
    probe: Hook | None = None,
    tally: Tally | None = None,
) -> Target:
    """Tollhouse serving config with one worker, called with the master key."""
    cmd = pinned(
        f".venv/bin/tollhouse serve --config {config} --host 127.0.0.1 --port {TOLLHOUSE_PORT} --workers 1"
    )
    auth = [f"Authorization: Bearer {GATEWAY_KEY}"]
    aliases = ("gpt-bench", "gpt-bench-stream")
    return Target(
        name, TOLLHOUSE_PORT, cmd, "/healthz", auth, aliases,
        config=config, about=about, prepare=prepare, probe=probe, tally=tally,
    )  # fmt: skip


def base_targets() -> dict[str, Target]:
    upstream = f"http://127.0.0.1:{UPSTREAM_PORT}"
    upstream_auth = [f"Authorization: Bearer {UPSTREAM_KEY}"]
    gateway_auth = [f"Authorization: Bearer {GATEWAY_KEY}"]
    # direct and floor see the upstream's own paths; the floor forwards paths as is.
    direct_paths = ("/v1/chat/completions", "/sse/v1/chat/completions")
    aliases = ("gpt-bench", "gpt-bench-stream")
    # Portkey routes per request: provider + custom host headers; the key goes upstream.
    portkey = ["x-portkey-provider: openai", *upstream_auth]
    host = f"x-portkey-custom-host: {upstream}"
    targets = [
        Target("direct", UPSTREAM_PORT, None, "/healthz", upstream_auth, ("gpt-bench",) * 2,
               direct_paths),
        Target(
            "floor", FLOOR_PORT,
            pinned(
                f".venv/bin/uvicorn floor_app:app --app-dir bench --host 127.0.0.1 --port {FLOOR_PORT}"
                " --workers 1 --loop uvloop --http httptools --no-access-log --log-level warning"
            ),
            "/healthz", upstream_auth, ("gpt-bench",) * 2, direct_paths,
            env={"FLOOR_UPSTREAM": upstream},
        ),
        tollhouse("tollhouse", "bench/tollhouse.yaml"),
        Target(
            "litellm", LITELLM_PORT,
            pinned(
                f"{REL_INSTALL}/litellm-venv/bin/litellm --config bench/litellm.yaml"
                f" --host 127.0.0.1 --port {LITELLM_PORT} --num_workers 1"
            ),
            "/health/liveliness", gateway_auth, aliases,
            # No network at startup (bundled cost map), quiet logs, no telemetry, no DB.
            env={
                "DATABASE_URL": None,
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "LITELLM_LOG": "ERROR",
                "LITELLM_TELEMETRY": "False",
            },
            config="bench/litellm.yaml",
        ),
        Target(
            "portkey", PORTKEY_PORT,
            pinned(f"node {REL_INSTALL}/{PORTKEY_JS} --port={PORTKEY_PORT} --headless"),
            "/", [*portkey, f"{host}/v1"], ("gpt-bench",) * 2,
            stream_headers=[*portkey, f"{host}/sse/v1"],
        ),
    ]  # fmt: skip
    return {t.name: t for t in targets}


def served_command(target: Target) -> list[str]:
    """The command line to start target with, its config adapted to this run.

    The checked-in configs name the upstream as 127.0.0.1:18080 and keep databases in
    bench/.work/; when BENCH_PORT_BASE or BENCH_WORK move them, a rewritten copy goes to
    WORK/configs and is served instead. A SQLite database the config keeps in WORK is
    deleted, so each run starts from an empty one (migrations create it at start).
    """
    assert target.cmd is not None
    if target.config is None:
        return target.cmd
    text = (REPO / target.config).read_text()
    served = text.replace(CONFIG_UPSTREAM, f"127.0.0.1:{UPSTREAM_PORT}")
    served = served.replace(CONFIG_WORK, f"{REL_WORK}/")
    config = target.config
    if served != text:
        copy = WORK / "configs" / Path(target.config).name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(served)
        config = os.path.relpath(copy, REPO)
    target.served = config
    match = re.search(r"sqlite:///(\S+)", served)
    if match is not None:
        database = (REPO / match.group(1)).resolve()
        if database.is_relative_to(WORK):
            target.database = database
            for suffix in ("", "-wal", "-shm", "-journal"):
                database.with_name(database.name + suffix).unlink(missing_ok=True)
    return [config if part == target.config else part for part in target.cmd]


def check_answer(target: Target, stream: bool) -> str | None:
    """Send the benchmark request once; None if the answer is a correct completion."""
    path, body, headers = target.request(stream)
    hdrs = {"Content-Type": "application/json"} | dict(h.split(": ", 1) for h in headers)
    try:
        status, text, _ = fetch(target.port, path, body, hdrs)
    except (OSError, http.client.HTTPException) as err:
        return f"request failed: {err!r}"
    if status != 200:
        return f"HTTP {status}: {text[:300]!r}"
    try:
        if not stream:
            content = json.loads(text)["choices"][0]["message"]["content"]
        else:
            datas = [ln[5:].strip() for ln in text.splitlines() if ln.startswith("data:")]
            if not datas or datas[-1] != "[DONE]":
                return f"stream did not end with data: [DONE]: {text[-200:]!r}"
            events = [json.loads(d) for d in datas[:-1]]
            deltas = [c["delta"].get("content") or "" for e in events for c in e["choices"]]
            content = "".join(deltas)
    except (ValueError, KeyError, IndexError, TypeError) as err:
        return f"malformed answer ({err!r}): {text[:300]!r}"
    return None if content == REPLY else f"unexpected content: {content[:100]!r}"
