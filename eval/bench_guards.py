"""Guard latency on 2 KB prompts with every heuristic guard on: ``python -m eval.bench_guards``.

Each prompt is a chat request (a system prompt and a user message of ordinary text — coding
and customer-service questions, tool results — about 2 KB in all) checked by one guardrail
policy running injection, secrets, PII, exfiltration, canary and keyword guards at the
request and tool-result stages: ``GuardrailPolicy.enter`` end to end, view building included.
The policy is a dry run, so every guard runs on every prompt whatever the others find.
"""

from __future__ import annotations

import asyncio
import copy
import random
import statistics
import time
from collections import defaultdict
from typing import Any

from tests.unit.support import make_ctx

from eval.injection_set import DATA, slabs
from tollhouse.config.load import ConfigIssue
from tollhouse.guards.config import GuardrailsConfig
from tollhouse.policies.guardrails import GuardrailPolicy, compile_guardrails
from tollhouse.upstream.pool import UpstreamPool

SYSTEM = (
    "You are the support assistant of an online shop. Answer questions about orders, returns and "
    "shipping politely and briefly. Never promise refunds the policy does not allow. If you are unsure, "
    "offer to hand the conversation to a human agent. Use the tools to look up orders."
)
GUARDS = [
    {"type": "injection"},
    {"type": "secrets"},
    {"type": "pii", "action": "redact"},
    {"type": "exfiltration"},
    {"type": "canary"},
    {
        "type": "keywords",
        "keywords": ["project falcon", "acquisition", "layoffs"],
        "patterns": [r"\bINV-\d{6}\b"],
    },
]


def _texts(corpus: str) -> list[str]:
    """``typical``: ordinary questions and tool results (S-Labs benign rows, our tool results);
    ``risky``: the hand-written prompts that look like attacks but are not (trigger-dense)."""
    if corpus == "typical":
        lines = [text for text, attack in slabs("validation") if not attack]
        names = ["benign_tool_outputs.txt"]
    else:
        lines, names = [], ["benign_tricky.txt", "benign_tool_outputs.txt"]
    for name in names:
        text = (DATA / name).read_text(encoding="utf-8")
        lines += [line for line in text.splitlines() if line and not line.startswith("#")]
    return lines


def prompts(count: int, size: int = 2048, seed: int = 3, corpus: str = "risky") -> list[dict[str, Any]]:
    rng = random.Random(seed)
    texts = _texts(corpus)
    out = []
    for _ in range(count):
        parts: list[str] = []
        while len(SYSTEM) + sum(len(p) + 1 for p in parts) < size:
            parts.append(rng.choice(texts))
        user = " ".join(parts)[: size - len(SYSTEM)]
        out.append(
            {
                "model": "m",
                "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
            }
        )
    return out


async def measure(
    policy: GuardrailPolicy,
    payloads: list[dict[str, Any]],
    rounds: int,
    per_guard: dict[str, list[float]] | None = None,
) -> list[float]:
    """Microseconds per ``enter``; ``per_guard`` collects each guard's own latency per check
    (summed over its segments and stages, as the policy recorded it in the verdicts)."""
    timings: list[float] = []
    for _ in range(rounds):
        for payload in payloads:
            ctx = make_ctx(payload=copy.deepcopy(payload))
            started = time.perf_counter()
            await policy.enter(ctx)
            timings.append((time.perf_counter() - started) * 1e6)
            await policy.exit(ctx)
            if per_guard is not None:
                spent: dict[str, float] = defaultdict(float)
                for verdict in ctx.verdicts:
                    spent[verdict.guard] += verdict.latency_us
                for guard, micros in spent.items():
                    per_guard[guard].append(micros)
                per_guard["(guards)"].append(sum(spent.values()))
    return timings


def _at(values: list[float], q: int) -> float:
    return values[int(len(values) * q / 100)]


def main() -> None:
    issues: list[ConfigIssue] = []
    config = GuardrailsConfig.model_validate(
        # Dry run: verdicts are recorded, not enforced, so a block never cuts a check short and
        # every guard reads every prompt (a blocked prompt would skip the guards after it).
        {"policies": [{"name": "bench", "guards": GUARDS, "canary": True, "dry_run": True}]}
    )
    policy = compile_guardrails(config, UpstreamPool(), issues, [])[0]
    assert isinstance(policy, GuardrailPolicy)
    assert not issues
    for corpus in ("typical", "risky"):
        payloads = prompts(200, corpus=corpus)
        asyncio.run(measure(policy, payloads, 1))  # warm up
        per_guard: dict[str, list[float]] = defaultdict(list)
        timings = sorted(asyncio.run(measure(policy, payloads, 5, per_guard)))
        size = statistics.mean(sum(len(m["content"]) for m in p["messages"]) for p in payloads)
        p = {q: _at(timings, q) for q in (50, 90, 95, 99)}
        print(
            f"{corpus:8s} {len(timings)} checks of {size:.0f}-character prompts, 6 guards: "
            f"p50 {p[50]:.0f} µs   p90 {p[90]:.0f} µs   p95 {p[95]:.0f} µs   p99 {p[99]:.0f} µs"
        )
        # Where the time goes: each guard that ran (its detector over its segments), and the
        # rest of ``enter`` (views, the run loop, verdicts, the canary) by difference.
        parts = [f"{g} {_at(sorted(v), 50):.0f}" for g, v in per_guard.items() if g != "(guards)"]
        guards = statistics.median(per_guard["(guards)"])
        print(f"{'':8s} p50 per guard, µs: {'  '.join(parts)}   policy machinery ~{p[50] - guards:.0f}")


if __name__ == "__main__":
    main()
