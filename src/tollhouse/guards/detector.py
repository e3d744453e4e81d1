"""The detector contract, and the per-call state some detectors read (canary, schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from tollhouse.guards.verdict import Finding, Scope


@dataclass(slots=True)
class CallState:
    """What one call's guards share: the planted canary, the schema the answer must meet,
    and the placeholders redaction handed out (``placeholder → original``)."""

    canary: str | None = None
    schema: dict[str, Any] | None = None
    placeholders: dict[str, str] = field(default_factory=dict)
    originals: dict[str, str] = field(default_factory=dict)  # original → placeholder
    counters: dict[str, int] = field(default_factory=dict)

    def placeholder(self, kind: str, original: str) -> str:
        """The typed placeholder for ``original``: the same value gets the same one."""
        found = self.originals.get(original)
        if found is None:
            number = self.counters.get(kind, 0) + 1
            self.counters[kind] = number
            # Upper case, letters/digits/underscores only: the shape restore() looks for, also
            # for kinds like "keyword" or "topic:billing".
            label = "".join(c if c.isalnum() else "_" for c in kind.upper())
            found = f"<{label}_{number}>"
            self.originals[original] = found
            self.placeholders[found] = original
        return found


class Detector(Protocol):
    """A pure function from one text (and its scope) to findings.

    A detector whose findings depend on nothing but the text and scope — not on the call's
    ``CallState`` — says so with a class attribute ``pure = True``: its guard then keeps its
    findings for texts that come back on later calls (``guards/memo.py``). One whose findings
    can grow as more text arrives (a street, then its city and ZIP) says how far per kind in
    ``grows`` (``{"ADDRESS": 72}``): a stream holds such a finding back that long."""

    name: str

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]: ...
