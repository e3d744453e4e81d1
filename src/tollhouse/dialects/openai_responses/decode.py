"""Responses bodies (already validated) → canonical requests.

``instructions`` become the system message; ``input`` items become messages in order, with
consecutive ``function_call`` items joined to the assistant turn before them (the shape
Chat-style APIs need). Reasoning items are dropped: only OpenAI itself can read them back.
"""

from __future__ import annotations

from typing import Any

from tollhouse.model.chat import (
    ChatRequest,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ToolCall,
    ToolChoice,
    ToolSpec,
)

# Everything decode_responses reads into a typed field; the rest goes to ChatRequest.extra.
_FIELDS = frozenset({
    "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "text",
    "max_output_tokens", "temperature", "top_p", "stream", "user", "reasoning", "top_logprobs",
})  # fmt: skip


def _part(raw: dict[str, Any]) -> ContentPart:
    kind = raw["type"]
    if kind == "input_image":
        url = raw.get("image_url")
        if isinstance(url, str):
            return ImagePart(url=url, detail=raw.get("detail"))
        return FilePart(file_id=raw.get("file_id"))
    if kind == "input_file":
        return FilePart(
            file_id=raw.get("file_id"),
            data=raw.get("file_data") or raw.get("file_url"),
            filename=raw.get("filename"),
        )
    return TextPart(text=str(raw.get("text") or raw.get("refusal") or ""))


def _content(raw: Any) -> str | tuple[ContentPart, ...]:
    if isinstance(raw, str):
        return raw
    parts = tuple(_part(p) for p in raw)
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    return parts


def _messages(body: dict[str, Any]) -> list[Message]:
    messages: list[Message] = []
    if body.get("instructions"):
        messages.append(Message(role="system", content=body["instructions"]))
    data = body["input"]
    if isinstance(data, str):
        messages.append(Message(role="user", content=data))
        return messages
    for item in data:
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(Message(role=item["role"], content=_content(item["content"])))
        elif kind == "function_call":
            call = ToolCall(id=item["call_id"], name=item["name"], arguments=item["arguments"])
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant":
                messages[-1] = Message(
                    role="assistant", content=last.content, tool_calls=(*last.tool_calls, call)
                )
            else:
                messages.append(Message(role="assistant", content=None, tool_calls=(call,)))
        elif kind == "function_call_output":
            messages.append(
                Message(role="tool", content=_content(item["output"]), tool_call_id=item["call_id"])
            )
    return messages


def _tool_choice(raw: Any) -> ToolChoice | None:
    if raw is None or isinstance(raw, str):
        return raw
    return str(raw["name"])


def _response_format(body: dict[str, Any]) -> ResponseFormat | None:
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict):
        return None
    if fmt["type"] != "json_schema":
        return ResponseFormat(type=fmt["type"])
    return ResponseFormat(
        type="json_schema", name=fmt.get("name"), schema=fmt.get("schema"), strict=fmt.get("strict")
    )


def decode_responses(body: dict[str, Any]) -> ChatRequest:
    """A validated Responses body as a ``ChatRequest``."""
    extra = {k: v for k, v in body.items() if k not in _FIELDS}
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict) and isinstance(reasoning.get("effort"), str):
        extra["reasoning_effort"] = reasoning["effort"]  # the Chat Completions name, read by translators
    top_logprobs = body.get("top_logprobs")
    return ChatRequest(
        model=body["model"],
        messages=tuple(_messages(body)),
        stream=body.get("stream") is True,
        include_usage=True,  # response.completed always carries usage
        max_tokens=body.get("max_output_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        tools=tuple(
            ToolSpec(
                name=t["name"],
                description=t.get("description"),
                parameters=t.get("parameters"),
                strict=t.get("strict"),
            )
            for t in body.get("tools") or ()
        ),
        tool_choice=_tool_choice(body.get("tool_choice")),
        parallel_tool_calls=body.get("parallel_tool_calls"),
        response_format=_response_format(body),
        logprobs=isinstance(top_logprobs, int) and top_logprobs > 0,
        top_logprobs=top_logprobs if isinstance(top_logprobs, int) else None,
        user=body.get("user") if isinstance(body.get("user"), str) else None,
        extra=extra,
    )
