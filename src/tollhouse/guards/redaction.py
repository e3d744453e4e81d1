"""Redaction: findings replaced in text, reversibly on the way in, for good on the way out.

Input (prompts, tool results) gets typed placeholders (``<EMAIL_1>``): the same value gets
the same placeholder throughout the call, and since every turn re-sends the conversation,
throughout the conversation. The answer's placeholders are put back for the caller when the
policy allows. Output (answers, tool-call arguments) gets a mask that is never restored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tollhouse.guards.detector import CallState
from tollhouse.guards.verdict import Finding

_PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z0-9_]{0,40}_\d{1,6}>")
LONGEST_PLACEHOLDER = 50  # characters; the stream window never cuts one in half


def mask(kind: str) -> str:
    """What output redaction writes: a marker of the kind, never restored."""
    return f"[REDACTED {kind}]"


def redact(text: str, findings: Iterable[Finding], state: CallState, reversible: bool) -> str:
    """``text`` with every finding replaced (overlapping findings: the first one wins)."""
    out: list[str] = []
    at = 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if finding.start < at:
            continue
        original = text[finding.start : finding.end]
        if finding.replacement is not None:
            replacement = finding.replacement
        elif reversible:
            replacement = state.placeholder(finding.kind, original)
        else:
            replacement = mask(finding.kind)
        out += (text[at : finding.start], replacement)
        at = finding.end
    out.append(text[at:])
    return "".join(out)


def restore(text: str, state: CallState) -> str:
    """``text`` with this call's placeholders replaced by the values they stand for."""
    if not state.placeholders or "<" not in text:
        return text
    return _PLACEHOLDER_RE.sub(lambda m: state.placeholders.get(m.group(), m.group()), text)


def open_placeholder(text: str) -> int:
    """Where a placeholder may begin at the end of ``text`` (a ``<`` not yet closed), or -1."""
    at = text.rfind("<", max(0, len(text) - LONGEST_PLACEHOLDER))
    if at < 0 or ">" in text[at:]:
        return -1
    tail = text[at + 1 :]
    return at if all(c.isupper() or c.isdigit() or c == "_" for c in tail) else -1
