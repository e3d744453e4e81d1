"""Canonical chat request → Bedrock Converse request body, field by field."""

from __future__ import annotations

import re
from typing import Any

from tollhouse.errors import InvalidRequest
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
from tollhouse.providers.bedrock.wire import (
    JSON_TOOL,
    ContentBlock,
    ConverseRequest,
    InferenceConfig,
    SystemBlock,
    Tool,
    ToolChoice,
    ToolConfig,
    ToolResultContent,
)
from tollhouse.providers.bedrock.wire import Message as WireMessage
from tollhouse.providers.media import file_data, image_format, parse_data_url
from tollhouse.providers.tool_args import parse_arguments

_DOC_FORMATS = {
    "application/pdf": "pdf", "text/csv": "csv", "text/html": "html", "text/plain": "txt", "text/markdown": "md",
    "application/msword": "doc", "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}  # fmt: skip
_EFFORT_BUDGET = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}


def json_tool_name(fmt: ResponseFormat | None) -> str | None:
    """The tool a JSON-mode request forces; ``None`` without JSON mode."""
    if fmt is None or fmt.type == "text":
        return None
    return fmt.name or JSON_TOOL


def _cache(part: TextPart) -> list[ContentBlock]:
    return [{"cachePoint": {"type": "default"}}] if part.cache_control is not None else []


def _image(part: ImagePart) -> ContentBlock:
    inline = parse_data_url(part.url)
    if inline is not None:
        return {"image": {"format": image_format(inline.media_type), "source": {"bytes": inline.data}}}
    if part.url.startswith("s3://"):
        ext = part.url.rsplit(".", 1)[-1]
        return {
            "image": {"format": image_format(f"image/{ext}"), "source": {"s3Location": {"uri": part.url}}}
        }
    raise InvalidRequest(
        "Bedrock takes images as data: URLs or s3:// locations, not web URLs", param="messages"
    )


def _document(part: FilePart, index: int) -> ContentBlock:
    if part.data is None:
        raise InvalidRequest("Bedrock takes files as inline data (file_data)", param="messages")
    inline = file_data(part.data)
    doc_format = _DOC_FORMATS.get(inline.media_type)
    if doc_format is None:
        raise InvalidRequest(f"Bedrock cannot read documents of type {inline.media_type}", param="messages")
    # Names allow letters, digits, whitespace, hyphens, parentheses and brackets only.
    stem = (part.filename or f"document-{index}").rsplit(".", 1)[0]
    name = re.sub(r"[^A-Za-z0-9\s\-()\[\]]", "-", stem)[:200] or f"document-{index}"
    return {"document": {"format": doc_format, "name": name, "source": {"bytes": inline.data}}}


def _blocks(content: str | tuple[ContentPart, ...] | None) -> list[ContentBlock]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    out: list[ContentBlock] = []
    for i, part in enumerate(content):
        if isinstance(part, TextPart):
            out.append({"text": part.text})
            out.extend(_cache(part))
        elif isinstance(part, ImagePart):
            out.append(_image(part))
        elif isinstance(part, FilePart):
            out.append(_document(part, i))
        elif isinstance(part, ReasoningPart):
            if part.redacted is not None:
                out.append({"reasoningContent": {"redactedContent": part.redacted}})
            else:
                text: Any = {"text": part.text, **({"signature": part.signature} if part.signature else {})}
                out.append({"reasoningContent": {"reasoningText": text}})
        else:
            assert isinstance(part, AudioPart)
            raise InvalidRequest("Bedrock Converse does not accept audio input", param="messages")
    return out


def _tool_result(message: Message) -> ContentBlock:
    content: list[ToolResultContent] = [
        {"text": b["text"]} if "text" in b else {"image": b["image"]}
        for b in _blocks(message.content)
        if "text" in b or "image" in b
    ]
    return {"toolResult": {"toolUseId": message.tool_call_id or "", "content": content or [{"text": ""}]}}


def _messages(messages: tuple[Message, ...]) -> list[WireMessage]:
    out: list[WireMessage] = []
    for message in messages:
        if message.role in ("system", "developer"):
            continue
        blocks: list[ContentBlock]
        if message.role == "tool":
            role, blocks = "user", [_tool_result(message)]
        elif message.role == "assistant":
            role = "assistant"
            blocks = _blocks(message.content) + [
                {"toolUse": {"toolUseId": c.id, "name": c.name, "input": parse_arguments(c.arguments, c.id)}}
                for c in message.tool_calls
            ]
        else:
            role, blocks = "user", _blocks(message.content)
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})  # type: ignore[typeddict-item]
    return out


