"""RequestValidation: body limits (413), deadline (408), JSON syntax and shape (400)."""

from __future__ import annotations

import orjson
import pytest

from tests.unit.support import ScriptedReceive, body_messages, make_ctx
from tollhouse.errors import InvalidRequest, PayloadTooLarge, RequestTimeout
from tollhouse.http.body import ClientGone
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny
from tollhouse.pipeline.phases import Phase
from tollhouse.policies.master_key import MasterKeyAuth
from tollhouse.policies.request_validation import RequestValidation

LIMIT = 256
CHAT = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}


def _ctx(
    body: bytes, surface: str = "chat", chunk: int | None = None, headers: dict[str, str] | None = None
) -> tuple[RequestContext, ScriptedReceive]:
    receive = ScriptedReceive(body_messages(body, chunk))
    return make_ctx(surface, headers=headers, receive=receive), receive


async def _deny(ctx: RequestContext, timeout: float = 5.0) -> Deny:
    outcome = await RequestValidation(LIMIT, timeout).enter(ctx)
    assert isinstance(outcome, Deny), outcome
    assert outcome.policy == "request_validation"
    return outcome


def test_runs_after_authentication() -> None:
    assert RequestValidation.phase > MasterKeyAuth.phase
    assert RequestValidation.phase is Phase.VALIDATE


@pytest.mark.parametrize("chunk", [None, 7])
async def test_valid_chat_body_is_decoded_into_the_context(chunk: int | None) -> None:
    body = orjson.dumps({**CHAT, "stream": True, "stream_options": {"include_usage": True}})
    ctx, _ = _ctx(body, chunk=chunk)

    assert await RequestValidation(LIMIT, 5).enter(ctx) is None

    assert ctx.body == body
    assert ctx.payload["messages"] == CHAT["messages"]
    assert ctx.model == "demo"
    assert ctx.stream is True


async def test_stream_flag_only_for_literal_true() -> None:
    ctx, _ = _ctx(orjson.dumps({**CHAT, "stream": False}))
    assert await RequestValidation(LIMIT, 5).enter(ctx) is None
    assert ctx.stream is False


async def test_body_exactly_at_the_limit_is_accepted() -> None:
    body = orjson.dumps({**CHAT, "user": ""})
    body = body[:-1] + b" " * (LIMIT - len(body)) + b"}"
    assert len(body) == LIMIT
    ctx, _ = _ctx(body, chunk=50)
    assert await RequestValidation(LIMIT, 5).enter(ctx) is None


async def test_declared_content_length_over_the_limit_is_413_before_reading() -> None:
    ctx, receive = _ctx(b"{}", headers={"content-length": str(LIMIT + 1)})
    outcome = await _deny(ctx)
    assert isinstance(outcome.error, PayloadTooLarge)
    assert outcome.error.status == 413
    assert outcome.reason == "request_too_large"
    assert receive.calls == 0


async def test_single_message_over_the_limit_is_413() -> None:
    ctx, _ = _ctx(b"x" * (LIMIT + 1))
    outcome = await _deny(ctx)
    assert isinstance(outcome.error, PayloadTooLarge)


async def test_streamed_body_over_the_limit_is_413_without_reading_the_rest() -> None:
    messages = [{"type": "http.request", "body": b"x" * 100, "more_body": True} for _ in range(10)]
    receive = ScriptedReceive(messages)
    ctx = make_ctx(receive=receive)

    outcome = await _deny(ctx)

    assert isinstance(outcome.error, PayloadTooLarge)
    assert receive.calls == 3  # 300 bytes > 256: stop there
    assert ctx.body == b""


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", ""])
async def test_malformed_content_length_is_400(value: str) -> None:
    ctx, _ = _ctx(orjson.dumps(CHAT), headers={"content-length": value})
    outcome = await _deny(ctx)
    assert isinstance(outcome.error, InvalidRequest)
    assert outcome.error.code == "invalid_header"


