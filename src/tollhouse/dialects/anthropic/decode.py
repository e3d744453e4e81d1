"""Anthropic Messages bodies (already validated) → canonical requests.

A user turn's ``tool_result`` blocks become ``tool`` messages ahead of the rest of that turn
(the order Chat-style APIs need); assistant ``thinking`` / ``redacted_thinking`` blocks become
``ReasoningPart``s with their signature, so a provider that checks signatures gets them back.
Structured outputs (``output_config.format``, a JSON schema) become the canonical
``response_format``, so every provider applies its own JSON mode. Fields the canonical model
does not carry (``thinking``, ``top_k``, server tools, ``output_config.effort``…) stay in
``ChatRequest.extra`` under their Anthropic names.
"""

from __future__ import annotations

from typing import Any

import orjson

from tollhouse.model.chat import (
    ChatRequest,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    ReasoningPart,
    ResponseFormat,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolSpec,
)

# Everything decode_messages reads into a typed field; the rest goes to ChatRequest.extra.
_FIELDS = frozenset({
    "model", "messages", "system", "max_tokens", "temperature", "top_p", "stop_sequences",
    "stream", "tools", "tool_choice", "metadata",
})  # fmt: skip


def _source_url(source: dict[str, Any], default_type: str) -> str:
    if source.get("type") == "url":
        return str(source.get("url") or "")
    media = source.get("media_type") or default_type
    return f"data:{media};base64,{source.get('data') or ''}"


def _part(block: dict[str, Any]) -> ContentPart | None:
    kind = block["type"]
    if kind == "text":
        return TextPart(text=block["text"], cache_control=block.get("cache_control"))
    if kind == "image":
        return ImagePart(url=_source_url(block["source"], "image/png"))
    if kind == "document":
        source = block["source"]
        if source.get("type") == "text":
            return TextPart(text=str(source.get("data") or ""))
        if source.get("type") == "file":
            return FilePart(file_id=source.get("file_id"), filename=block.get("title"))
        return FilePart(data=_source_url(source, "application/pdf"), filename=block.get("title"))
    if kind == "thinking":
        return ReasoningPart(text=str(block.get("thinking") or ""), signature=block.get("signature"))
    if kind == "redacted_thinking":
        return ReasoningPart(redacted=str(block.get("data") or ""))
    return None  # server-tool blocks, search results…: nothing to carry outside Anthropic


def _content(parts: list[ContentPart]) -> str | tuple[ContentPart, ...] | None:
    if not parts:
        return None
    if len(parts) == 1 and isinstance(parts[0], TextPart) and parts[0].cache_control is None:
        return parts[0].text
    return tuple(parts)


def _tool_result(block: dict[str, Any]) -> Message:
    raw = block.get("content")
    if isinstance(raw, list):
        parts = [p for b in raw if isinstance(b, dict) and (p := _part(b)) is not None]
        content: str | tuple[ContentPart, ...] | None = _content(parts) or ""
    else:
        content = raw if isinstance(raw, str) else ""
    return Message(role="tool", content=content, tool_call_id=block["tool_use_id"])


def _turn(raw: dict[str, Any]) -> list[Message]:
    role = raw["role"]
    content = raw["content"]
    if isinstance(content, str):
        return [Message(role=role, content=content)]
    out: list[Message] = []
    parts: list[ContentPart] = []
    calls: list[ToolCall] = []
    for block in content:
        if block["type"] == "tool_result":
            out.append(_tool_result(block))
        elif block["type"] == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            calls.append(ToolCall(id=block["id"], name=block["name"], arguments=arguments))
        elif (part := _part(block)) is not None:
            parts.append(part)
    if parts or calls or not out:
        out.append(Message(role=role, content=_content(parts), tool_calls=tuple(calls)))
    return out


def _system(raw: Any) -> Message | None:
    if raw is None or raw == "" or raw == []:
        return None
    if isinstance(raw, str):
        return Message(role="system", content=raw)
    parts = [p for b in raw if (p := _part(b)) is not None]
    return Message(role="system", content=_content(parts))


def _tool_choice(raw: Any) -> tuple[ToolChoice | None, bool | None]:
    if not isinstance(raw, dict):
        return None, None
    parallel = False if raw.get("disable_parallel_tool_use") is True else None
    kind = raw["type"]
    if kind == "any":
        return "required", parallel
    if kind == "tool":
        return str(raw["name"]), parallel
    return kind, parallel  # "auto" / "none"


def _tools(raw: Any) -> tuple[tuple[ToolSpec, ...], list[Any]]:
    """Client tools as ``ToolSpec``s; Anthropic's server tools (typed, no schema) kept apart."""
    specs: list[ToolSpec] = []
    server: list[Any] = []
    for tool in raw or ():
        if tool.get("type") not in (None, "custom"):
            server.append(tool)
            continue
        specs.append(
            ToolSpec(
                name=tool["name"],
                description=tool.get("description"),
                parameters=tool.get("input_schema"),
                strict=tool.get("strict"),
                cache_control=tool.get("cache_control"),
            )
        )
    return tuple(specs), server


def _response_format(raw: Any) -> ResponseFormat | None:
    """``output_config.format`` (https://docs.claude.com/en/docs/build-with-claude/structured-outputs)
    as the canonical JSON schema mode."""
    fmt = raw.get("format") if isinstance(raw, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    return ResponseFormat(type="json_schema", schema=fmt.get("schema"))


def decode_messages(body: dict[str, Any]) -> ChatRequest:
    """A validated Messages body as a ``ChatRequest``."""
    messages: list[Message] = []
    system = _system(body.get("system"))
    if system is not None:
        messages.append(system)
    for raw in body["messages"]:
        messages.extend(_turn(raw))
    tools, server_tools = _tools(body.get("tools"))
    choice, parallel = _tool_choice(body.get("tool_choice"))
    metadata = body.get("metadata") or {}
    extra = {k: v for k, v in body.items() if k not in _FIELDS}
    config = extra.pop("output_config", None)
    if isinstance(config, dict) and (rest := {k: v for k, v in config.items() if k != "format"}):
        extra["output_config"] = rest  # e.g. effort; the format is response_format
    if server_tools:
        extra["server_tools"] = server_tools
    return ChatRequest(
        model=body["model"],
        messages=tuple(messages),
        stream=body.get("stream") is True,
        include_usage=True,  # Anthropic streams always carry usage
        max_tokens=body.get("max_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        stop=tuple(body.get("stop_sequences") or ()),
        tools=tools,
        tool_choice=choice,
        parallel_tool_calls=parallel,
        response_format=_response_format(body.get("output_config")),
        user=metadata.get("user_id") if isinstance(metadata.get("user_id"), str) else None,
        extra=extra,
    )
