"""Canonical chat request → Cohere v2 chat body, field by field."""

from __future__ import annotations

from typing import Any

from tollhouse.errors import InvalidRequest
from tollhouse.model.chat import (
    ChatRequest,
    ContentPart,
    ImagePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolSpec,
)
from tollhouse.providers.cohere import wire

_EFFORT_BUDGET = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}


def _user(content: str | tuple[ContentPart, ...] | None) -> str | list[wire.TextContent | wire.ImageContent]:
    if content is None or isinstance(content, str):
        return content or ""
    out: list[wire.TextContent | wire.ImageContent] = []
    for part in content:
        if isinstance(part, TextPart):
            out.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            image: wire.ImageURL = {"url": part.url}
            if part.detail is not None:
                image["detail"] = part.detail
            out.append({"type": "image_url", "image_url": image})
        else:
            raise InvalidRequest(f"Cohere chat does not accept {part.type} content", param="messages")
    return out


def _assistant(message: Message) -> wire.AssistantMessage:
    out: wire.AssistantMessage = {"role": "assistant"}
    parts = message.content if isinstance(message.content, tuple) else ()
    plan = "".join(p.text for p in parts if isinstance(p, ReasoningPart))
    text = message.text()
    if message.tool_calls:
        if plan or text:
            out["tool_plan"] = plan or text  # Cohere pairs tool calls with a plan, not content
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    elif text:
        out["content"] = text
    return out


def _message(message: Message) -> wire.Message:
    if message.role in ("system", "developer"):
        return {"role": "system", "content": message.text()}
    if message.role == "assistant":
        return _assistant(message)
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.text()}
    return {"role": "user", "content": _user(message.content)}


def _tool(spec: ToolSpec) -> wire.Tool:
    function: wire.FunctionSpec = {
        "name": spec.name,
        "parameters": spec.parameters or {"type": "object", "properties": {}},
    }
    if spec.description:
        function["description"] = spec.description
    return {"type": "function", "function": function}


def _number(extra: dict[str, Any], key: str) -> float | None:
    value = extra.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _options(request: ChatRequest, body: wire.ChatRequest) -> None:
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["p"] = request.top_p
    top_k = request.extra.get("top_k")
    if isinstance(top_k, int) and not isinstance(top_k, bool):
        body["k"] = top_k
    if request.seed is not None:
        body["seed"] = request.seed
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    frequency = _number(request.extra, "frequency_penalty")
    if frequency is not None:
        body["frequency_penalty"] = frequency
    presence = _number(request.extra, "presence_penalty")
    if presence is not None:
        body["presence_penalty"] = presence
    if request.logprobs:
        body["logprobs"] = True
    effort = request.extra.get("reasoning_effort")
    if isinstance(effort, str) and effort in _EFFORT_BUDGET:
        body["thinking"] = {"type": "enabled", "token_budget": _EFFORT_BUDGET[effort]}


def build_request(request: ChatRequest, model: str, stream: bool) -> wire.ChatRequest:
    """The ``/v2/chat`` body. ``n`` > 1 is refused; a named ``tool_choice`` becomes
    ``REQUIRED`` with only that tool offered (Cohere cannot name one)."""
    if request.n != 1:
        raise InvalidRequest("Cohere returns one choice; n must be 1", param="n")
    body: wire.ChatRequest = {"model": model, "messages": [_message(m) for m in request.messages]}
    if stream:
        body["stream"] = True
    specs = request.tools
    choice = request.tool_choice
    if choice not in (None, "auto", "none", "required"):
        specs = tuple(s for s in specs if s.name == choice)
        choice = "required"
    if specs:
        body["tools"] = [_tool(s) for s in specs]
        if any(s.strict for s in specs):
            body["strict_tools"] = True
    if choice == "required":
        body["tool_choice"] = "REQUIRED"
    elif choice == "none" and specs:
        body["tool_choice"] = "NONE"
    fmt = request.response_format
    if fmt is not None and fmt.type != "text":
        response_format: wire.ResponseFormat = {"type": "json_object"}
        if fmt.schema:
            response_format["json_schema"] = fmt.schema
        body["response_format"] = response_format
    _options(request, body)
    return body
