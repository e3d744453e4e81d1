"""Prices per million tokens, and what a call cost given its usage."""

from __future__ import annotations

from dataclasses import dataclass

from tollhouse.model.chat import Usage

_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens. Cache reads and writes cost ``input`` when no rate is given."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None

    def cost(self, usage: Usage) -> float:
        """USD for ``usage``: prompt tokens read from or written to a cache at their own rates,
        the rest of the prompt at ``input``, completion (reasoning included) at ``output``."""
        cached = usage.cached_tokens or 0
        written = usage.cache_write_tokens or 0
        fresh = max(usage.prompt_tokens - cached - written, 0)
        total = (
            fresh * self.input
            + cached * (self.input if self.cached_input is None else self.cached_input)
            + written * (self.input if self.cache_write is None else self.cache_write)
            + usage.completion_tokens * self.output
        )
        return total / _MILLION
