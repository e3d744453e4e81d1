"""Gemini ``generateContent`` wire types (https://ai.google.dev/api/generate-content).

Outbound types are ``TypedDict``s (the type checker rejects undeclared keys); inbound bodies
are read defensively from parsed JSON. Vertex AI takes the same bodies
(https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

# Tool call ids carry Gemini's thought signature after this separator, so OpenAI-dialect
# callers (whose tool calls have no other slot for it) send it back unchanged next turn.
SIGNATURE_SEPARATOR = "__thought__"


class Blob(TypedDict):
    mimeType: str
    data: str


class FileData(TypedDict):
    mimeType: str
    fileUri: str


class FunctionCall(TypedDict):
    name: str
    args: dict[str, Any]
    id: NotRequired[str]


class FunctionResponse(TypedDict):
    name: str
    response: dict[str, Any]
    id: NotRequired[str]


class Part(TypedDict, total=False):
    text: str
    thought: bool
    thoughtSignature: str
    inlineData: Blob
    fileData: FileData
    functionCall: FunctionCall
    functionResponse: FunctionResponse


class Content(TypedDict):
    role: Literal["user", "model"]
    parts: list[Part]


class SystemInstruction(TypedDict):
    parts: list[Part]


class FunctionDeclaration(TypedDict):
    name: str
    description: NotRequired[str]
    parameters: NotRequired[dict[str, Any]]


class Tool(TypedDict):
    functionDeclarations: list[FunctionDeclaration]


class FunctionCallingConfig(TypedDict):
    mode: Literal["AUTO", "ANY", "NONE"]
    allowedFunctionNames: NotRequired[list[str]]


class ToolConfig(TypedDict):
    functionCallingConfig: FunctionCallingConfig


class ThinkingConfig(TypedDict, total=False):
    thinkingBudget: int
    includeThoughts: bool


class GenerationConfig(TypedDict, total=False):
    temperature: float
    topP: float
    topK: int
    maxOutputTokens: int
    stopSequences: list[str]
    candidateCount: int
    seed: int
    presencePenalty: float
    frequencyPenalty: float
    responseMimeType: str
    responseSchema: dict[str, Any]
    responseLogprobs: bool
    logprobs: int
    thinkingConfig: ThinkingConfig


class GenerateContentRequest(TypedDict):
    """The body of ``models/{model}:generateContent`` (and ``:streamGenerateContent``)."""

    contents: list[Content]
    systemInstruction: NotRequired[SystemInstruction]
    tools: NotRequired[list[Tool]]
    toolConfig: NotRequired[ToolConfig]
    generationConfig: NotRequired[GenerationConfig]


class EmbedContentRequest(TypedDict):
    model: str
    content: Content | SystemInstruction
    outputDimensionality: NotRequired[int]


class BatchEmbedContentsRequest(TypedDict):
    """The body of ``models/{model}:batchEmbedContents``."""

    requests: list[EmbedContentRequest]


FINISH_REASONS: dict[str, Literal["stop", "length", "content_filter", "error"]] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
}
