"""Canonical chat request → Ollama ``/api/chat`` body, field by field."""

from __future__ import annotations

from typing import Any

from tollhouse.errors import InvalidRequest
from tollhouse.model.chat import ChatRequest, ImagePart, Message, ReasoningPart, TextPart
from tollhouse.providers.media import parse_data_url
from tollhouse.providers.ollama import wire
from tollhouse.providers.tool_args import parse_arguments


def _message(message: Message, names: dict[str, str]) -> wire.Message:
    role = "system" if message.role == "developer" else message.role
    out: wire.Message = {"role": role, "content": message.text()}
    parts = message.content if isinstance(message.content, tuple) else ()
    images = []
    for part in parts:
        if isinstance(part, ImagePart):
            inline = parse_data_url(part.url)
            if inline is None:
                raise InvalidRequest("Ollama takes images inline (data: URLs), not by URL", param="messages")
            images.append(inline.data)
        elif not isinstance(part, TextPart | ReasoningPart):
            raise InvalidRequest(f"Ollama chat does not accept {part.type} content", param="messages")
    if images:
        out["images"] = images
    thinking = "".join(p.text for p in parts if isinstance(p, ReasoningPart))
    if thinking:
        out["thinking"] = thinking
    if message.tool_calls:
        out["tool_calls"] = []
        for call in message.tool_calls:
            args = parse_arguments(call.arguments, call.id)
            if not isinstance(args, dict):
                raise InvalidRequest(
                    f"tool call {call.id!r}: Ollama needs object arguments", param="messages"
                )
            out["tool_calls"].append({"function": {"name": call.name, "arguments": args}})
    if message.role == "tool" and message.tool_call_id in names:
        out["tool_name"] = names[message.tool_call_id]
    return out


def _options(request: ChatRequest) -> wire.Options:
    options: wire.Options = {}
    if request.temperature is not None:
        options["temperature"] = request.temperature
    if request.top_p is not None:
        options["top_p"] = request.top_p
    if request.seed is not None:
        options["seed"] = request.seed
    if request.stop:
        options["stop"] = list(request.stop)
    if request.max_tokens is not None:
        options["num_predict"] = request.max_tokens
    extra: dict[str, Any] = request.extra
    if isinstance(extra.get("top_k"), int):
        options["top_k"] = extra["top_k"]
    if isinstance(extra.get("num_ctx"), int):
        options["num_ctx"] = extra["num_ctx"]
    for key in ("presence_penalty", "frequency_penalty"):
        value = extra.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            options[key] = float(value)
    return options


def build_request(request: ChatRequest, model: str, stream: bool) -> wire.ChatRequest:
    """The ``/api/chat`` body. Ollama has no ``tool_choice`` (tools are offered, the model
    decides; ``none`` offers none), no ``n`` and no logprobs."""
    if request.n != 1:
        raise InvalidRequest("Ollama returns one choice; n must be 1", param="n")
    names = {c.id: c.name for m in request.messages for c in m.tool_calls}
    body: wire.ChatRequest = {
        "model": model,
        "messages": [_message(m, names) for m in request.messages],
        "stream": stream,
    }
    if request.tools and request.tool_choice != "none":
        specs = request.tools
        if request.tool_choice not in (None, "auto", "required"):
            specs = tuple(s for s in specs if s.name == request.tool_choice)
        body["tools"] = []
        for spec in specs:
            function: wire.FunctionSpec = {
                "name": spec.name,
                "parameters": spec.parameters or {"type": "object", "properties": {}},
            }
            if spec.description:
                function["description"] = spec.description
            body["tools"].append({"type": "function", "function": function})
    fmt = request.response_format
    if fmt is not None and fmt.type != "text":
        body["format"] = fmt.schema if fmt.type == "json_schema" and fmt.schema else "json"
    options = _options(request)
    if options:
        body["options"] = options
    effort = request.extra.get("reasoning_effort")
    think = request.extra.get("think")
    if isinstance(think, bool):
        body["think"] = think
    elif isinstance(effort, str):
        body["think"] = effort != "minimal"
    keep_alive = request.extra.get("keep_alive")
    if isinstance(keep_alive, str | int) and not isinstance(keep_alive, bool):
        body["keep_alive"] = keep_alive
    return body
