"""OpenAI Chat Completions request shapes, as typed dicts: the outgoing body has exactly these keys.

Typed dicts rather than models because building one is a plain dict literal (no validation
pass on the way out), while mypy still rejects any key the API does not define.
"""

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


class InputAudio(TypedDict):
    data: str
    format: str


class AudioContent(TypedDict):
    type: Literal["input_audio"]
    input_audio: InputAudio


class FileData(TypedDict, total=False):
    file_id: str
    file_data: str
    filename: str


class FileContent(TypedDict):
    type: Literal["file"]
    file: FileData


ContentPart = TextContent | ImageContent | AudioContent | FileContent


class FunctionCall(TypedDict):
    name: str
    arguments: str


class ToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: FunctionCall


class Message(TypedDict):
    role: Literal["system", "user", "assistant", "tool"]
    content: NotRequired[str | list[ContentPart] | None]
    name: NotRequired[str]
    tool_calls: NotRequired[list[ToolCall]]
    tool_call_id: NotRequired[str]


class FunctionSpec(TypedDict):
    name: str
    description: NotRequired[str]
    parameters: NotRequired[dict[str, Any]]
    strict: NotRequired[bool]


class Tool(TypedDict):
    type: Literal["function"]
    function: FunctionSpec


class NamedFunction(TypedDict):
    name: str


class NamedToolChoice(TypedDict):
    type: Literal["function"]
    function: NamedFunction


class JSONSchema(TypedDict):
    name: str
    schema: NotRequired[dict[str, Any]]
    strict: NotRequired[bool]


class ResponseFormat(TypedDict):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: NotRequired[JSONSchema]


class StreamOptions(TypedDict):
    include_usage: bool


class ChatCompletionRequest(TypedDict, total=False):
    model: str
    messages: list[Message]
    stream: bool
    stream_options: StreamOptions
    max_tokens: int
    max_completion_tokens: int
    temperature: float
    top_p: float
    stop: list[str]
    seed: int
    tools: list[Tool]
    tool_choice: str | NamedToolChoice
    parallel_tool_calls: bool
    response_format: ResponseFormat
    logprobs: bool
    top_logprobs: int
    user: str
    reasoning_effort: str
