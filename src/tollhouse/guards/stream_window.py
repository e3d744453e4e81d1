"""Guarding a stream: text is released ``hold_back`` characters behind the scanner.

Each choice's text collects in a window; after every delta the guards scan the window (with
a little already-released context before it) and only text at least ``hold_back``
characters from the end — and never part of a word, of a finding that may still be
growing, or of a placeholder still open — is released, redacted and with placeholders restored. A block ends
the stream: what was released stays released, a ``Finish(content_filter)`` follows and the
sender ends with the surface's error event. Tool-call arguments are assembled whole and
checked before any of them is emitted; a call a ``require_approval`` guard holds is asked
of the ``Approver`` (emitted when approved, else the stream ends with its error). Usage is
held to the end.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from tollhouse.errors import ApprovalRequired, GuardBlocked, GuardUnavailable, TollhouseError
from tollhouse.guards.detector import CallState
from tollhouse.guards.guard import Guard
from tollhouse.guards.redaction import LONGEST_PLACEHOLDER, redact, restore
from tollhouse.guards.verdict import Action, Finding, Scope
from tollhouse.model.stream import Finish, StreamEvent, TextDelta, ToolCallDelta, UsageReport

CONTEXT = 64  # released characters the scanner still sees (key words before a value)
MAX_WORD = 4096  # a "word" longer than this is released without waiting for its end
# A number written in groups ("4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "+44 20 7946
# 0958") is several words. The group after the hold-back line, and the groups before it read
# backwards (the text reversed: one possessive pass, no backtracking) over at most
# ``_RUN_SPAN`` characters.
_GROUP_AFTER = re.compile(r"[ .-]?[+(]?[0-9A-Z]{1,6}+(?![a-z])")
# A group holds a digit, or is four capitals (a bank code in an IBAN: "GB82 WEST 1234").
_GROUPS_REVERSED = re.compile(r"(?:[ .-]?\)?(?:[A-Z]{0,5}+\d[0-9A-Z]{0,5}+|[A-Z]{4}(?![0-9A-Z]))[(+]?)++")
_DIGIT = re.compile(r"\d")
_RUN_SPAN = 96


@dataclass(slots=True)
class GuardTally:
    """One guard's record over a whole stream: the worst outcome, top score, total latency."""

    outcome: str = "allow"
    score: float = 0.0
    latency_us: int = 0
    reason: str = ""
    error: str | None = None


_RANK = {"allow": 0, "flag": 1, "redact": 2, "require_approval": 3, "block": 4}


@dataclass(slots=True)
class _Text:
    pending: str = ""  # scanned but not released (placeholders intact)
    tail: str = ""  # the last CONTEXT released characters, as the model wrote them
    full: list[str] = field(default_factory=list)  # everything, when a schema guard needs it


@dataclass(slots=True)
class _Call:
    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


Report = Callable[[dict[str, GuardTally]], None]


class Approver(Protocol):
    """Where a held tool call is asked about (``approvals.held.CallApprovals``)."""

    def hold_now(self, tool: str, arguments: str, reason: str) -> TollhouseError | None:
        """None when the call is approved, else the error that ends the stream."""

    async def settle(self) -> None:
        """Store what was held, before the caller hears of it."""


