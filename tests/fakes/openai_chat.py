"""Chat completions for the fake upstream: decide an answer, render it as JSON or SSE chunks.

Pure and deterministic (no I/O); shapes follow the SDK's ``ChatCompletion`` and
``ChatCompletionChunk`` models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .openai_payloads import (
    CREATED,
    SYSTEM_FINGERPRINT,
    ApiError,
    count_tokens,
    dumps,
    message_text,
    schema_example,
    split_tokens,
)


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass
class Choice:
    index: int
    content: str | None
    finish_reason: str
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass
class ChatPlan:
    """What the fake "model" decided to answer; rendered as JSON or as SSE chunks."""

    id: str
    model: str
    choices: list[Choice]
    prompt_tokens: int
    logprobs: bool = False
    top_logprobs: int = 0

    @property
    def completion_tokens(self) -> int:
        total = 0
        for c in self.choices:
            total += count_tokens(c.content or "")
            total += sum(count_tokens(f"{t.name} {t.arguments}") for t in c.tool_calls)
        return total


def _function_tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    tools = body.get("tools") or []
    tools = tools if isinstance(tools, list) else []
    return [
        t["function"]
        for t in tools
        if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("function"), dict)
    ]


def _pick_tools(body: dict[str, Any], last_role: str) -> list[dict[str, Any]]:
    """Which tools the fake calls, following OpenAI's tool_choice semantics."""
    tools = _function_tools(body)
    choice = body.get("tool_choice", "auto")
    if not tools or choice == "none":
        return []
    if isinstance(choice, dict) and choice.get("type") == "function":
        wanted = (choice.get("function") or {}).get("name")
        forced = [t for t in tools if t.get("name") == wanted]
        if not forced:
            raise ApiError(400, f"Tool '{wanted}' not found in 'tools'.", param="tool_choice")
        return forced
    if choice != "required" and last_role != "user":
        return []
    parallel = body.get("parallel_tool_calls", True) is not False
    return tools[:2] if parallel and len(tools) >= 2 else tools[:1]


