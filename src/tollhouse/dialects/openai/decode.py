"""OpenAI wire bodies (already validated) → canonical requests."""

from __future__ import annotations

from typing import Any

from tollhouse.model.chat import (
    AudioPart,
    ChatRequest,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ToolCall,
    ToolSpec,
)
from tollhouse.model.embeddings import EmbeddingRequest

# Everything decode_chat reads into a typed field; the rest goes to ChatRequest.extra.
_CHAT_FIELDS = frozenset({
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
    "temperature", "top_p", "n", "stop", "seed", "tools", "tool_choice", "parallel_tool_calls",
    "response_format", "logprobs", "top_logprobs", "user",
})  # fmt: skip


def _part(raw: dict[str, Any]) -> ContentPart:
    kind = raw["type"]
    if kind == "image_url":
        image = raw.get("image_url") or {}
        return ImagePart(url=image.get("url", ""), detail=image.get("detail"))
    if kind == "input_audio":
        audio = raw.get("input_audio") or {}
        return AudioPart(data=audio.get("data", ""), format=audio.get("format", "wav"))
    if kind == "file":
        f = raw.get("file") or {}
        return FilePart(file_id=f.get("file_id"), data=f.get("file_data"), filename=f.get("filename"))
    return TextPart(text=raw.get("text") or raw.get("refusal") or "", cache_control=raw.get("cache_control"))


def _message(raw: dict[str, Any]) -> Message:
    content = raw.get("content")
    if isinstance(content, list):
        content = tuple(_part(p) for p in content)
    role = raw["role"]
    calls = tuple(
        ToolCall(id=c.get("id", ""), name=c["function"]["name"], arguments=c["function"].get("arguments", ""))
        for c in raw.get("tool_calls") or ()
    )
    return Message(
        role="tool" if role == "function" else role,
        content=content,
        name=raw.get("name"),
        tool_calls=calls,
        tool_call_id=raw.get("tool_call_id"),
    )


def _tool_choice(raw: Any) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    return str(raw["function"]["name"])


def _response_format(raw: dict[str, Any] | None) -> ResponseFormat | None:
    if raw is None:
        return None
    schema = raw.get("json_schema") or {}
    return ResponseFormat(
        type=raw["type"], name=schema.get("name"), schema=schema.get("schema"), strict=schema.get("strict")
    )


def decode_chat(body: dict[str, Any]) -> ChatRequest:
    """A validated Chat Completions body as a ``ChatRequest``."""
    stop = body.get("stop")
    stream_options = body.get("stream_options") or {}
    return ChatRequest(
        model=body["model"],
        messages=tuple(_message(m) for m in body["messages"]),
        stream=bool(body.get("stream")),
        include_usage=bool(stream_options.get("include_usage")),
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        n=body.get("n") or 1,
        stop=(stop,) if isinstance(stop, str) else tuple(stop or ()),
        seed=body.get("seed"),
        tools=tuple(
            ToolSpec(
                name=t["function"]["name"],
                description=t["function"].get("description"),
                parameters=t["function"].get("parameters"),
                strict=t["function"].get("strict"),
                cache_control=t.get("cache_control"),
            )
            for t in body.get("tools") or ()
        ),
        tool_choice=_tool_choice(body.get("tool_choice")),
        parallel_tool_calls=body.get("parallel_tool_calls"),
        response_format=_response_format(body.get("response_format")),
        logprobs=bool(body.get("logprobs")),
        top_logprobs=body.get("top_logprobs"),
        user=body.get("user"),
        extra={k: v for k, v in body.items() if k not in _CHAT_FIELDS},
    )


def decode_embeddings(body: dict[str, Any]) -> EmbeddingRequest:
    """A validated Embeddings body as an ``EmbeddingRequest``."""
    data = body["input"]
    inputs: tuple[Any, ...]
    if isinstance(data, str):
        inputs = (data,)
    elif isinstance(data[0], int):
        inputs = (tuple(data),)
    elif isinstance(data[0], list):
        inputs = tuple(tuple(x) for x in data)
    else:
        inputs = tuple(data)
    known = {"model", "input", "dimensions", "encoding_format", "user"}
    return EmbeddingRequest(
        model=body["model"],
        inputs=inputs,
        dimensions=body.get("dimensions"),
        encoding_format=body.get("encoding_format") or "float",
        user=body.get("user"),
        extra={k: v for k, v in body.items() if k not in known},
    )
