"""Bedrock Converse wire types (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html).

Outbound types are ``TypedDict``s (the type checker rejects undeclared keys). Binary fields
(image and document bytes) travel base64-encoded in the JSON protocol.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class BytesSource(TypedDict):
    bytes: str  # base64


class S3Location(TypedDict):
    uri: str


class S3Source(TypedDict):
    s3Location: S3Location


class ImageBlock(TypedDict):
    format: str  # png | jpeg | gif | webp
    source: BytesSource | S3Source


class DocumentBlock(TypedDict):
    format: str  # pdf | csv | doc | docx | xls | xlsx | html | txt | md
    name: str
    source: BytesSource | S3Source


class ToolUse(TypedDict):
    toolUseId: str
    name: str
    input: Any


class ToolResultContent(TypedDict, total=False):
    text: str
    json: Any
    image: ImageBlock


class ToolResult(TypedDict):
    toolUseId: str
    content: list[ToolResultContent]


class ReasoningText(TypedDict):
    text: str
    signature: NotRequired[str]


class ReasoningContent(TypedDict, total=False):
    reasoningText: ReasoningText
    redactedContent: str  # base64


class CachePoint(TypedDict):
    type: Literal["default"]


class ContentBlock(TypedDict, total=False):
    text: str
    image: ImageBlock
    document: DocumentBlock
    toolUse: ToolUse
    toolResult: ToolResult
    reasoningContent: ReasoningContent
    cachePoint: CachePoint


class Message(TypedDict):
    role: Literal["user", "assistant"]
    content: list[ContentBlock]


class SystemBlock(TypedDict, total=False):
    text: str
    cachePoint: CachePoint


class InputSchema(TypedDict):
    json: dict[str, Any]


class ToolSpec(TypedDict):
    name: str
    inputSchema: InputSchema
    description: NotRequired[str]


class Tool(TypedDict, total=False):
    toolSpec: ToolSpec
    cachePoint: CachePoint


class SpecificTool(TypedDict):
    name: str


class ToolChoice(TypedDict, total=False):
    auto: dict[str, Any]
    any: dict[str, Any]
    tool: SpecificTool


class ToolConfig(TypedDict):
    tools: list[Tool]
    toolChoice: NotRequired[ToolChoice]


class InferenceConfig(TypedDict, total=False):
    maxTokens: int
    temperature: float
    topP: float
    stopSequences: list[str]


class ConverseRequest(TypedDict):
    """The body of ``POST /model/{modelId}/converse`` (and ``/converse-stream``)."""

    messages: list[Message]
    system: NotRequired[list[SystemBlock]]
    inferenceConfig: NotRequired[InferenceConfig]
    toolConfig: NotRequired[ToolConfig]
    additionalModelRequestFields: NotRequired[dict[str, Any]]


STOP_REASONS: dict[str, Literal["stop", "length", "tool_calls", "content_filter"]] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}

# The tool a JSON-mode request forces (Converse has no JSON mode), whose input becomes text.
JSON_TOOL = "json_response"