async def test_body_that_never_arrives_is_408() -> None:
    ctx = make_ctx(receive=ScriptedReceive([]))
    outcome = await _deny(ctx, timeout=0.05)
    assert isinstance(outcome.error, RequestTimeout)
    assert outcome.error.status == 408
    assert "0.05" in outcome.error.message


async def test_body_that_stops_half_way_is_408() -> None:
    receive = ScriptedReceive([{"type": "http.request", "body": b'{"model"', "more_body": True}])
    outcome = await _deny(make_ctx(receive=receive), timeout=0.05)
    assert isinstance(outcome.error, RequestTimeout)


async def test_client_disconnect_while_reading_propagates() -> None:
    receive = ScriptedReceive(
        [{"type": "http.request", "body": b'{"model"', "more_body": True}, {"type": "http.disconnect"}]
    )
    with pytest.raises(ClientGone):
        await RequestValidation(LIMIT, 5).enter(make_ctx(receive=receive))


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "demo", "messages": [',
        b'{"model": "\xff"}',  # invalid UTF-8
        b"{'model': 'demo'}",
        b"\xef\xbb\xbf",
    ],
)
async def test_invalid_json_is_400(body: bytes) -> None:
    ctx, _ = _ctx(body)
    outcome = await _deny(ctx)
    assert isinstance(outcome.error, InvalidRequest)
    assert outcome.error.status == 400
    assert outcome.error.code == "invalid_json"
    assert outcome.reason == "invalid_json"
    assert "not valid JSON" in outcome.error.message


async def test_invalid_json_message_does_not_echo_the_body() -> None:
    ctx, _ = _ctx(b'{"model": "demo", "secret": "sk-abcdefghijklmnop", oops}')
    outcome = await _deny(ctx)
    assert "sk-abcdefghijklmnop" not in outcome.error.message


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null", b"true"])
async def test_non_object_json_is_400(body: bytes) -> None:
    ctx, _ = _ctx(body)
    outcome = await _deny(ctx)
    assert outcome.error.code == "invalid_json"
    assert "JSON object" in outcome.error.message


async def test_empty_body_is_400() -> None:
    ctx, _ = _ctx(b"")
    outcome = await _deny(ctx)
    assert outcome.error.code == "invalid_json"
    assert "empty" in outcome.error.message


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"model": "demo"}, "messages"),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({**CHAT, "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({**CHAT, "n": True}, "n"),
        ({**CHAT, "temperature": 3}, "temperature"),
        ({**CHAT, "stream_options": {"include_usage": True}}, "stream_options"),
    ],
)
async def test_chat_shape_errors_name_the_param(payload: dict[str, object], param: str) -> None:
    ctx, _ = _ctx(orjson.dumps(payload))
    outcome = await _deny(ctx)
    assert isinstance(outcome.error, InvalidRequest)
    assert outcome.error.param == param
    assert ctx.payload == {}  # nothing half-validated is left behind


async def test_embeddings_surface_uses_the_embeddings_checks() -> None:
    good, _ = _ctx(orjson.dumps({"model": "emb", "input": ["a", "b"]}), surface="embeddings")
    assert await RequestValidation(LIMIT, 5).enter(good) is None
    assert good.model == "emb"

    bad, _ = _ctx(orjson.dumps({"model": "emb", "input": ""}), surface="embeddings")
    outcome = await _deny(bad)
    assert outcome.error.param == "input"

    # A chat body is not an embeddings body.
    chat, _ = _ctx(orjson.dumps(CHAT), surface="embeddings")
    assert (await _deny(chat)).error.param == "input"


async def test_surface_without_a_checker_only_needs_a_json_object() -> None:
    ctx, _ = _ctx(b'{"anything": 1}', surface="other")
    assert await RequestValidation(LIMIT, 5).enter(ctx) is None
    assert ctx.payload == {"anything": 1}
    assert ctx.model == ""
