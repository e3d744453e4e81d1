"""How a policy ends a call early: it returns an outcome, it never raises one."""

from __future__ import annotations

from dataclasses import dataclass

from tollhouse.errors import TollhouseError


@dataclass(frozen=True, slots=True)
class Deny:
    """Stop the call with ``error``; ``reason`` is a machine-readable code for logs and audit."""

    error: TollhouseError
    reason: str
    policy: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """Answer the call without an upstream (e.g. a cache hit): ``body`` in the caller's dialect.

    A stream is replayed as one body of SSE events with ``content_type`` text/event-stream."""

    body: bytes
    reason: str
    policy: str = ""
    status: int = 200
    content_type: bytes = b"application/json"


Outcome = Deny | Reply
