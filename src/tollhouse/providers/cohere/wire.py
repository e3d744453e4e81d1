"""Cohere v2 chat and embed wire types (https://docs.cohere.com/reference/chat,
https://docs.cohere.com/reference/embed). Outbound ``TypedDict``s forbid undeclared keys."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class TextContent(TypedDict):
    type: Literal["text"]
    text: str


class ImageURL(TypedDict):
    url: str
    detail: NotRequired[str]


class ImageContent(TypedDict):
    type: Literal["image_url"]
    image_url: ImageURL


class Function(TypedDict):
    name: str
    arguments: str  # JSON text


class ToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: Function


class SystemMessage(TypedDict):
    role: Literal["system"]
    content: str


class UserMessage(TypedDict):
    role: Literal["user"]
    content: str | list[TextContent | ImageContent]


class AssistantMessage(TypedDict):
    role: Literal["assistant"]
    content: NotRequired[str]
    tool_plan: NotRequired[str]
    tool_calls: NotRequired[list[ToolCall]]


class ToolMessage(TypedDict):
    role: Literal["tool"]
    tool_call_id: str
    content: str


Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage


class FunctionSpec(TypedDict):
    name: str
    parameters: dict[str, Any]
    description: NotRequired[str]


class Tool(TypedDict):
    type: Literal["function"]
    function: FunctionSpec


class ResponseFormat(TypedDict):
    type: Literal["json_object"]
    json_schema: NotRequired[dict[str, Any]]


class Thinking(TypedDict):
    type: Literal["enabled", "disabled"]
    token_budget: NotRequired[int]


class ChatRequest(TypedDict):
    """The body of ``POST /v2/chat``."""

    model: str
    messages: list[Message]
    stream: NotRequired[bool]
    tools: NotRequired[list[Tool]]
    tool_choice: NotRequired[Literal["REQUIRED", "NONE"]]
    strict_tools: NotRequired[bool]
    response_format: NotRequired[ResponseFormat]
    max_tokens: NotRequired[int]
    temperature: NotRequired[float]
    p: NotRequired[float]
    k: NotRequired[int]
    seed: NotRequired[int]
    stop_sequences: NotRequired[list[str]]
    frequency_penalty: NotRequired[float]
    presence_penalty: NotRequired[float]
    logprobs: NotRequired[bool]
    thinking: NotRequired[Thinking]


class EmbedRequest(TypedDict):
    """The body of ``POST /v2/embed``."""

    model: str
    texts: list[str]
    input_type: str
    embedding_types: list[str]
    output_dimension: NotRequired[int]


FINISH_REASONS: dict[str, Literal["stop", "length", "tool_calls", "error"]] = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
    "ERROR": "error",
    "TIMEOUT": "error",
}
