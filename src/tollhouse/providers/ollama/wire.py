"""Ollama ``/api/chat`` and ``/api/embed`` wire types (https://github.com/ollama/ollama/blob/main/docs/api.md).

Outbound types are ``TypedDict``s (the type checker rejects undeclared keys).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class FunctionCall(TypedDict):
    name: str
    arguments: dict[str, Any]  # an object, not JSON text


class ToolCall(TypedDict):
    function: FunctionCall


class Message(TypedDict):
    role: Literal["system", "user", "assistant", "tool"]
    content: str
    images: NotRequired[list[str]]  # base64, no data: prefix
    thinking: NotRequired[str]
    tool_calls: NotRequired[list[ToolCall]]
    tool_name: NotRequired[str]


class FunctionSpec(TypedDict):
    name: str
    parameters: dict[str, Any]
    description: NotRequired[str]


class Tool(TypedDict):
    type: Literal["function"]
    function: FunctionSpec


class Options(TypedDict, total=False):
    temperature: float
    top_p: float
    top_k: int
    seed: int
    stop: list[str]
    num_predict: int
    num_ctx: int
    presence_penalty: float
    frequency_penalty: float


class ChatRequest(TypedDict):
    """The body of ``POST /api/chat``."""

    model: str
    messages: list[Message]
    stream: bool
    tools: NotRequired[list[Tool]]
    format: NotRequired[str | dict[str, Any]]
    options: NotRequired[Options]
    think: NotRequired[bool]
    keep_alive: NotRequired[str | int]


class EmbedRequest(TypedDict):
    """The body of ``POST /api/embed``."""

    model: str
    input: list[str]
    dimensions: NotRequired[int]


DONE_REASONS: dict[str, Literal["stop", "length"]] = {
    "stop": "stop",
    "length": "length",
    "load": "stop",
    "unload": "stop",
}
