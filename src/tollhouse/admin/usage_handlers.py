"""Admin endpoints for spend and agent sessions: reports from the ledger, CSV, the kill switch.

Spend and sessions are read with ``admin:audit:read`` (admins and security auditors: what
every caller spent is not directory data). Killing or reviving a session is an enforcement
decision on the footing of a policy change (``admin:policies:write``). ``POST …/kill`` takes
``reason`` and ``ttl_s`` as query parameters.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from tollhouse.admin.api import AdminCall, QueryParam
from tollhouse.admin.events import event
from tollhouse.identity.errors import InvalidInput, UnknownRecord
from tollhouse.limits import kills
from tollhouse.limits.reports import EXPORT_COLUMNS, GROUPS, ledger_rows, spend_report, to_csv
from tollhouse.limits.timespec import BadTime, to_us

Reply = tuple[int, Any]

_PERIOD = (
    QueryParam("since", "From this time: 7d, 24h, 2026-11-01, an ISO time or epoch seconds."),
    QueryParam("until", "Until this time (excluded); the same forms."),
)
_FILTER_PARAMS = tuple(QueryParam(name, f"Only calls of this {name}.") for name in GROUPS)
_CSV = QueryParam("format", "`csv` for a CSV file instead of JSON.")
SPEND_QUERY = (
    QueryParam("by", f"Group by one of: {', '.join(GROUPS)} (default day)."),
    *_PERIOD,
    _CSV,
    *_FILTER_PARAMS,
)
EXPORT_QUERY = (*_PERIOD, _CSV, *_FILTER_PARAMS)
KILL_QUERY = (
    QueryParam("reason", "Why; shown in lists and the admin event."),
    QueryParam("ttl_s", "How long the kill lasts, in seconds (default 30 days).", "number"),
)


def _period(call: AdminCall) -> tuple[int | None, int | None]:
    try:
        return to_us(call.query.get("since")), to_us(call.query.get("until"))
    except BadTime as exc:
        raise InvalidInput(str(exc)) from None


def _filters(call: AdminCall) -> dict[str, str]:
    return {name: call.query[name] for name in GROUPS if call.query.get(name)}


def _csv(text: str, call: AdminCall, name: str) -> Response:
    headers = {"x-request-id": call.request_id, "content-disposition": f'attachment; filename="{name}.csv"'}
    return Response(text, 200, media_type="text/csv", headers=headers)


async def spend_by(call: AdminCall) -> Reply:
    """``?by=key|team|agent|session|model|day|…&since=7d&until=…&team=ml&format=csv``."""
    by = call.query.get("by", "day")
    if by not in GROUPS:
        raise InvalidInput(f"by: one of {', '.join(GROUPS)}")
    since, until = _period(call)
    rows = await spend_report(call.services.engine, by, since, until, _filters(call))
    data = [row.as_dict(by) for row in rows]
    if call.query.get("format") == "csv":
        columns = [by, "calls", "input_tokens", "output_tokens", "cost_usd", "estimated_calls"]
        return 200, _csv(to_csv(columns, data), call, f"spend-by-{by}")
    total = sum(row.cost_nusd for row in rows) / 1e9
    return 200, {"by": by, "total_cost_usd": round(total, 9), "data": data}


async def spend_export(call: AdminCall) -> Reply:
    """The ledger's rows (cost in USD), oldest first; ``format=csv`` for a CSV file."""
    since, until = _period(call)
    rows = await ledger_rows(call.services.engine, since, until, _filters(call))
    if call.query.get("format") == "csv":
        return 200, _csv(to_csv(EXPORT_COLUMNS, rows), call, "usage")
    return 200, {"data": rows}


def _kill_view(record: kills.KillRecord | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "killed_at": record.killed_at,
        "expires_at": record.expires_at,
        "actor": record.actor,
        "reason": record.reason,
    }


async def get_session(call: AdminCall) -> Reply:
    session_id = call.params["session_id"]
    totals = await spend_report(call.services.engine, "session", filters={"session": session_id})
    killed = await kills.get_kill(call.services.engine, session_id)
    if not totals and killed is None:
        raise UnknownRecord(f"no calls recorded for session {session_id!r}")
    usage = totals[0].as_dict("session") if totals else None
    return 200, {"session_id": session_id, "usage": usage, "killed": _kill_view(killed)}


async def list_killed_sessions(call: AdminCall) -> Reply:
    records = await kills.active_kills(call.services.engine)
    return 200, {"data": [{"session_id": r.session_id, **(_kill_view(r) or {})} for r in records]}


def _ttl(call: AdminCall) -> float:
    text = call.query.get("ttl_s")
    if not text:
        return kills.DEFAULT_TTL_S
    try:
        ttl = float(text)
    except ValueError:
        ttl = -1.0
    if not 0 < ttl <= kills.MAX_TTL_S:  # also refuses NaN
        raise InvalidInput(f"ttl_s: a number of seconds above zero, at most {kills.MAX_TTL_S:.0f}")
    return ttl


async def kill_session(call: AdminCall) -> Reply:
    session_id = call.params["session_id"]
    reason = call.query.get("reason", "")[:500]
    engine = call.services.engine
    before = await kills.get_kill(engine, session_id)
    record = await kills.kill_session(engine, session_id, call.actor.name, reason, _ttl(call))
    after = _kill_view(record)
    change = event(
        "session.kill", call.actor.name, "session", session_id, _kill_view(before), after, call.request_id
    )
    call.services.sink.emit(change)
    return 200, {"session_id": record.session_id, "killed": after}


async def revive_session(call: AdminCall) -> Reply:
    session_id = call.params["session_id"]
    engine = call.services.engine
    before = await kills.get_kill(engine, session_id)
    if before is None or not await kills.revive_session(engine, session_id):
        raise UnknownRecord(f"session {session_id!r} is not killed")
    change = event(
        "session.revive", call.actor.name, "session", session_id, _kill_view(before), None, call.request_id
    )
    call.services.sink.emit(change)
    return 200, {"session_id": session_id, "killed": None}