def _system(messages: tuple[Message, ...]) -> list[SystemBlock]:
    out: list[SystemBlock] = []
    for message in messages:
        if message.role not in ("system", "developer"):
            continue
        for block in _blocks(message.content):
            if "text" in block:
                out.append({"text": block["text"]})
            elif "cachePoint" in block:
                out.append({"cachePoint": block["cachePoint"]})
    return out


def _tool_config(request: ChatRequest, json_tool: str | None, history_has_tools: bool) -> ToolConfig | None:
    tools: list[Tool] = []
    for spec in request.tools:
        tool: Tool = {
            "toolSpec": {
                "name": spec.name,
                "inputSchema": {"json": spec.parameters or {"type": "object", "properties": {}}},
            }
        }
        if spec.description:
            tool["toolSpec"]["description"] = spec.description
        tools.append(tool)
        if spec.cache_control is not None:
            tools.append({"cachePoint": {"type": "default"}})
    fmt = request.response_format
    if json_tool is not None and fmt is not None:
        schema = fmt.schema or {"type": "object"}
        tools.append(
            {
                "toolSpec": {
                    "name": json_tool,
                    "description": "Respond with JSON of this shape.",
                    "inputSchema": {"json": schema},
                }
            }
        )
    choice = request.tool_choice
    if not tools or (choice == "none" and not history_has_tools):
        return None  # Converse has no "none": a call without tools cannot call one
    config: ToolConfig = {"tools": tools}
    forced: ToolChoice | None = None
    if json_tool is not None:
        forced = {"tool": {"name": json_tool}}
    elif choice == "auto":
        forced = {"auto": {}}
    elif choice == "required":
        forced = {"any": {}}
    elif choice is not None and choice != "none":
        forced = {"tool": {"name": choice}}
    if forced is not None:
        config["toolChoice"] = forced
    return config


def _additional(request: ChatRequest) -> dict[str, Any]:
    """Model-specific fields Converse passes to the model as is (top_k, Claude's thinking)."""
    extra: dict[str, Any] = {}
    top_k = request.extra.get("top_k")
    if isinstance(top_k, int) and not isinstance(top_k, bool):
        extra["top_k"] = top_k
    thinking = request.extra.get("thinking")
    effort = request.extra.get("reasoning_effort")
    if isinstance(thinking, dict) and isinstance(thinking.get("budget_tokens"), int):
        extra["thinking"] = {"type": "enabled", "budget_tokens": thinking["budget_tokens"]}
    elif isinstance(effort, str) and effort in _EFFORT_BUDGET:
        extra["thinking"] = {"type": "enabled", "budget_tokens": _EFFORT_BUDGET[effort]}
    return extra


def build_request(request: ChatRequest) -> ConverseRequest:
    """The Converse body for ``request`` (the model id goes in the URL).

    ``n`` > 1 and ``logprobs`` are refused; ``seed`` and ``user`` have no Converse field.
    """
    if request.n != 1:
        raise InvalidRequest("Bedrock Converse returns one choice; n must be 1", param="n")
    if request.logprobs:
        raise InvalidRequest("Bedrock Converse does not return logprobs", param="logprobs")
    json_tool = json_tool_name(request.response_format)
    body: ConverseRequest = {"messages": _messages(request.messages)}
    system = _system(request.messages)
    if system:
        body["system"] = system
    inference: InferenceConfig = {}
    if request.max_tokens is not None:
        inference["maxTokens"] = request.max_tokens
    if request.temperature is not None:
        inference["temperature"] = request.temperature
    if request.top_p is not None:
        inference["topP"] = request.top_p
    if request.stop:
        inference["stopSequences"] = list(request.stop)
    if inference:
        body["inferenceConfig"] = inference
    history_has_tools = any(m.tool_calls or m.role == "tool" for m in request.messages)
    tools = _tool_config(request, json_tool, history_has_tools)
    if tools is not None:
        body["toolConfig"] = tools
    additional = _additional(request)
    if additional:
        body["additionalModelRequestFields"] = additional
    return body
