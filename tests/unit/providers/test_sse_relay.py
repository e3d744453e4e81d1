"""SSERelay: whole events out, byte-identical, usage noted and dropped only when unrequested."""

from __future__ import annotations

import itertools
import random

import orjson
import pytest

from tollhouse.model.chat import Usage
from tollhouse.providers.openai_compatible.stream import SSERelay


def _event(obj: object) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> bytes:
    return _event(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
    )


USAGE = {
    "prompt_tokens": 9,
    "completion_tokens": 12,
    "total_tokens": 21,
    "prompt_tokens_details": {"cached_tokens": 3},
}
USAGE_CHUNK = _event(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt",
        "choices": [],
        "usage": USAGE,
    }
)
DONE = b"data: [DONE]\n\n"
EVENTS = [
    _chunk({"role": "assistant", "content": ""}, usage=None),
    _chunk({"content": "Hel"}, usage=None),
    _chunk({"content": "lo, \u00e9t\u00e9 \U0001f600"}, usage=None),  # multi-byte UTF-8 to split inside
    _chunk({}, "stop", usage=None),
    USAGE_CHUNK,
    DONE,
]
STREAM = b"".join(EVENTS)
WITHOUT_USAGE = b"".join(e for e in EVENTS if e is not USAGE_CHUNK)


def _relay(pieces: list[bytes], keep_usage: bool) -> tuple[SSERelay, list[bytes]]:
    relay = SSERelay(keep_usage=keep_usage)
    out = [relay.feed(piece) for piece in pieces]
    out.append(relay.finish())
    return relay, out


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def _assert_whole_events(outputs: list[bytes], expected: bytes) -> None:
    """Each output is a run of complete events: the running total always ends on an event boundary."""
    boundaries = {0}
    pos = 0
    while pos < len(expected):
        pos = expected.index(b"\n\n", pos) + 2
        boundaries.add(pos)
    sent = b""
    for out in outputs:
        sent += out
        assert len(sent) in boundaries, f"partial event forwarded: {out!r}"
    assert sent == expected


@pytest.mark.parametrize("keep_usage", [True, False])
def test_every_single_split_point_forwards_whole_identical_events(keep_usage: bool) -> None:
    expected = STREAM if keep_usage else WITHOUT_USAGE
    for cut in range(1, len(STREAM)):
        relay, outputs = _relay(_split(STREAM, [cut]), keep_usage)
        _assert_whole_events(outputs, expected)
        assert relay.done
        assert relay.usage == Usage(prompt_tokens=9, completion_tokens=12, cached_tokens=3)


@pytest.mark.parametrize("seed", range(30))
def test_random_multi_splits_forward_whole_identical_events(seed: int) -> None:
    rng = random.Random(seed)
    cuts = rng.sample(range(1, len(STREAM)), rng.randint(2, 40))
    relay, outputs = _relay(_split(STREAM, cuts), keep_usage=False)
    _assert_whole_events(outputs, WITHOUT_USAGE)
    assert relay.done
    assert relay.usage is not None
    assert relay.usage.total_tokens == 21


def test_byte_at_a_time() -> None:
    relay, outputs = _relay([STREAM[i : i + 1] for i in range(len(STREAM))], keep_usage=True)
    _assert_whole_events(outputs, STREAM)
    assert relay.done and relay.usage is not None and relay.usage.total_tokens == 21


def test_whole_stream_in_one_piece() -> None:
    relay, outputs = _relay([STREAM], keep_usage=True)
    assert outputs[0] == STREAM
    assert outputs[1] == b""
    assert relay.done and relay.usage is not None and relay.usage.total_tokens == 21


def test_usage_chunk_dropped_when_not_requested_but_usage_still_captured() -> None:
    relay, outputs = _relay([STREAM], keep_usage=False)
    assert b"".join(outputs) == WITHOUT_USAGE
    assert b'"total_tokens"' not in b"".join(outputs)
    assert relay.usage == Usage(prompt_tokens=9, completion_tokens=12, cached_tokens=3)


def test_usage_chunk_kept_when_requested() -> None:
    relay, outputs = _relay([STREAM], keep_usage=True)
    assert USAGE_CHUNK in b"".join(outputs)
    assert relay.usage is not None


