"""Canonical stream events: what a provider's stream decoder yields and a dialect encodes."""

from __future__ import annotations

from dataclasses import dataclass

from tollhouse.model.chat import FinishReason, TokenLogprob, Usage


@dataclass(frozen=True, slots=True)
class StreamStart:
    id: str
    model: str
    created: int


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    choice: int = 0
    logprobs: tuple[TokenLogprob, ...] | None = None


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str
    choice: int = 0
    signature: str | None = None  # closes a signed reasoning block (Anthropic thinking)


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a tool call; ``id`` and ``name`` come with the first piece of each call."""

    index: int
    arguments: str = ""
    id: str | None = None
    name: str | None = None
    choice: int = 0


@dataclass(frozen=True, slots=True)
class Finish:
    reason: FinishReason
    choice: int = 0


@dataclass(frozen=True, slots=True)
class UsageReport:
    usage: Usage


StreamEvent = StreamStart | TextDelta | ReasoningDelta | ToolCallDelta | Finish | UsageReport