class StreamWindow:
    """The stream inspector a guardrail policy gives a streamed call (see the module doc)."""

    def __init__(
        self,
        text_guards: tuple[Guard, ...],
        tool_guards: tuple[Guard, ...],
        state: CallState,
        *,
        hold_back: int,
        restore_placeholders: bool,
        dry_run: bool,
        report: Report,
        approvals: Approver | None = None,
    ) -> None:
        self._window = tuple(g for g in text_guards if g.kind != "schema")
        # Per guard: how far past its end a finding of a kind may still grow (``PIIDetector.grows``).
        self._grows: dict[str, dict[str, int]] = {
            g.id: getattr(g.detector, "grows", {}) for g in self._window
        }
        self._final = tuple(g for g in text_guards if g.kind == "schema")
        self._tools = tool_guards
        self._state = state
        self._hold = hold_back
        self._restore = restore_placeholders
        self._dry = dry_run
        self._report = report
        self._approvals = approvals
        self._texts: dict[int, _Text] = {}
        self._calls: dict[int, _Call] = {}  # the open tool call per choice
        self._usage: UsageReport | None = None
        self._failed: set[str] = set()  # fail-open guards that errored: not run again
        self.tally: dict[str, GuardTally] = {g.id: GuardTally() for g in (*text_guards, *tool_guards)}
        self.blocked: TollhouseError | None = None
        self._reported = False

    # ------------------------------------------------------------------ events

    def feed(self, event: StreamEvent) -> list[StreamEvent]:
        """The events to send now for ``event`` (text may be held back)."""
        if self.blocked is not None:
            return []
        if isinstance(event, TextDelta):
            out = self._close_call(event.choice)
            text = self._texts.setdefault(event.choice, _Text())
            text.pending += event.text
            if self._final:
                text.full.append(event.text)
            return out + self._release(event.choice, final=False)
        if isinstance(event, ToolCallDelta):
            return self._tool_delta(event)
        if isinstance(event, Finish):
            out = self._flush(event.choice)
            return out if self.blocked is not None else [*out, event]
        if isinstance(event, UsageReport):
            self._usage = event
            return []
        return [event]

    def finish(self) -> list[StreamEvent]:
        """Everything still held, once the upstream stream has ended."""
        out: list[StreamEvent] = []
        for choice in sorted({*self._texts, *self._calls}):
            if self.blocked is None:
                out += self._flush(choice)
        if self.blocked is None:
            for choice, text in self._texts.items():
                if self._final and self.blocked is None:
                    self._check_final(choice, "".join(text.full))
        if self.blocked is None and self._usage is not None:
            out.append(self._usage)
        self.close()
        return out

    async def settle(self) -> None:
        """Before a block is reported: store the tool calls held for approval."""
        if self._approvals is not None:
            try:
                await self._approvals.settle()
            except Exception:  # the approval id the caller would get would lead nowhere
                self.blocked = GuardUnavailable("approvals are unavailable; the tool call is withheld")

    def close(self) -> None:
        """Report the tallies once (at the end, at a block, or when the stream broke off)."""
        if not self._reported:
            self._reported = True
            self._report(self.tally)

    # ------------------------------------------------------------------ text

    def _flush(self, choice: int) -> list[StreamEvent]:
        out = self._close_call(choice)
        if choice in self._texts:
            out += self._release(choice, final=True)
        return out

    def _release(self, choice: int, final: bool) -> list[StreamEvent]:
        text = self._texts[choice]
        if not text.pending:
            return []
        buffer = text.tail + text.pending
        offset = len(text.tail)
        redactions: list[Finding] = []
        growing = len(text.pending)  # where the first finding starts that more text may extend
        for guard in self._window:
            grows = self._grows[guard.id]
            for finding in self._scan(guard, buffer, Scope.ASSISTANT):
                if finding.end <= offset:
                    continue  # in text already released (and handled then)
                if self._enforces(guard, finding, choice):
                    return self._blocked_at(choice)
                if guard.action is Action.REDACT and not self._dry:
                    start, end = max(finding.start, offset) - offset, finding.end - offset
                    redactions.append(Finding(finding.kind, start, end))
                    if end + grows.get(finding.kind, 0) >= len(text.pending):
                        growing = min(growing, start)
        if self.blocked is not None:  # a fail-closed guard failed
            return self._blocked_at(choice)
        limit = self._limit(text.pending, redactions, growing, final)
        released = text.pending[:limit]
        kept = [f for f in redactions if f.end <= limit]
        out = redact(released, kept, self._state, reversible=False) if kept else released
        if self._restore:
            out = restore(out, self._state)
        text.tail = (text.tail + released)[-CONTEXT:]
        text.pending = text.pending[limit:]
        return [TextDelta(out, choice)] if out else []

    def _limit(self, pending: str, redactions: list[Finding], growing: int, final: bool) -> int:
        """How much of ``pending`` may go: all at the end, else up to the hold-back line,
        cut before a finding that may still grow (it reaches the end, or its kind can grow
        further than the text after it: ``growing``) or straddles the line, and before a
        placeholder the line would split."""
        if final:
            return len(pending)
        limit = max(0, len(pending) - self._hold)
        if 0 < limit < len(pending) and not pending[limit].isspace() and not pending[limit - 1].isspace():
            # Never release part of a word: a key or an address is judged whole. A run of
            # text without any space (a blob) is released anyway past MAX_WORD characters.
            space = max(pending.rfind(" ", 0, limit), pending.rfind("\n", 0, limit))
            if space >= 0 or limit < MAX_WORD:
                limit = space + 1
        if 0 < limit < len(pending):  # nor part of a number written in groups
            limit = _before_number_run(pending, limit)
        limit = min(limit, growing)
        for finding in redactions:
            if finding.start < limit < finding.end:
                limit = finding.start
        if self._restore and self._state.placeholders:
            at = pending.rfind("<", max(0, limit - LONGEST_PLACEHOLDER), limit)
            if at >= 0 and ">" not in pending[at:limit]:
                limit = at
        return limit

    def _check_final(self, choice: int, whole: str) -> None:
        for guard in self._final:
            for finding in self._scan(guard, whole, Scope.ASSISTANT):
                if self._enforces(guard, finding, choice):
                    self._blocked_at(choice)
                    return
        if self.blocked is not None:
            self._blocked_at(choice)

    # ------------------------------------------------------------------ tool calls

    def _tool_delta(self, event: ToolCallDelta) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if event.choice in self._texts:
            out += self._release(event.choice, final=True)  # text before the call goes first
        call = self._calls.get(event.choice)
        if call is not None and call.index != event.index:
            out += self._close_call(event.choice)
            call = None
        if call is None:
            call = self._calls[event.choice] = _Call(event.index)
        call.id = call.id or event.id
        call.name = call.name or event.name
        call.arguments += event.arguments
        return out

    def _close_call(self, choice: int) -> list[StreamEvent]:
        call = self._calls.pop(choice, None)
        if call is None or self.blocked is not None:
            return []
        arguments = call.arguments
        tool = call.name or "tool"
        redactions: list[Finding] = []
        reasons: list[str] = []  # why guards want the call approved
        for guard in self._tools:
            for finding in self._scan(guard, arguments, Scope.TOOL_INPUT):
                if self._approvals is not None and guard.action is Action.REQUIRE_APPROVAL and not self._dry:
                    reasons.append(f"guard {guard.id}: {finding.kind}")
                    continue
                if self._enforces(guard, finding, choice, tool=tool):
                    return self._blocked_at(choice)
                if guard.action is Action.REDACT and not self._dry:
                    redactions.append(finding)
        if self.blocked is not None:
            return self._blocked_at(choice)
        if redactions:
            arguments = redact(arguments, redactions, self._state, reversible=False)
        if reasons and self._approvals is not None:
            refusal = self._approvals.hold_now(tool, arguments, "; ".join(dict.fromkeys(reasons)))
            if refusal is not None:
                self.blocked = refusal
                return self._blocked_at(choice)
        if self._restore:
            arguments = restore(arguments, self._state)
        return [ToolCallDelta(call.index, arguments, call.id, call.name, choice)]

    # ------------------------------------------------------------------ guards

    def _scan(self, guard: Guard, text: str, scope: Scope) -> list[Finding]:
        if guard.id in self._failed or scope not in guard.scopes:
            return []
        tally = self.tally[guard.id]
        started = time.perf_counter()
        try:
            found = guard.findings(text, scope, self._state)
        except Exception as exc:  # a detector bug: the policy's fail mode decides
            tally.error = f"{type(exc).__name__} in guard {guard.id}"
            if guard.fail_open:
                self._failed.add(guard.id)
                return []
            self.blocked = GuardUnavailable(f"guard {guard.id} failed; the answer is withheld")
            return []
        finally:
            tally.latency_us += int((time.perf_counter() - started) * 1_000_000)
        for finding in found:
            outcome = guard.action.value
            if _RANK[outcome] > _RANK[tally.outcome]:
                tally.outcome = outcome
            tally.score = max(tally.score, finding.score)
            if finding.kind not in tally.reason.split(","):
                tally.reason = f"{tally.reason},{finding.kind}" if tally.reason else finding.kind
        return found

    def _enforces(self, guard: Guard, finding: Finding, choice: int, tool: str | None = None) -> bool:
        """Whether ``finding`` ends the stream (a block, or a tool call held for approval)."""
        if self.blocked is not None:
            return True
        if self._dry:
            return False
        if guard.action is Action.BLOCK or (guard.action is Action.REQUIRE_APPROVAL and tool is None):
            self.blocked = GuardBlocked(f"the answer was blocked by guard {guard.id} ({finding.kind})")
            return True
        if guard.action is Action.REQUIRE_APPROVAL:
            self.blocked = ApprovalRequired(
                f"the tool call {tool} needs approval (guard {guard.id}: {finding.kind})"
            )
            return True
        return False

    def _blocked_at(self, choice: int) -> list[StreamEvent]:
        self.close()
        return [Finish("content_filter", choice)]


def _before_number_run(pending: str, limit: int) -> int:
    """``limit``, or the start of a number in groups that the line would cut: a card, an IBAN
    or a phone number longer than the hold-back is judged whole, like a word (its first
    groups alone match nothing, so released they could no longer be redacted). A run longer
    than ``_RUN_SPAN`` characters is cut there, as a word is past ``MAX_WORD``."""
    if _GROUP_AFTER.match(pending, limit) is None:
        return limit
    start = max(0, limit - _RUN_SPAN)
    run = _GROUPS_REVERSED.match(pending[start:limit][::-1])
    if run is None:
        return limit
    at = limit - run.end()
    if _DIGIT.search(pending, at, limit) is None:  # only capitals
        return limit
    if at > start and pending[at - 1].isalnum():  # the run starts inside a word: hold all of it
        at = max(pending.rfind(" ", start, at), pending.rfind("\n", start, at)) + 1
    return at