def test_usage_riding_on_a_content_chunk_is_never_dropped() -> None:
    # Some providers (e.g. Mistral) put usage on the last chunk that also has choices.
    last = _chunk({}, "stop", usage={"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3})
    stream = _chunk({"content": "x"}) + last + DONE
    relay, outputs = _relay([stream], keep_usage=False)
    assert b"".join(outputs) == stream
    assert relay.usage == Usage(prompt_tokens=2, completion_tokens=1)


def test_null_usage_chunks_are_forwarded_and_set_nothing() -> None:
    stream = _chunk({"content": "x"}, usage=None) + DONE
    relay, outputs = _relay([stream], keep_usage=False)
    assert b"".join(outputs) == stream
    assert relay.usage is None


def test_done_sets_done_and_its_absence_does_not() -> None:
    relay, _ = _relay([_chunk({"content": "x"})], keep_usage=False)
    assert relay.done is False
    relay, _ = _relay([_chunk({"content": "x"}), b"data:[DONE]\n\n"], keep_usage=False)
    assert relay.done is True


def test_crlf_line_endings_are_normalised() -> None:
    crlf = STREAM.replace(b"\n", b"\r\n")
    relay, outputs = _relay([crlf[:100], crlf[100:]], keep_usage=True)  # cut not inside a CRLF
    assert crlf[99:101] != b"\r\n"
    _assert_whole_events(outputs, STREAM)
    assert relay.done
    assert relay.usage is not None


def test_crlf_split_across_reads_is_normalised() -> None:
    event = b'data: {"a":1}\r\n\r\n'
    relay = SSERelay(keep_usage=True)
    first = relay.feed(event[:-1])  # ends with a lone \r
    second = relay.feed(event[-1:])
    assert first + second == b'data: {"a":1}\n\n'


def test_finish_flushes_a_trailing_event_without_blank_line() -> None:
    relay = SSERelay(keep_usage=False)
    assert relay.feed(_chunk({"content": "x"}) + b"data: [DONE]") == _chunk({"content": "x"})
    assert relay.done is False
    assert relay.finish() == DONE
    assert relay.done is True


def test_finish_flushes_a_trailing_event_with_a_single_newline() -> None:
    relay = SSERelay(keep_usage=True)
    assert relay.feed(b'data: {"a":1}\n') == b""
    assert relay.finish() == b'data: {"a":1}\n\n'


def test_finish_with_nothing_left_is_empty() -> None:
    relay = SSERelay(keep_usage=True)
    relay.feed(_chunk({"content": "x"}) + b"\n")
    assert relay.finish() == b""
    assert relay.finish() == b""


def test_trailing_usage_only_event_is_filtered_on_finish() -> None:
    relay = SSERelay(keep_usage=False)
    relay.feed(USAGE_CHUNK.rstrip(b"\n"))
    assert relay.finish() == b""
    assert relay.usage is not None


def test_comments_and_non_json_events_pass_through() -> None:
    stream = b": keep-alive\n\n" + b'data: {"usage": oops}\n\n' + b"event: ping\ndata: {}\n\n" + DONE
    relay, outputs = _relay([stream], keep_usage=False)
    assert b"".join(outputs) == stream
    assert relay.usage is None


def test_done_written_in_content_is_not_the_end() -> None:
    tricky = _chunk({"content": "data: [DONE]"}, usage=None)
    relay, outputs = _relay([tricky], keep_usage=False)
    assert b"".join(outputs) == tricky
    assert not relay.done


def test_a_string_valued_usage_is_not_a_report() -> None:
    call = {"index": 0, "id": "c1", "type": "function", "function": {"name": "usage", "arguments": ""}}
    event = _chunk({"tool_calls": [call]}, usage=None)
    relay, outputs = _relay([event, DONE], keep_usage=False)
    assert b"".join(outputs) == event + DONE
    assert relay.usage is None and relay.done


def test_usage_dropped_from_the_middle_of_one_read() -> None:
    after = _chunk({"content": "late"}, usage=None)
    relay, outputs = _relay([EVENTS[0] + USAGE_CHUNK + after + DONE], keep_usage=False)
    assert b"".join(outputs) == EVENTS[0] + after + DONE
    assert relay.usage == Usage(prompt_tokens=9, completion_tokens=12, cached_tokens=3)


@pytest.mark.parametrize("per_read", [1, 3, 40])
def test_a_stream_cut_before_its_usage_is_estimated_one_token_per_content_event(per_read: int) -> None:
    """A client that leaves mid-stream is charged for what was relayed, not the reservation:
    about one token per event after the role-only first one, however the reads fall."""
    events = [_chunk({"role": "assistant", "content": ""}, usage=None)]
    events += [_chunk({"content": f"w{i:02d}"}, usage=None) for i in range(40)]
    relay = SSERelay(keep_usage=False)
    for start in range(0, len(events), per_read):
        relay.feed(b"".join(events[start : start + per_read]))
    used = relay.used(prompt_tokens=7)
    assert used.prompt_tokens == 7
    assert 38 <= used.completion_tokens <= 42
    assert SSERelay(keep_usage=False).used(prompt_tokens=7).completion_tokens == 0
