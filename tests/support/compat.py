"""Marking end-to-end tests with what they prove, for the generated ``docs/compatibility.md``.

``@covers("messages", ("demo", "openai_compatible"), "tools", "stream_tools")`` on a test
says: this test passes through that surface to those providers and proves those features.
The generator (``tests/golden/compatibility.py``) imports the test modules and reads the marks,
so the document lists only what a test exists for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

SURFACES = ("chat", "messages", "count_tokens", "responses")
FEATURES = (
    "basic", "system", "tools", "tool_results", "parallel_tools", "stream_text", "stream_tools",
    "vision", "json_schema", "reasoning", "errors", "usage", "async", "passthrough",
)  # fmt: skip
ATTRIBUTE = "__tollhouse_covers__"


def covers(surface: str, providers: tuple[str, ...], *features: str) -> Callable[[F], F]:
    """Record ``(surface, providers, features)`` on the decorated test."""
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}")
    unknown = set(features) - set(FEATURES)
    if unknown or not features:
        raise ValueError(f"unknown or missing features: {sorted(unknown)}")

    def mark(test: F) -> F:
        marks = [*getattr(test, ATTRIBUTE, ()), (surface, providers, features)]
        setattr(test, ATTRIBUTE, tuple(marks))
        return test

    return mark
