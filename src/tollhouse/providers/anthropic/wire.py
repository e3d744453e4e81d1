"""Anthropic Messages API wire types (https://docs.anthropic.com/en/api/messages).

Outbound types are ``TypedDict``s: the type checker rejects any key not declared here, so
nothing but Messages API fields can reach a request body. Inbound bodies are read
defensively from parsed JSON; the types below document their shape.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096  # the Messages API requires max_tokens; OpenAI callers may omit it


class CacheControl(TypedDict):
    type: Literal["ephemeral"]
    ttl: NotRequired[str]


class TextBlock(TypedDict):
    type: Literal["text"]
    text: str
    cache_control: NotRequired[dict[str, Any]]


class Base64Source(TypedDict):
    type: Literal["base64"]
    media_type: str
    data: str


class UrlSource(TypedDict):
    type: Literal["url"]
    url: str


class FileSource(TypedDict):
    type: Literal["file"]
    file_id: str


class ImageBlock(TypedDict):
    type: Literal["image"]
    source: Base64Source | UrlSource | FileSource


class DocumentBlock(TypedDict):
    type: Literal["document"]
    source: Base64Source | UrlSource | FileSource
    title: NotRequired[str]


class ThinkingBlock(TypedDict):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlock(TypedDict):
    type: Literal["redacted_thinking"]
    data: str


class ToolUseBlock(TypedDict):
    type: Literal["tool_use"]
    id: str
    name: str
    input: Any


class ToolResultBlock(TypedDict):
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[TextBlock | ImageBlock]


ContentBlock = (
    TextBlock
    | ImageBlock
    | DocumentBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ToolUseBlock
    | ToolResultBlock
)


class MessageParam(TypedDict):
    role: Literal["user", "assistant"]
    content: list[ContentBlock]


class Tool(TypedDict):
    name: str
    input_schema: dict[str, Any]
    description: NotRequired[str]
    cache_control: NotRequired[dict[str, Any]]


class ToolChoice(TypedDict):
    type: Literal["auto", "any", "tool", "none"]
    name: NotRequired[str]
    disable_parallel_tool_use: NotRequired[bool]


class Thinking(TypedDict):
    type: Literal["enabled", "disabled"]
    budget_tokens: NotRequired[int]


class Metadata(TypedDict):
    user_id: str


class MessagesRequest(TypedDict):
    """The body of ``POST /v1/messages``."""

    model: str
    max_tokens: int
    messages: list[MessageParam]
    system: NotRequired[str | list[TextBlock]]
    stop_sequences: NotRequired[list[str]]
    temperature: NotRequired[float]
    top_p: NotRequired[float]
    top_k: NotRequired[int]
    stream: NotRequired[bool]
    tools: NotRequired[list[Tool]]
    tool_choice: NotRequired[ToolChoice]
    thinking: NotRequired[Thinking]
    metadata: NotRequired[Metadata]


# Inbound: a Message (non-streaming response) and its usage.
class WireUsage(TypedDict, total=False):
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None


class WireMessage(TypedDict, total=False):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[dict[str, Any]]
    stop_reason: str | None
    stop_sequence: str | None
    usage: WireUsage


STOP_REASONS: dict[str, Literal["stop", "length", "tool_calls", "content_filter"]] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# The tool a JSON-mode request forces, whose input becomes the answer's text.
JSON_TOOL = "json_response"
