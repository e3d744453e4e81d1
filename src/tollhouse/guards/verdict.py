"""What a guard says about a view: findings, and the verdict its action makes of them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """Where a piece of text sits in a call."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL_INPUT = "tool_input"  # arguments of a tool call the model made
    TOOL_OUTPUT = "tool_output"  # a tool's result sent back to the model (indirect input)
    MCP_RESULT = "mcp_result"
    A2A_PART = "a2a_part"


class Action(StrEnum):
    """What a verdict does to the call."""

    ALLOW = "allow"
    BLOCK = "block"
    REDACT = "redact"
    FLAG = "flag"
    REQUIRE_APPROVAL = "require_approval"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a detector found in one text: ``[start, end)`` and how sure it is (0..1).

    ``kind`` names what was found (``EMAIL``, ``aws_access_key``, ``instruction_override``);
    ``replacement`` is set when redaction must write something other than a placeholder.
    """

    kind: str
    start: int
    end: int
    score: float = 1.0
    replacement: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """A finding located in a view: the segment it is in."""

    segment: int
    finding: Finding


@dataclass(frozen=True, slots=True)
class Verdict:
    """A guard's verdict on one view: the action taken, why, the top score and where."""

    guard: str
    action: Action
    reason: str = ""
    score: float = 0.0
    hits: tuple[Hit, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.action is Action.ALLOW


ALLOW_ALL = Action.ALLOW
