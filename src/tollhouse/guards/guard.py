"""A configured guard: a detector, where it looks (stages, scopes) and what its verdict does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tollhouse.guards.detector import CallState, Detector
from tollhouse.guards.memo import FindingsMemo
from tollhouse.guards.verdict import Action, Finding, Hit, Scope, Verdict
from tollhouse.guards.view import TextView
from tollhouse.guards.webhook import CallInfo, WebhookClient

INPUT_SCOPES = frozenset({Scope.SYSTEM, Scope.USER, Scope.ASSISTANT})
INDIRECT_SCOPES = frozenset({Scope.TOOL_OUTPUT, Scope.MCP_RESULT, Scope.A2A_PART})
# Which scopes of a view each stage reads: requests and tool results are input, answers,
# streams and tool-call arguments are output.
STAGE_SCOPES: dict[str, frozenset[Scope]] = {
    "request": INPUT_SCOPES,
    "tool_results": INDIRECT_SCOPES,
    "response": frozenset({Scope.ASSISTANT}),
    "stream": frozenset({Scope.ASSISTANT}),
    "tool_args": frozenset({Scope.TOOL_INPUT}),
}
ALL_SCOPES = frozenset(Scope)
_NOWHERE: frozenset[Scope] = frozenset()
# Where each kind of guard looks unless its config says otherwise.
DEFAULT_SCOPES: dict[str, frozenset[Scope]] = {
    "injection": frozenset({Scope.USER}) | INDIRECT_SCOPES,
    "pii": ALL_SCOPES - {Scope.SYSTEM},
    "secrets": ALL_SCOPES,
    "exfiltration": frozenset({Scope.ASSISTANT, Scope.TOOL_INPUT}) | INDIRECT_SCOPES,
    "canary": frozenset({Scope.ASSISTANT, Scope.TOOL_INPUT}),
    "keywords": ALL_SCOPES - {Scope.SYSTEM},
    "topics": ALL_SCOPES - {Scope.SYSTEM},
    "schema": frozenset({Scope.ASSISTANT}),
    "webhook": ALL_SCOPES,
}


@dataclass(frozen=True, slots=True)
class Guard:
    """``id`` names it in verdicts; ``fail_open`` decides what an error in it means."""

    id: str
    kind: str  # the guard type: injection, pii, …
    detector: Detector
    action: Action
    stages: frozenset[str]
    scopes: frozenset[Scope]
    fail_open: bool
    offload: bool = False  # slow (a model): run in a worker thread, off the event loop
    # stage → the scopes read there, worked out once: every call asks for every guard.
    _by_stage: dict[str, frozenset[Scope]] = field(init=False, repr=False, compare=False)
    # What a pure detector found in texts it read on earlier calls (``memo.py``).
    memo: FindingsMemo | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_stage", _stage_scopes(self.stages, self.scopes))
        object.__setattr__(self, "memo", FindingsMemo() if getattr(self.detector, "pure", False) else None)

    def scopes_for(self, stage: str) -> frozenset[Scope]:
        """The scopes this guard reads at ``stage`` (empty: it does not run there)."""
        return self._by_stage.get(stage, _NOWHERE)

    def findings(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        return self.detector.detect(text, scope, state)

    def check(self, view: TextView, state: CallState) -> Verdict:
        """The verdict on the segments of ``view`` (already narrowed to this stage's scopes);
        texts read on an earlier call are not scanned again (``memo``)."""
        memo, detect = self.memo, self.detector.detect
        hits: list[Hit] = []
        for i, segment in enumerate(view.segments):
            text, scope = segment.text, segment.scope
            if scope not in self.scopes:
                continue
            found: Sequence[Finding] | None
            if memo is not None and memo.keeps(text):
                found = memo.get(scope, text)
                if found is None:
                    found = tuple(detect(text, scope, state))
                    memo.put(scope, text, found)
            else:
                found = detect(text, scope, state)
            hits += [Hit(i, finding) for finding in found]
        return verdict_of(self.id, self.action, hits)


@dataclass(frozen=True, slots=True)
class RemoteGuard:
    """A guard whose verdict comes from a webhook (awaited, under its own timeout)."""

    id: str
    kind: str
    client: WebhookClient
    action: Action
    stages: frozenset[str]
    scopes: frozenset[Scope]
    fail_open: bool
    _by_stage: dict[str, frozenset[Scope]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_stage", _stage_scopes(self.stages, self.scopes))

    def scopes_for(self, stage: str) -> frozenset[Scope]:
        return self._by_stage.get(stage, _NOWHERE)

    async def check(self, stage: str, view: TextView, info: CallInfo) -> Verdict:
        return await self.client.check(self.id, stage, view, info, self.action is Action.FLAG)


AnyGuard = Guard | RemoteGuard


def _stage_scopes(stages: frozenset[str], scopes: frozenset[Scope]) -> dict[str, frozenset[Scope]]:
    """For each of ``stages``, the scopes of ``scopes`` read there (stages reading none left out)."""
    return {stage: STAGE_SCOPES[stage] & scopes for stage in stages if STAGE_SCOPES[stage] & scopes}


def verdict_of(guard: str, action: Action, hits: list[Hit]) -> Verdict:
    """``action`` when anything was found, else allow; the reason lists the kinds found."""
    if not hits:
        return Verdict(guard, Action.ALLOW)
    kinds = sorted({h.finding.kind for h in hits})
    return Verdict(guard, action, ",".join(kinds), max(h.finding.score for h in hits), tuple(hits))
