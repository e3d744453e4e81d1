"""From a request context to audit entries: the events of one call and its content.

Async mode calls ``Capture.finished`` once the call's response is sent. Strict mode calls
``request`` / ``response`` on the call's path, because those records must be durable before
the call goes on.

The two records of every call are built straight as JSON objects from one shared base (the
shape ``AuditEvent.to_record`` defines; a unit test holds them equal), because the writer
builds them for every call and a dataclass per record would cost more than the rest of the
audit path. Rarer events (denials, guard verdicts) go through ``AuditEvent``. What guards
and the router did is in ``call_details``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from tollhouse.audit.call_details import call_detail, denial_type, guard_events
from tollhouse.audit.chain import worst_verdict
from tollhouse.audit.events import AuditEvent, ContentRef, Verdict, format_time, new_event_id
from tollhouse.audit.queue import ContentPiece, Entry
from tollhouse.audit.redaction import ContentRedactor, removed_words
from tollhouse.audit.settings import ContentMode
from tollhouse.audit.vault import DEFAULT_ORG
from tollhouse.identity.principal import Principal
from tollhouse.pipeline.context import RequestContext

# Surfaces that are calls (an LLM, a tool, an agent); others (model lists) only record denials.
NON_CALL_SURFACES = frozenset({"models", "unknown", "ops", "mcp"})  # mcp: records its own mcp.call
_PRINCIPAL_CACHE = 4096
_NOBODY = ("", "", "")


@dataclass(frozen=True, slots=True)
class ContentPolicy:
    """What to keep of content: the mode, and the redactor for ``redacted``."""

    mode: ContentMode
    redactor: ContentRedactor | None = None

    def keep(
        self,
        event_id: str,
        part: str,
        data: bytes,
        org_id: str,
        forwarded: bytes | None = None,
        words: Collection[str] = (),
    ) -> tuple[dict[str, Any], ContentPiece | None]:
        """The record's reference to ``data`` and what to store encrypted (``None``: nothing).

        ``forwarded``: what the gateway passed on instead of ``data`` (a guard redacted it);
        ``redacted`` mode keeps that, masked, never ``data`` itself, and masks ``words`` too."""
        digest = hashlib.sha256(data).hexdigest()
        if self.mode == "digest" or not data:
            return {"part": part, "sha256": digest, "size": len(data), "stored": "digest"}, None
        if self.mode == "redacted" and self.redactor is not None:
            kept = self.redactor.redact(data if forwarded is None else forwarded, words)
            kept_digest = hashlib.sha256(kept).hexdigest()
            ref = ContentRef(
                part, digest, len(data), "redacted", kept_digest if kept_digest != digest else None
            )
            return ref.to_json(), ContentPiece(event_id, part, org_id, kept_digest, kept)
        ref_json = {"part": part, "sha256": digest, "size": len(data), "stored": "full"}
        return ref_json, ContentPiece(event_id, part, org_id, digest, data)


def request_content(
    content: ContentPolicy, event_id: str, ctx: RequestContext
) -> tuple[list[dict[str, Any]], tuple[ContentPiece, ...]]:
    """The references and pieces of a call's prompt.

    ``request`` is what the caller sent. When a policy rewrote it (a guard's redaction, a
    planted canary), the request as forwarded — ``ctx.payload``, in the caller's format — is
    what ``redacted`` mode keeps; ``full`` keeps both, the rewrite as ``request.forwarded``;
    ``digest`` records both digests."""
    org = _org(ctx)
    forwarded = orjson.dumps(ctx.payload) if ctx.payload_rewritten else None
    ref, piece = content.keep(event_id, "request", ctx.body, org, forwarded)
    refs, pieces = [ref], [piece] if piece else []
    if forwarded is not None and content.mode != "redacted":
        ref, piece = content.keep(event_id, "request.forwarded", forwarded, org)
        refs.append(ref)
        if piece:
            pieces.append(piece)
    return refs, tuple(pieces)


class Finished(NamedTuple):
    """When a call ended: wall clock (µs since the epoch) and ``perf_counter``."""

    time_us: int
    perf: float


def _org(ctx: RequestContext) -> str:
    return (ctx.principal.org_id if ctx.principal is not None else None) or DEFAULT_ORG


def _verdicts(ctx: RequestContext) -> tuple[Verdict, ...]:
    return tuple(
        Verdict(d.policy, d.outcome, d.reason, d.policy[6:] if d.policy.startswith("guard:") else None)
        for d in ctx.decisions
    )


def _micros(seconds: float) -> int:
    return int(seconds * 1_000_000)


class Capture:
    """Builds a call's records; remembers principals' JSON (few principals, many calls)."""

    def __init__(self, content: ContentPolicy) -> None:
        self.content = content
        # By identity: principals come from the key snapshot and are the same objects call
        # after call; hashing a frozen dataclass per record would cost more than the lookup.
        # Each with its JSON and its three search columns (id, kind, org).
        self._principals: dict[int, tuple[Principal, dict[str, Any], tuple[str, str, str]]] = {}

    def _known(self, principal: Principal) -> tuple[Principal, dict[str, Any], tuple[str, str, str]]:
        found = self._principals.get(id(principal))
        if found is None or found[0] is not principal:
            if len(self._principals) >= _PRINCIPAL_CACHE:
                self._principals.clear()
            columns = (principal.id or "", principal.kind or "", principal.org_id or "")
            found = self._principals[id(principal)] = (principal, _principal_json(principal), columns)
        return found

    def _principal(self, principal: Principal) -> dict[str, Any]:
        return self._known(principal)[1]

    def _call_columns(self, ctx: RequestContext) -> tuple[Any, ...]:
        """The search columns a call's records share: request, principal (id, kind, org),
        session, trace — as ``chain.index_values`` reads them from the records ``base`` starts."""
        who = _NOBODY if ctx.principal is None else self._known(ctx.principal)[2]
        return (ctx.request_id or "", *who, ctx.session_id or "", ctx.trace_id or "")

    def base(self, ctx: RequestContext) -> dict[str, Any]:
        """The fields every record of this call shares."""
        base: dict[str, Any] = {"request_id": ctx.request_id, "surface": ctx.surface, "stream": ctx.stream}
        if ctx.principal is not None:
            base["principal"] = self._principal(ctx.principal)
        # Straight-line tests rather than a loop over pairs: this runs for every call.
        if ctx.session_id:
            base["session_id"] = ctx.session_id
        if ctx.trace_id:
            base["trace_id"] = ctx.trace_id
        if ctx.span_id:
            base["span_id"] = ctx.span_id
        if ctx.parent_span_id:
            base["parent_span_id"] = ctx.parent_span_id
        if ctx.model:
            base["route"] = ctx.model
        return base

    def request(
        self,
        ctx: RequestContext,
        time_us: int,
        base: dict[str, Any] | None = None,
        columns: tuple[Any, ...] | None = None,
    ) -> Entry:
        """``llm.request``: who asks which route what (the prompt by digest, stored per the mode).

        ``base`` and ``columns``: the call's shared fields and search columns, when the caller
        already has them (``finished`` builds both records from one of each)."""
        event_id = new_event_id()
        refs, pieces = request_content(self.content, event_id, ctx)
        # One dict display: the record is built at its final size, never resized key by key.
        record = {
            **(base or self.base(ctx)),
            "type": "llm.request",
            "id": event_id,
            "time": format_time(time_us),
            "content": refs,
        }
        index = (event_id, "llm.request", time_us, *(columns or self._call_columns(ctx)), 0, "")
        return Entry(record, pieces, None, time_us, index)

    def response(
        self,
        ctx: RequestContext,
        end: Finished,
        status: int | None = None,
        base: dict[str, Any] | None = None,
        columns: tuple[Any, ...] | None = None,
    ) -> Entry:
        """``llm.response``: outcome, usage, cost, latency, verdicts (the answer by digest).

        ``status`` is the one about to be sent, when the record is made before sending (strict)."""
        event_id = new_event_id()
        time_us = end.time_us
        record = {
            **(base or self.base(ctx)),
            "type": "llm.response",
            "id": event_id,
            "time": format_time(time_us),
            "latency_us": int((end.perf - ctx.started) * 1_000_000),
        }
        if ctx.provider:
            record["provider"] = ctx.provider
        if ctx.upstream_model:
            record["upstream_model"] = ctx.upstream_model
        status = status or ctx.status
        if status:
            record["status"] = status
        if ctx.error_code:
            record["error_code"] = ctx.error_code
        usage = ctx.usage
        if usage is not None:
            prompt, completion = usage.prompt_tokens, usage.completion_tokens
            record["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
        if ctx.cost is not None:
            record["cost_micro_usd"] = round(ctx.cost * 1_000_000)
        if ctx.first_byte_at:
            record["ttfb_us"] = int((ctx.first_byte_at - ctx.started) * 1_000_000)
        worst = ""
        if ctx.decisions:
            verdicts = record["verdicts"] = [v.to_json() for v in _verdicts(ctx)]
            worst = worst_verdict(verdicts) or ""
        if ctx.routing is not None or ctx.verdicts:
            record["detail"] = call_detail(ctx)
        data = b"".join(ctx.stream_capture) if ctx.stream_capture is not None else ctx.response_body
        pieces: tuple[ContentPiece, ...] = ()
        if data:
            words: Collection[str] = ()
            if ctx.payload_rewritten and self.content.mode == "redacted":  # values a guard may restore
                words = removed_words(ctx.body, orjson.dumps(ctx.payload))
            ref, piece = self.content.keep(event_id, "response", data, _org(ctx), words=words)
            record["content"] = [ref]
            if piece is not None:
                pieces = (piece,)
        index = (event_id, "llm.response", time_us, *(columns or self._call_columns(ctx)), status or 0, worst)
        return Entry(record, pieces, None, time_us, index)

    def finished(
        self, ctx: RequestContext, end: Finished, request_recorded: bool, response_recorded: bool
    ) -> Sequence[Entry]:
        """Everything not yet recorded about a finished call (strict mode recorded some already)."""
        if response_recorded:
            return self.guards(ctx, end)
        if not request_recorded:
            if denied_by_policy(ctx) or (ctx.surface in NON_CALL_SURFACES and ctx.status >= 400):
                return self.denial(ctx, end)
            if ctx.surface in NON_CALL_SURFACES:
                return []
        base, columns = self.base(ctx), self._call_columns(ctx)
        response = self.response(ctx, end, None, base, columns)
        if request_recorded:
            entries = [response]
        else:
            started_us = end.time_us - _micros(end.perf - ctx.started)
            entries = [self.request(ctx, started_us, base, columns), response]
        if ctx.decisions or ctx.verdicts:
            entries += self.guards(ctx, end, base)
        return entries

    def denial(self, ctx: RequestContext, end: Finished) -> list[Entry]:
        """A call a policy stopped: ``auth.failure``, ``limit.rejected`` or ``policy.decision``."""
        detail = call_detail(ctx)
        if ctx.client:
            detail["client"] = ctx.client
        event = AuditEvent(
            denial_type(ctx),
            time_us=end.time_us,
            status=ctx.status or None,
            error_code=ctx.error_code,
            latency_us=_micros(end.perf - ctx.started),
            verdicts=_verdicts(ctx),
            detail=detail,
        )
        record = self.base(ctx) | event.to_record()
        pieces: tuple[ContentPiece, ...] = ()
        if ctx.body and ctx.principal is not None:  # what an authenticated caller was refused
            record["content"], pieces = request_content(self.content, event.id, ctx)
        return [Entry(record, pieces, time_us=end.time_us), *self.guards(ctx, end)]

    def guards(self, ctx: RequestContext, end: Finished, base: dict[str, Any] | None = None) -> list[Entry]:
        """One ``guard.verdict`` per guard verdict that is not an allow (see ``call_details``)."""
        events = guard_events(ctx, end.time_us)
        if not events:
            return []
        shared = base or self.base(ctx)
        return [Entry(shared | event.to_record(), time_us=end.time_us) for event in events]


def _principal_json(principal: Principal) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": principal.kind, "id": principal.id}
    for name, value in (("org", principal.org_id), ("team", principal.team_id), ("key_id", principal.key_id)):
        if value is not None:
            data[name] = value
    data["delegation"] = list(principal.delegation_chain)
    return data


def denied_by_policy(ctx: RequestContext) -> bool:
    """A policy ended the call before it reached a provider."""
    return not ctx.provider and any(d.outcome == "deny" for d in ctx.decisions)
