"""Canonical chat request → Anthropic Messages request body, field by field."""

from __future__ import annotations

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
from tollhouse.providers.anthropic.wire import (
    DEFAULT_MAX_TOKENS,
    JSON_TOOL,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    MessageParam,
    MessagesRequest,
    TextBlock,
    Thinking,
    Tool,
    ToolChoice,
    ToolResultBlock,
)
from tollhouse.providers.media import file_data, parse_data_url
from tollhouse.providers.tool_args import parse_arguments

# OpenAI's reasoning_effort as a thinking budget (Anthropic's minimum budget is 1024 tokens).
_EFFORT_BUDGET = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}


def json_tool_name(fmt: ResponseFormat | None) -> str | None:
    """The tool a JSON-mode request forces (Anthropic has no JSON mode); ``None`` without one."""
    if fmt is None or fmt.type == "text":
        return None
    return fmt.name or JSON_TOOL


def _text(part: TextPart) -> TextBlock:
    block: TextBlock = {"type": "text", "text": part.text}
    if part.cache_control is not None:
        block["cache_control"] = part.cache_control
    return block


def _image(part: ImagePart) -> ImageBlock:
    inline = parse_data_url(part.url)
    if inline is None:
        return {"type": "image", "source": {"type": "url", "url": part.url}}
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": inline.media_type, "data": inline.data},
    }


def _document(part: FilePart) -> DocumentBlock:
    if part.data is not None:
        inline = file_data(part.data)
        block: DocumentBlock = {
            "type": "document",
            "source": {"type": "base64", "media_type": inline.media_type, "data": inline.data},
        }
    elif part.file_id is not None:
        block = {"type": "document", "source": {"type": "file", "file_id": part.file_id}}
    else:
        raise InvalidRequest("a file part needs file_data or file_id", param="messages")
    if part.filename:
        block["title"] = part.filename
    return block


def _block(part: ContentPart) -> ContentBlock:
    if isinstance(part, TextPart):
        return _text(part)
    if isinstance(part, ImagePart):
        return _image(part)
    if isinstance(part, FilePart):
        return _document(part)
    if isinstance(part, ReasoningPart):
        if part.redacted is not None:
            return {"type": "redacted_thinking", "data": part.redacted}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    assert isinstance(part, AudioPart)
    raise InvalidRequest("Anthropic models do not accept audio input", param="messages")


def _blocks(content: str | tuple[ContentPart, ...] | None) -> list[ContentBlock]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [_block(p) for p in content]


def _tool_result(message: Message) -> ToolResultBlock:
    content = message.content
    body: str | list[TextBlock | ImageBlock]
    if content is None or isinstance(content, str):
        body = content or ""
    else:
        body = []
        for part in content:
            if isinstance(part, TextPart):
                body.append(_text(part))
            elif isinstance(part, ImagePart):
                body.append(_image(part))
    return {"type": "tool_result", "tool_use_id": message.tool_call_id or "", "content": body}


def _assistant(message: Message) -> list[ContentBlock]:
    blocks = _blocks(message.content)
    for call in message.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": parse_arguments(call.arguments, call.id),
            }
        )
    return blocks


def _system(messages: tuple[Message, ...]) -> str | list[TextBlock] | None:
    system = [m for m in messages if m.role in ("system", "developer")]
    if not system:
        return None
    if len(system) == 1 and isinstance(system[0].content, str):
        return system[0].content
    blocks: list[TextBlock] = []
    for message in system:
        if isinstance(message.content, str):
            blocks.append({"type": "text", "text": message.content})
        elif message.content:
            blocks.extend(_text(p) for p in message.content if isinstance(p, TextPart))
    return blocks


def _messages(messages: tuple[Message, ...]) -> list[MessageParam]:
    """Turns in Anthropic's shape: tool results are user blocks, consecutive same-role turns merge."""
    out: list[MessageParam] = []
    for message in messages:
        if message.role in ("system", "developer"):
            continue
        blocks: list[ContentBlock]
        if message.role == "tool":
            role, blocks = "user", [_tool_result(message)]
        elif message.role == "assistant":
            role, blocks = "assistant", _assistant(message)
        else:
            role, blocks = "user", _blocks(message.content)
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})  # type: ignore[typeddict-item]
    return out


def _tools(request: ChatRequest, json_tool: str | None) -> list[Tool]:
    tools: list[Tool] = []
    for spec in request.tools:
        tool: Tool = {
            "name": spec.name,
            "input_schema": spec.parameters or {"type": "object", "properties": {}},
        }
        if spec.description:
            tool["description"] = spec.description
        if spec.cache_control is not None:
            tool["cache_control"] = spec.cache_control
        tools.append(tool)
    fmt = request.response_format
    if json_tool is not None and fmt is not None:
        schema = fmt.schema or {"type": "object", "additionalProperties": True}
        tools.append(
            {"name": json_tool, "description": "Respond with JSON of this shape.", "input_schema": schema}
        )
    return tools


def _tool_choice(request: ChatRequest, json_tool: str | None) -> ToolChoice | None:
    if json_tool is not None:
        return {"type": "tool", "name": json_tool}
    choice = request.tool_choice
    out: ToolChoice | None
    if choice is None:
        out = {"type": "auto"} if request.parallel_tool_calls is False and request.tools else None
    elif choice == "auto":
        out = {"type": "auto"}
    elif choice == "required":
        out = {"type": "any"}
    elif choice == "none":
        out = {"type": "none"}
    else:
        out = {"type": "tool", "name": choice}
    if out is not None and request.parallel_tool_calls is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


def _thinking(extra: dict[str, Any]) -> Thinking | None:
    raw = extra.get("thinking")
    if isinstance(raw, dict) and raw.get("type") == "enabled" and isinstance(raw.get("budget_tokens"), int):
        return {"type": "enabled", "budget_tokens": raw["budget_tokens"]}
    if isinstance(raw, dict) and raw.get("type") == "disabled":
        return {"type": "disabled"}
    effort = extra.get("reasoning_effort")
    if isinstance(effort, str) and effort in _EFFORT_BUDGET:
        return {"type": "enabled", "budget_tokens": _EFFORT_BUDGET[effort]}
    return None


def _check_supported(request: ChatRequest) -> None:
    if request.n != 1:
        raise InvalidRequest("Anthropic models return one choice; n must be 1", param="n")
    if request.logprobs:
        raise InvalidRequest("Anthropic models do not return logprobs", param="logprobs")


def build_request(request: ChatRequest, model: str, stream: bool) -> MessagesRequest:
    """The Messages body for ``request`` sent as ``model``.

    ``seed``, ``logit_bias`` and other OpenAI-only fields have no Anthropic counterpart and are
    not sent; ``n`` > 1 and ``logprobs`` are refused rather than silently ignored.
    """
    _check_supported(request)
    json_tool = json_tool_name(request.response_format)
    body: MessagesRequest = {
        "model": model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": _messages(request.messages),
    }
    system = _system(request.messages)
    if system:
        body["system"] = system
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    top_k = request.extra.get("top_k")
    if isinstance(top_k, int) and not isinstance(top_k, bool):
        body["top_k"] = top_k
    if stream:
        body["stream"] = True
    tools = _tools(request, json_tool)
    if tools:
        body["tools"] = tools
    choice = _tool_choice(request, json_tool)
    if choice is not None:
        body["tool_choice"] = choice
    thinking = _thinking(request.extra)
    if thinking is not None:
        body["thinking"] = thinking
    if request.user:
        body["metadata"] = {"user_id": request.user}
    return body
