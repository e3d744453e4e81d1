"""Counting usage when an upstream does not report it, so every stream is metered.

Budgets and audit depend on usage for every call. Providers ask the upstream for usage
wherever the API allows; when a stream still ends without it (an upstream that omits it, a
stream cut short), the gateway estimates it from the text it saw, at about four characters
a token, the same rough measure the budget reservation uses.
"""

from __future__ import annotations

from tollhouse.model.chat import ChatRequest, ReasoningPart, TextPart, Usage
from tollhouse.model.stream import ReasoningDelta, StreamEvent, TextDelta, ToolCallDelta


def estimate_tokens(text: str) -> int:
    """About four characters a token, never zero for non-empty text."""
    return (len(text) + 3) // 4 if text else 0


def estimate_prompt(request: ChatRequest) -> int:
    total = 0
    for message in request.messages:
        total += 4  # role and separators
        if isinstance(message.content, str):
            total += estimate_tokens(message.content)
        elif message.content:
            for part in message.content:
                if isinstance(part, TextPart | ReasoningPart):
                    total += estimate_tokens(part.text)
        for call in message.tool_calls:
            total += estimate_tokens(call.name) + estimate_tokens(call.arguments)
    for tool in request.tools:
        total += estimate_tokens(tool.name) + estimate_tokens(str(tool.parameters or ""))
    return total


class StreamMeter:
    """Watches a canonical stream's output so usage can be estimated if none arrives."""

    __slots__ = ("_chars",)

    def __init__(self) -> None:
        self._chars = 0

    def see(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta | ReasoningDelta):
            self._chars += len(event.text)
        elif isinstance(event, ToolCallDelta):
            self._chars += len(event.arguments) + len(event.name or "")

    def estimate(self, request: ChatRequest) -> Usage:
        return Usage(prompt_tokens=estimate_prompt(request), completion_tokens=(self._chars + 3) // 4)
