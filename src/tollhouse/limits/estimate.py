"""What a call may cost, estimated before it is made, and what it really cost afterwards.

The estimate is what a reservation holds: prompt tokens from the body's size (no
tokenizer on the hot path; it errs high), plus the most the model may answer — the call's
own output cap, else the model's maximum output from the catalog — times the route's
price. A budget cannot be overshot by calls whose real cost stays under their estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from tollhouse.catalog.pricing import Price
from tollhouse.limits.rules import NANO_USD
from tollhouse.model.chat import Usage
from tollhouse.pipeline.context import RequestContext

_OUTPUT_CAPS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


@dataclass(frozen=True, slots=True)
class ModelTerms:
    """What the estimate needs to know about an alias."""

    price: Price | None  # per million tokens; None: unpriced, so not counted against budgets
    max_output: int  # the catalog's maximum output, else the configured default


class Estimate(NamedTuple):
    input_tokens: int
    output_tokens: int
    cost_nusd: int

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def _output_cap(payload: dict[str, Any], surface: str, default: int) -> int:
    if surface == "embeddings":
        return 0
    for name in _OUTPUT_CAPS:
        value = payload.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            cap = value
            break
    else:
        cap = default
    n = payload.get("n")
    return cap * n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else cap


def estimate(
    ctx: RequestContext, terms: ModelTerms | None, bytes_per_token: float, default_output: int
) -> Estimate:
    """The most this call is expected to cost."""
    prompt = math.ceil(len(ctx.body) / bytes_per_token)
    output = _output_cap(ctx.payload, ctx.surface, terms.max_output if terms else default_output)
    cost = 0
    if terms is not None and terms.price is not None:
        price = terms.price
        cost = math.ceil((prompt * price.input + output * price.output) * NANO_USD / 1_000_000)
    return tuple.__new__(Estimate, (prompt, output, cost))  # no Python-level __new__: runs per call


def actual_cost_nusd(ctx: RequestContext, terms: ModelTerms | None) -> int | None:
    """What the call cost in nano-USD, from the cost the route charged or the usage; None: unknown."""
    if ctx.cost is not None:
        return round(ctx.cost * NANO_USD)
    if ctx.usage is not None and terms is not None and terms.price is not None:
        return round(terms.price.cost(ctx.usage) * NANO_USD)
    return None


def answered(ctx: RequestContext) -> bool:
    """Whether the upstream produced an answer (whole, or a stream the client left midway)."""
    return ctx.status == 200 or (ctx.error_code == "client_closed" and ctx.first_byte_at is not None)


def usage_tokens(usage: Usage, metric: str) -> int:
    if metric == "input_tokens":
        return usage.prompt_tokens
    if metric == "output_tokens":
        return usage.completion_tokens
    return usage.total_tokens


def tool_results(payload: dict[str, Any], dialect: str) -> int:
    """Tool calls the caller ran and now reports back: the tool results after the last model turn."""
    if dialect == "anthropic":
        messages = payload.get("messages")
        if not isinstance(messages, list) or not messages:
            return 0
        last = messages[-1]
        if (
            not isinstance(last, dict)
            or last.get("role") != "user"
            or not isinstance(last.get("content"), list)
        ):
            return 0
        return sum(1 for b in last["content"] if isinstance(b, dict) and b.get("type") == "tool_result")
    if dialect == "openai_responses":
        items = payload.get("input")
        kinds = ("function_call_output", "custom_tool_call_output")
        return _trailing(items, lambda i: isinstance(i, dict) and i.get("type") in kinds)
    return _trailing(
        payload.get("messages"), lambda m: isinstance(m, dict) and m.get("role") in ("tool", "function")
    )


def _trailing(items: Any, test: Any) -> int:
    if not isinstance(items, list):
        return 0
    count = 0
    for item in reversed(items):
        if not test(item):
            break
        count += 1
    return count
