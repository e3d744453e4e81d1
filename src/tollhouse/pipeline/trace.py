"""W3C trace context (``traceparent``) and the agent session a call belongs to."""

from __future__ import annotations

_HEX = frozenset("0123456789abcdef")


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """``(trace_id, parent_span_id)`` from a valid version-00 ``traceparent``, else ``None``."""
    if not value or len(value) < 55:
        return None
    version, trace_id, span_id, flags = [*value.split("-"), "", "", ""][:4]
    if version != "00" or len(trace_id) != 32 or len(span_id) != 16 or len(flags) != 2:
        return None
    if not (set(trace_id) <= _HEX and set(span_id) <= _HEX) or trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return trace_id, span_id
