"""Canonical chat request and response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "developer", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str
    type: Literal["text"] = "text"
    # A prompt-cache breakpoint after this part (Anthropic's ``{"type": "ephemeral"}``), kept as sent.
    cache_control: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ImagePart:
    url: str  # http(s) URL or data: URL
    detail: str | None = None
    type: Literal["image"] = "image"


@dataclass(frozen=True, slots=True)
class AudioPart:
    data: str  # base64
    format: str
    type: Literal["audio"] = "audio"


@dataclass(frozen=True, slots=True)
class FilePart:
    file_id: str | None = None
    data: str | None = None  # base64 or data: URL
    filename: str | None = None
    type: Literal["file"] = "file"


@dataclass(frozen=True, slots=True)
class ReasoningPart:
    """The model's reasoning in an assistant turn. Providers that sign it (Anthropic's thinking
    blocks) need ``signature`` — or the opaque ``redacted`` data — back unchanged next turn."""

    text: str = ""
    signature: str | None = None
    redacted: str | None = None
    type: Literal["reasoning"] = "reasoning"


ContentPart = TextPart | ImagePart | AudioPart | FilePart | ReasoningPart


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, exactly as the model produced it


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str | tuple[ContentPart, ...] | None = None
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    def text(self) -> str:
        """All text in this message, parts joined by newlines."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart))


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    cache_control: dict[str, Any] | None = None


ToolChoice = Literal["auto", "none", "required"] | str  # str: a specific function name


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A chat call in the gateway's own terms, whatever dialect it arrived in."""

    model: str
    messages: tuple[Message, ...]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    logprobs: bool = False
    top_logprobs: int | None = None
    user: str | None = None
    # Fields the gateway does not model, kept so OpenAI-compatible upstreams still get them.
    extra: dict[str, Any] = field(default_factory=dict)


# Not frozen, unlike the rest of the model: one is built on every call, and a frozen
# dataclass costs about three times as much to construct. Treat it as immutable all the same.
@dataclass(slots=True, unsafe_hash=True)  # hashable like the frozen rest
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int | None = None  # part of prompt_tokens read from the provider's cache
    reasoning_tokens: int | None = None  # part of completion_tokens spent reasoning
    cache_write_tokens: int | None = None  # part of prompt_tokens written to the cache (priced apart)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    index: int
    message: Message
    finish_reason: FinishReason | None
    logprobs: tuple[TokenLogprob, ...] | None = None


@dataclass(frozen=True, slots=True)
class ChatResponse:
    id: str
    model: str
    created: int
    choices: tuple[Choice, ...]
    usage: Usage | None = None
    system_fingerprint: str | None = None