def _text_reply(body: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    if messages[-1].get("role") == "tool":
        # Mention every trailing tool result (parallel calls answer with several).
        results: list[str] = []
        for m in reversed(messages):
            if m.get("role") != "tool":
                break
            results.insert(0, message_text(m))
        reply = "fake reply to tool result: " + "; ".join(results)
    else:
        last_user: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        reply = "fake reply to: " + message_text(last_user)
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {}
        return dumps(schema_example(schema, schema))
    if fmt.get("type") == "json_object":
        return dumps({"reply": reply})
    return reply


def _truncate(text: str, body: dict[str, Any]) -> tuple[str, str]:
    """Apply ``stop`` then ``max_(completion_)tokens``; returns (text, finish_reason)."""
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    cut = min((i for s in stops if isinstance(s, str) and s and (i := text.find(s)) >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    limit = body.get("max_completion_tokens")
    if limit is None:  # the newer name wins; the legacy one is the fallback
        limit = body.get("max_tokens")
    tokens = split_tokens(text)
    if isinstance(limit, int) and len(tokens) > limit:
        return "".join(tokens[:limit]), "length"
    return text, "stop"


def validate_chat(body: Any) -> None:
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise ApiError(400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "[] is too short - 'messages'", param="messages")
    if not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "Invalid type for 'messages': expected an array of objects.", param="messages")
    n = body.get("n")
    if n is not None and (not isinstance(n, int) or not 1 <= n <= 128):
        raise ApiError(400, f"{n!r} is not valid under any of the given schemas - 'n'", param="n")
    if body.get("stream_options") is not None and body.get("stream") is not True:
        msg = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        raise ApiError(400, msg, param="stream_options")


def plan_chat(body: dict[str, Any], seq: int) -> ChatPlan:
    """Decide the deterministic answer for a validated chat.completions request body."""
    messages: list[dict[str, Any]] = body["messages"]
    tools = _pick_tools(body, str(messages[-1].get("role")))
    choices: list[Choice] = []
    for i in range(body.get("n") or 1):
        if tools:
            calls = []
            for k, t in enumerate(tools):
                params = t.get("parameters") or {"type": "object", "properties": {}}
                args = dumps(schema_example(params, params, "arg"))
                calls.append(ToolCall(f"call_fake_{seq}_{i}_{k}", str(t.get("name")), args))
            choices.append(Choice(i, None, "tool_calls", calls))
        else:
            text, reason = _truncate(_text_reply(body, messages), body)
            choices.append(Choice(i, text, reason))
    return ChatPlan(
        id=f"chatcmpl-fake-{seq}",
        model=body["model"],
        choices=choices,
        prompt_tokens=sum(count_tokens(message_text(m)) for m in messages),
        logprobs=body.get("logprobs") is True,
        top_logprobs=int(body.get("top_logprobs") or 0),
    )


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def token_logprobs(tokens: list[str], start: int, top: int) -> list[dict[str, Any]]:
    """Deterministic logprob entries; ``start`` keeps values stable across stream chunks."""
    out: list[dict[str, Any]] = []
    for offset, tok in enumerate(tokens):
        lp = -round(0.01 * ((start + offset) % 7 + 1), 4)
        alts = [{"token": tok, "logprob": lp, "bytes": list(tok.encode())}]
        alts += [
            {"token": f"alt{j}", "logprob": lp - j, "bytes": list(f"alt{j}".encode())} for j in range(1, top)
        ]
        out.append({"token": tok, "logprob": lp, "bytes": list(tok.encode()), "top_logprobs": alts[:top]})
    return out


def _tool_call_json(t: ToolCall) -> dict[str, Any]:
    return {"id": t.id, "type": "function", "function": {"name": t.name, "arguments": t.arguments}}


def completion_json(plan: ChatPlan) -> dict[str, Any]:
    choices = []
    for c in plan.choices:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": c.content,
            "refusal": None,
            "annotations": [],
        }
        if c.tool_calls:
            message["tool_calls"] = [_tool_call_json(t) for t in c.tool_calls]
        logprobs = None
        if plan.logprobs and c.content is not None:
            content_lp = token_logprobs(split_tokens(c.content), 0, plan.top_logprobs)
            logprobs = {"content": content_lp, "refusal": None}
        choices.append(
            {
                "index": c.index,
                "message": message,
                "logprobs": logprobs,
                "finish_reason": c.finish_reason,
            }
        )
    return {
        "id": plan.id,
        "object": "chat.completion",
        "created": CREATED,
        "model": plan.model,
        "choices": choices,
        "usage": usage(plan.prompt_tokens, plan.completion_tokens),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _fragments(text: str, pieces: int = 4) -> list[str]:
    size = max(1, math.ceil(len(text) / pieces))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _choice_events(plan: ChatPlan, c: Choice) -> list[tuple[dict[str, Any], Any]]:
    """(delta, logprobs) pairs for one choice, in the order OpenAI streams them."""
    if c.tool_calls:
        events: list[tuple[dict[str, Any], Any]] = [
            ({"role": "assistant", "content": None, "refusal": None}, None)
        ]
        for k, t in enumerate(c.tool_calls):
            head = {"index": k, "id": t.id, "type": "function"}
            head["function"] = {"name": t.name, "arguments": ""}
            events.append(({"tool_calls": [head]}, None))
            events += [
                ({"tool_calls": [{"index": k, "function": {"arguments": frag}}]}, None)
                for frag in _fragments(t.arguments)
            ]
        return events
    events = [({"role": "assistant", "content": "", "refusal": None}, None)]
    for pos, tok in enumerate(split_tokens(c.content or "")):
        lp = None
        if plan.logprobs:
            lp = {"content": token_logprobs([tok], pos, plan.top_logprobs), "refusal": None}
        events.append(({"content": tok}, lp))
    return events


def stream_chunks(plan: ChatPlan, include_usage: bool) -> list[dict[str, Any]]:
    """All ``chat.completion.chunk`` objects of a stream, without the ``[DONE]`` sentinel."""

    def chunk(choices: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": plan.id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": plan.model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": choices,
        }
        if include_usage:
            out["usage"] = None  # present-but-null on every chunk except the last
        return out

    per_choice = [_choice_events(plan, c) for c in plan.choices]
    chunks: list[dict[str, Any]] = []
    # Interleave choices round-robin, as OpenAI does for n > 1.
    for step in range(max(len(e) for e in per_choice)):
        for c, events in zip(plan.choices, per_choice, strict=True):
            if step < len(events):
                delta, lp = events[step]
                choice = {"index": c.index, "delta": delta, "logprobs": lp, "finish_reason": None}
                chunks.append(chunk([choice]))
    for c in plan.choices:
        choice = {"index": c.index, "delta": {}, "logprobs": None, "finish_reason": c.finish_reason}
        chunks.append(chunk([choice]))
    if include_usage:
        final = chunk([])
        final["usage"] = usage(plan.prompt_tokens, plan.completion_tokens)
        chunks.append(final)
    return chunks
