"""Time to first token with and without a stream guard: ``python -m eval.bench_stream``.

A fake upstream streams 60 five-character words, one per chunk, 2 ms apart, through the
real gateway twice: to an unguarded alias, and to one whose policy scans the stream
(secrets, PII, exfiltration; hold-back 32 characters). A guarded stream can release text
only once ``hold_back`` characters lie behind it, so its first token is compared with the
moment the unguarded client got the chunk that completes the hold-back — the difference is
what the guards cost. The target is at most 1 ms.
"""

from __future__ import annotations

import http.client
import statistics
import time
from typing import Any

import orjson
from tests.fakes.scripted_openai import Script, ScriptedOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway

from tollhouse.guards.detector import CallState
from tollhouse.guards.stream_window import StreamWindow
from tollhouse.model.stream import TextDelta

HOLD_BACK = 32
PIECES = [f"w{i:03d} " for i in range(60)]


def _config(url: str) -> dict[str, Any]:
    guards = [{"type": "secrets"}, {"type": "pii", "action": "redact"}, {"type": "exfiltration"}]
    return {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {"up": {"kind": "openai_compatible", "base_url": url + "/v1"}},
        "models": [{"alias": "plain", "target": "up/m"}, {"alias": "guarded", "target": "up/m"}],
        "guardrails": {
            "policies": [
                {
                    "name": "s",
                    "match": {"models": ["guarded"]},
                    "guards": guards,
                    "hold_back_chars": HOLD_BACK,
                }
            ]
        },
    }


def _arrivals(port: int, model: str) -> list[tuple[float, str]]:
    """(seconds since the request was sent, content) for every content delta received."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = orjson.dumps({"model": model, "stream": True, "messages": [{"role": "user", "content": "go"}]})
    headers = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json"}
    started = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body, headers)
    response = conn.getresponse()
    out: list[tuple[float, str]] = []
    while line := response.readline():
        if line.startswith(b"data: {"):
            chunk = orjson.loads(line[6:])
            for choice in chunk.get("choices") or ():
                text = choice["delta"].get("content")
                if text:
                    out.append((time.perf_counter() - started, text))
    conn.close()
    return out


def _first_release_chunk() -> int:
    """The chunk after which the window first releases text (found by running the window)."""
    window = StreamWindow(
        (),
        (),
        CallState(),
        hold_back=HOLD_BACK,
        restore_placeholders=False,
        dry_run=False,
        report=lambda t: None,
    )
    for index, piece in enumerate(PIECES):
        if window.feed(TextDelta(piece)):
            return index
    raise AssertionError("the window never released text")


def main(rounds: int = 30) -> None:
    k = _first_release_chunk()
    plain_first, plain_k, guarded_first = [], [], []
    with ScriptedOpenAI() as upstream:
        upstream.script = Script(pieces=PIECES, delay_s=0.002)
        with RunningGateway(_config(upstream.base_url)) as gateway:
            for _ in range(rounds):
                plain = _arrivals(gateway.port, "plain")
                guarded = _arrivals(gateway.port, "guarded")
                plain_first.append(plain[0][0] * 1000)
                plain_k.append(plain[k][0] * 1000)
                guarded_first.append(guarded[0][0] * 1000)
    overhead = [g - p for g, p in zip(guarded_first, plain_k, strict=True)]
    print(
        f"first token, unguarded:                {statistics.median(plain_first):6.2f} ms (median of {rounds})"
    )
    print(f"chunk {k} (hold-back reached), unguarded: {statistics.median(plain_k):6.2f} ms")
    print(f"first token, guarded:                  {statistics.median(guarded_first):6.2f} ms")
    print(
        f"guard cost over the hold-back:         {statistics.median(overhead):6.2f} ms median, "
        f"{max(overhead):.2f} ms max"
    )


if __name__ == "__main__":
    main()
