"""Guard latency on 2 KB prompts with every heuristic guard on: ``python -m eval.bench_guards``.

Each prompt is a chat request (a system prompt and a user message of ordinary text — coding
and customer-service questions, tool results — about 2 KB in all) checked by one guardrail
policy running injection, secrets, PII, exfiltration, canary and keyword guards at the
request and tool-result stages: ``GuardrailPolicy.enter`` end to end, view building included.
The policy is a dry run, so every guard runs on every prompt whatever the others find. Each
check reads its prompt for the first time: the guards' memos (``guards/memo.py``) are emptied
before it.

The conversation: an agent's successive calls, each resending the conversation so far (the
system prompt, the request, a tool call and its ~600-character result per step), checked with
the memos as they serve (texts read on an earlier call are not scanned again) and emptied.
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
from tollhouse.guards.guard import Guard
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


def conversation(steps: int = 20, seed: int = 5) -> list[dict[str, Any]]:
    """The payloads of an agent's ``steps`` successive calls (see the module doc)."""
    rng = random.Random(seed)
    texts = _texts("typical")

    def passage(size: int) -> str:
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < size:
            parts.append(rng.choice(texts))
        return " ".join(parts)[:size]

    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": passage(400)},
    ]
    calls = []
    for step in range(steps):
        calls.append({"model": "m", "messages": copy.deepcopy(messages)})
        call = {"id": f"call_{step}", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        messages.append({"role": "tool", "tool_call_id": f"call_{step}", "content": passage(600)})
    return calls


def _forget(policy: GuardrailPolicy) -> None:
    for guard in policy.guards:
        if isinstance(guard, Guard) and guard.memo is not None:
            guard.memo.clear()


async def measure(
    policy: GuardrailPolicy,
    payloads: list[dict[str, Any]],
    rounds: int,
    per_guard: dict[str, list[float]] | None = None,
    memo: bool = False,
) -> list[float]:
    """Microseconds per ``enter``; ``per_guard`` collects each guard's own latency per check
    (summed over its segments and stages, as the policy recorded it in the verdicts);
    ``memo``: keep what the guards read (else each check starts with empty memos)."""
    timings: list[float] = []
    for _ in range(rounds):
        if memo:
            _forget(policy)  # each round is a new conversation
        for payload in payloads:
            if not memo:
                _forget(policy)
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
    calls = conversation()
    last = sum(len(m.get("content") or "") for m in calls[-1]["messages"])
    asyncio.run(measure(policy, calls, 1, memo=True))  # warm up
    for memo in (True, False):
        rounds = 5
        timings = asyncio.run(measure(policy, calls, rounds, memo=memo))
        per_call = [statistics.median(timings[i :: len(calls)]) for i in range(len(calls))]
        print(
            f"{'agent':8s} {len(calls)} calls resending the conversation (to {last} characters), "
            f"memos {'kept' if memo else 'emptied'}: first call {per_call[0]:.0f} µs, last {per_call[-1]:.0f} µs, "
            f"all {len(calls)} {sum(per_call) / 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
