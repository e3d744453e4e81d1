"""read_body: the whole body under a size limit and a deadline, disconnects surfaced."""

from __future__ import annotations

import pytest

from tests.unit.support import ScriptedReceive, body_messages
from tollhouse.errors import InvalidRequest, PayloadTooLarge, RequestTimeout
from tollhouse.http.body import ClientGone, read_body


@pytest.mark.parametrize("chunk", [None, 1, 3, 1000])
async def test_chunks_are_joined_in_order(chunk: int | None) -> None:
    body = b'{"model": "m", "messages": []}'
    receive = ScriptedReceive(body_messages(body, chunk))
    assert await read_body(receive, {"content-length": str(len(body))}, 1000, 1.0) == body


async def test_messages_without_a_body_key_count_as_empty() -> None:
    receive = ScriptedReceive(
        [
            {"type": "http.request", "more_body": True},
            {"type": "http.request", "body": b"{}", "more_body": True},
            {"type": "http.request"},
        ]
    )
    assert await read_body(receive, {}, 100, 1.0) == b"{}"


async def test_no_body_at_all_is_empty() -> None:
    assert await read_body(ScriptedReceive([{"type": "http.request"}]), {}, 100, 1.0) == b""


async def test_declared_length_may_equal_the_limit() -> None:
    receive = ScriptedReceive(body_messages(b"x" * 100))
    assert await read_body(receive, {"content-length": "100"}, 100, 1.0) == b"x" * 100


async def test_declared_length_over_the_limit_raises_without_reading() -> None:
    receive = ScriptedReceive(body_messages(b"{}"))
    with pytest.raises(PayloadTooLarge):
        await read_body(receive, {"content-length": "101"}, 100, 1.0)
    assert receive.calls == 0


async def test_undeclared_body_over_the_limit_raises() -> None:
    with pytest.raises(PayloadTooLarge):
        await read_body(ScriptedReceive(body_messages(b"x" * 101, 10)), {}, 100, 1.0)


@pytest.mark.parametrize(
    "messages",
    [
        [{"type": "http.disconnect"}],
        [{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}],
    ],
)
async def test_disconnect_raises_client_gone(messages: list[dict[str, object]]) -> None:
    with pytest.raises(ClientGone):
        await read_body(ScriptedReceive(messages), {}, 100, 1.0)


async def test_slow_body_times_out() -> None:
    with pytest.raises(RequestTimeout) as info:
        await read_body(ScriptedReceive([]), {}, 100, 0.02)
    assert info.value.status == 408


async def test_superscript_content_length_is_an_invalid_header() -> None:
    with pytest.raises(InvalidRequest) as info:
        await read_body(ScriptedReceive(body_messages(b"{}")), {"content-length": "\xb2"}, 100, 1.0)
    assert info.value.code == "invalid_header"
