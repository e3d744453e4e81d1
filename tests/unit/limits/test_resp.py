"""The minimal RESP client's wire format: commands out, replies in (also split across reads)."""

from __future__ import annotations

import asyncio

import pytest

from tollhouse.limits.resp import _INCOMPLETE, RespClient, RespError, _parse, _Protocol, encode


def test_commands_are_arrays_of_bulk_strings() -> None:
    assert (
        encode("EVALSHA", "ab", 0, b"\x00{}")
        == b"*4\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n0\r\n$3\r\n\x00{}\r\n"
    )


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        (b"$5\r\nhello\r\n", b"hello"),
        (b"$0\r\n\r\n", b""),
        (b"$-1\r\n", None),
        (b"+OK\r\n", b"OK"),
        (b":-42\r\n", -42),
        (b"*3\r\n$1\r\n1\r\n$-1\r\n:7\r\n", [b"1", None, 7]),
        (b"*0\r\n", []),
    ],
)
def test_replies_parse(wire: bytes, value: object) -> None:
    assert _parse(wire, 0) == (value, len(wire))


def test_error_replies_become_values_not_exceptions() -> None:
    value, end = _parse(b"-NOSCRIPT No matching script\r\n", 0)
    assert isinstance(value, RespError)
    assert str(value).startswith("NOSCRIPT")
    assert end == 30


@pytest.mark.parametrize("cut", [1, 3, 5, 9, 12])
def test_a_reply_split_across_reads_waits_for_the_rest(cut: int) -> None:
    wire = b"*2\r\n$3\r\nabc\r\n:1\r\n"
    assert _parse(wire[:cut], 0) == (_INCOMPLETE, 0)


async def test_replies_answer_waiters_in_order_even_when_split() -> None:
    protocol = _Protocol()
    loop = asyncio.get_running_loop()
    first, second = loop.create_future(), loop.create_future()
    protocol.waiters.extend([first, second])
    protocol.data_received(b"$2\r\nab\r\n:4")
    assert first.result() == b"ab"
    assert not second.done()
    protocol.data_received(b"2\r\n")
    assert second.result() == 42


async def test_a_lost_connection_fails_every_waiter() -> None:
    protocol = _Protocol()
    waiter = asyncio.get_running_loop().create_future()
    protocol.waiters.append(waiter)
    protocol.connection_lost(None)
    with pytest.raises(ConnectionError):
        waiter.result()


def test_urls() -> None:
    with pytest.raises(ValueError):
        RespClient("http://127.0.0.1:6379", 1.0)
    client = RespClient("redis://:s3cret@10.0.0.1:6380/2", 1.0)
    assert (client._host, client._port, client._password, client._db) == ("10.0.0.1", 6380, "s3cret", 2)
