"""Outgoing OpenAI-compatible bodies: the passthrough lane and the canonical translation.

Passthrough (the caller speaks OpenAI): the caller's body is forwarded as sent (unknown
fields included, since they are meaningful to OpenAI-compatible servers) except the model,
the catalog row's quirks, and ``stream_options.include_usage``, which the gateway always
asks for so it can meter streams.

Translation (the caller speaks another dialect): a ``ChatRequest`` becomes a Chat
Completions body built field by field from typed shapes (``wire``); nothing of the
caller's own dialect is copied over, so its private fields never reach this upstream.
"""

from __future__ import annotations

from typing import Any, cast

import orjson

from tollhouse.model.chat import (
    AudioPart,
    ChatRequest,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    ReasoningPart,
    ResponseFormat,
    TextPart,
)
from tollhouse.providers.openai_compatible import wire
from tollhouse.providers.openai_compatible.catalog import CatalogRow
from tollhouse.providers.openai_compatible.tool_ids import reshaped_ids

_EFFORTS = frozenset({"minimal", "low", "medium", "high"})


def passthrough_body(payload: dict[str, Any], model: str, row: CatalogRow) -> bytes:
    body = dict(payload)
    body["model"] = model
    if body.get("stream") is True and "stream_options" not in row.drop_params:
        options = body.get("stream_options")
        if not (isinstance(options, dict) and options.get("include_usage") is True):
            body["stream_options"] = {**(options or {}), "include_usage": True}
    return orjson.dumps(_apply_quirks(body, row))


def _apply_quirks(body: dict[str, Any], row: CatalogRow) -> dict[str, Any]:
    for key in row.drop_params:
        body.pop(key, None)
    for ours, theirs in row.rename_params:
        if ours in body:
            body[theirs] = body.pop(ours)
    if row.tool_call_id_size is not None and "messages" in body:
        body["messages"] = reshaped_ids(body["messages"], row.tool_call_id_size)
    return body


def _part(part: ContentPart) -> wire.ContentPart | None:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        image: wire.ImageURL = {"url": part.url}
        if part.detail is not None:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    if isinstance(part, AudioPart):
        return {"type": "input_audio", "input_audio": {"data": part.data, "format": part.format}}
    if isinstance(part, FilePart):
        data: wire.FileData = {}
        if part.file_id is not None:
            data["file_id"] = part.file_id
        if part.data is not None:
            data["file_data"] = part.data
        if part.filename is not None:
            data["filename"] = part.filename
        return {"type": "file", "file": data}
    return None  # reasoning: Chat Completions has no way to send it back


def _text(content: str | tuple[ContentPart, ...] | None, sep: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return sep.join(p.text for p in content if isinstance(p, TextPart))


def _user_content(content: str | tuple[ContentPart, ...] | None) -> str | list[wire.ContentPart]:
    if content is None or isinstance(content, str):
        return content or ""
    parts = [p for p in content if not isinstance(p, ReasoningPart)]
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text  # a plain string is what every compatible server accepts
    return [w for p in parts if (w := _part(p)) is not None]


def _assistant(message: Message) -> wire.Message:
    out: wire.Message = {"role": "assistant"}
    text = _text(message.content, "")
    out["content"] = text if text or not message.tool_calls else None
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments or "{}"}}
            for c in message.tool_calls
        ]
    return out


def _messages(messages: tuple[Message, ...]) -> list[wire.Message]:
    """Canonical messages as Chat Completions messages.

    Tool results carry text only in this API, so images inside a tool result follow the run
    of tool messages as one user message (tool messages must directly follow their call).
    """
    out: list[wire.Message] = []
    held: list[wire.ContentPart] = []
    for message in messages:
        if held and message.role != "tool":
            out.append({"role": "user", "content": held})
            held = []
        if message.role in ("system", "developer"):
            out.append({"role": "system", "content": _text(message.content, "\n")})
        elif message.role == "user":
            user: wire.Message = {"role": "user", "content": _user_content(message.content)}
            if message.name:
                user["name"] = message.name
            out.append(user)
        elif message.role == "assistant":
            out.append(_assistant(message))
        else:
            parts = () if isinstance(message.content, str | None) else message.content
            held.extend(w for p in parts if not isinstance(p, TextPart) and (w := _part(p)) is not None)
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": message.tool_call_id or "",
                    "content": _text(message.content, "\n"),
                }
            )
    if held:
        out.append({"role": "user", "content": held})
    return out


def _response_format(fmt: ResponseFormat) -> wire.ResponseFormat:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    schema: wire.JSONSchema = {"name": fmt.name or "response"}
    if fmt.schema is not None:
        schema["schema"] = fmt.schema
    if fmt.strict is not None:
        schema["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": schema}


def _tools(request: ChatRequest, body: wire.ChatCompletionRequest) -> None:
    if not request.tools:
        return
    tools: list[wire.Tool] = []
    for spec in request.tools:
        fn: wire.FunctionSpec = {"name": spec.name}
        if spec.description is not None:
            fn["description"] = spec.description
        fn["parameters"] = (
            spec.parameters if spec.parameters is not None else {"type": "object", "properties": {}}
        )
        if spec.strict is not None:
            fn["strict"] = spec.strict
        tools.append({"type": "function", "function": fn})
    body["tools"] = tools
    choice = request.tool_choice
    if choice in ("auto", "none", "required"):
        body["tool_choice"] = choice
    elif choice is not None:
        body["tool_choice"] = {"type": "function", "function": {"name": choice}}
    if request.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = request.parallel_tool_calls


def translated_request(request: ChatRequest, model: str, row: CatalogRow, stream: bool) -> dict[str, Any]:
    """``request`` as a Chat Completions body for ``model`` (a dict, for tests to read)."""
    body: wire.ChatCompletionRequest = {"model": model, "messages": _messages(request.messages)}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if request.max_tokens is not None:
        body[row.max_tokens_param] = request.max_tokens  # type: ignore[literal-required]
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        body["seed"] = request.seed
    _tools(request, body)
    if request.response_format is not None:
        body["response_format"] = _response_format(request.response_format)
    if request.logprobs:
        body["logprobs"] = True
        if request.top_logprobs is not None:
            body["top_logprobs"] = request.top_logprobs
    if request.user is not None:
        body["user"] = request.user
    effort = request.extra.get("reasoning_effort")
    if isinstance(effort, str) and effort in _EFFORTS:  # a caller's value: may be unhashable
        body["reasoning_effort"] = effort
    return _apply_quirks(cast(dict[str, Any], body), row)


def translated_body(request: ChatRequest, model: str, row: CatalogRow, stream: bool) -> bytes:
    """The encoded Chat Completions body for a request that arrived in another dialect."""
    return orjson.dumps(translated_request(request, model, row, stream))
