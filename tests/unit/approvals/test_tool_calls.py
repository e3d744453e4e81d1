"""Tool-call approvals of the LLM surfaces: which call a retry is, and what a row says when."""

from __future__ import annotations

from typing import Any

from tollhouse.approvals.held import tool_call_at
from tollhouse.approvals.tool_calls import (
    ToolCallApprovals,
    call_digest,
    canonical_arguments,
    conversation_digest,
)
from tollhouse.guards.config import ApprovalsConfig
from tollhouse.identity.principal import Principal
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.phases import CallKind


def _ctx(principal: str = "alice") -> RequestContext:
    ctx = RequestContext("r", "chat", CallKind.LLM, {}, None, 0.0)  # type: ignore[arg-type]
    ctx.principal = Principal(kind="user", id=principal)
    ctx.model = "agent"
    return ctx


def _row(
    status: str, created: float, expires: float, decided: float | None = None, digest: str = "d"
) -> dict[str, Any]:
    return {"id": f"apr_{status}", "digest": digest, "status": status, "expires_at": expires,
            "decided_at": decided, "decided_by": "user:bob" if decided else None, "created_at": created}  # fmt: skip


def test_a_retry_is_the_same_call_whatever_the_key_order_or_tool_call_id() -> None:
    conversation = conversation_digest({"messages": [{"role": "user", "content": "tidy up"}], "stream": True})
    same = conversation_digest({"stream": False, "messages": [{"content": "tidy up", "role": "user"}]})
    assert conversation == same  # streaming or not, the conversation is the same
    a = call_digest(_ctx(), conversation, "shell", canonical_arguments('{"cmd": "rm", "force": true}'))
    b = call_digest(_ctx(), conversation, "shell", canonical_arguments({"force": True, "cmd": "rm"}))
    assert a == b
    assert a != call_digest(_ctx("mallory"), conversation, "shell", canonical_arguments({"cmd": "rm"}))
    assert a != call_digest(_ctx(), conversation, "shell", canonical_arguments('{"cmd": "rm -rf"}'))
    assert canonical_arguments("not json") == "not json"


def test_what_a_row_says_over_time() -> None:
    service = ToolCallApprovals(ApprovalsConfig(timeout_s=10, valid_s=100), "sqlite://", migrate=False)
    service._take([_row("pending", 0, 10)])
    assert service.ruling("d", now=5) is not None and service.ruling("d", now=5).status == "pending"  # type: ignore[union-attr]
    expired = service.ruling("d", now=11)
    assert expired is not None and expired.status == "expired" and expired.approval_id == "apr_pending"
    assert service.ruling("d", now=111) is None  # then a retry asks again
    service._take([_row("approved", 0, 10, decided=4, digest="e")])
    approved = service.ruling("e", now=50)
    assert approved is not None and approved.status == "approved" and approved.decided_by == "user:bob"
    assert service.ruling("e", now=105) is None
    assert service.ruling("other", now=5) is None


def test_an_approval_outranks_a_denial_of_the_same_call() -> None:
    service = ToolCallApprovals(ApprovalsConfig(timeout_s=10, valid_s=100), "sqlite://", migrate=False)
    service._take([_row("denied", 0, 10, decided=2)])
    denied = service.ruling("d", now=3)
    assert denied is not None and denied.status == "denied"
    service._take([_row("approved", 1, 11, decided=3)])  # two replicas held it; one approved
    approved = service.ruling("d", now=4)
    assert approved is not None and approved.status == "approved"


def test_holding_a_call_is_seen_at_once_by_the_next_retry() -> None:
    service = ToolCallApprovals(ApprovalsConfig(), "sqlite://", migrate=False)
    ruling, row = service.hold(_ctx(), "d2", "shell", '{"cmd":"rm"}', "guard dangerous: pattern")
    assert ruling.status == "pending" and row["id"] == ruling.approval_id and row["source"] == "chat"
    assert row["principal"] == "user:alice" and row["args_preview"] == '{"cmd":"rm"}'
    again = service.ruling("d2")
    assert again is not None and again.approval_id == ruling.approval_id


def test_the_tool_call_a_path_lies_in_on_each_surface() -> None:
    chat = {
        "choices": [
            {"message": {"tool_calls": [{"id": "c1", "function": {"name": "sh", "arguments": "{}"}}]}}
        ]
    }
    path = ("choices", 0, "message", "tool_calls", 0, "function", "arguments")
    assert tool_call_at(chat, path) == (("choices", 0, "message", "tool_calls", 0), "sh", "{}")
    responses = {"output": [{"type": "function_call", "name": "sh", "arguments": '{"a": 1}'}]}
    assert tool_call_at(responses, ("output", 0, "arguments")) == (("output", 0), "sh", '{"a": 1}')
    anthropic = {"content": [{"type": "tool_use", "name": "sh", "input": {"cmd": "ls"}}]}
    assert tool_call_at(anthropic, ("content", 0, "input", "cmd")) == (("content", 0), "sh", {"cmd": "ls"})
    assert tool_call_at({"choices": []}, ("choices", 0)) is None
