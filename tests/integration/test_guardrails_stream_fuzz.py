"""Guarded streams against the JSON answer of the same text, wherever the chunks break.

The scripted upstream answers with one text twice: whole, as a JSON completion, and as a
stream cut into random pieces (single characters included) and written in random TCP writes.
With secrets blocked and PII redacted at a hold-back shorter than the values themselves:

- a text holding a secret is refused as JSON and ends the stream with ``content_filter``,
  and no byte of the stream carries the secret;
- any other text streams exactly as the JSON answer reads: every value redacted whole, none
  of it released before it was recognised (a card or an IBAN written in groups included).

Seeded, so a failure reproduces; bounded (160 texts, a few seconds). Its first runs found a
card's or an IBAN's first groups released before the rest (they match nothing alone), and a
street redacted as one address and its city and ZIP, arriving more than a hold-back later, as
a second where the JSON answer has one.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest

from tests.fakes.scripted_openai import Script, ScriptedOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tests.support.guarded import HEADERS, error_of, finish_reasons, streamed_text, user
from tests.support.surfaces import raw_sse

TEXTS = 160
HOLD_BACK = 12  # shorter than most values below: the window must still judge each whole
FILLER = (
    "the",
    "build",
    "passed",
    "and",
    "logs",
    "look",
    "clean",
    "so",
    "we",
    "can",
    "move",
    "on",
    "to",
    "next",
)


def _luhn_card(rng: random.Random, prefix: str) -> str:
    digits = [int(d) for d in prefix] + [rng.randint(0, 9) for _ in range(15 - len(prefix))]
    total = sum(d if i % 2 else sum(divmod(d * 2, 10)) for i, d in enumerate(reversed(digits)))
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def _iban(rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    numeric = "".join(str(int(c, 36)) for c in bban + "DE00")
    return f"DE{98 - int(numeric) % 97:02d}{bban}"


def _grouped(value: str, size: int = 4) -> str:
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def _secret(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    pick = rng.randrange(4)
    if pick == 0:
        return "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
    if pick == 1:
        return "ghp_" + "".join(rng.choice(alnum) for _ in range(36))
    if pick == 2:
        return "sk_live_" + "".join(rng.choice(alnum) for _ in range(24))
    return (
        "xoxb-"
        + "-".join("".join(rng.choice(string.digits) for _ in range(12)) for _ in range(2))
        + ("-" + "".join(rng.choice(alnum) for _ in range(24)))
    )


def _pii(rng: random.Random) -> str:
    pick = rng.randrange(7)
    if pick == 0:
        return f"{rng.choice(['ann', 'li.wei', 'o.brien'])}{rng.randint(1, 99)}@example.org"
    if pick == 1:
        return f"+1 415-555-{rng.randint(1000, 1999)}"
    if pick == 2:
        return _grouped(_luhn_card(rng, "4"))
    if pick == 3:
        return _luhn_card(rng, "51")
    if pick == 4:
        return _grouped(_iban(rng))
    if pick == 5:
        return f"+44 20 7946 {rng.randint(1000, 9999)}"
    street = f"{rng.randint(1, 99999)} {rng.choice(['Edward Ferry', 'Oak Street', 'Jones Inlet'])}"
    suite = rng.choice(["", f" Apt. {rng.randint(1, 999)}", f", Suite {rng.randint(1, 999)}"])
    city = rng.choice(["North Nathanborough", "Springfield", "East Rachelview"])
    return f"{street}{suite}, {city}, {rng.choice(['MO', 'IL', 'MA'])} {rng.randint(10000, 99999)}"


def _filler(rng: random.Random, most: int) -> str:
    return " ".join(rng.choice(FILLER) for _ in range(rng.randint(0, most)))


def _pieces(rng: random.Random, text: str) -> list[str]:
    if rng.random() < 0.15:
        return list(text)
    cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, rng.randint(1, 14))))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in pairwise(bounds)]


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def gw(scripted: ScriptedOpenAI) -> Iterator[RunningGateway]:
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {"scripted": {"kind": "openai_compatible", "base_url": scripted.base_url + "/v1"}},
        "models": [{"alias": "guarded", "target": "scripted/gpt-4o-mini"}],
        "guardrails": {
            "policies": [
                {
                    "name": "output",
                    "stages": ["response", "stream"],
                    "hold_back_chars": HOLD_BACK,
                    "guards": [{"type": "secrets"}, {"type": "pii", "action": "redact"}],
                }
            ]
        },
    }
    with RunningGateway(config) as gateway:
        yield gateway


def _ask(gw: RunningGateway, stream: bool) -> tuple[int, list[tuple[str, Any]]]:
    body = {"model": "guarded", "messages": user("go"), "stream": stream}
    return raw_sse(gw.url, "/v1/chat/completions", body, HEADERS)


def test_streams_match_the_json_answer_wherever_the_chunks_break(
    gw: RunningGateway, scripted: ScriptedOpenAI
) -> None:
    rng = random.Random(20261128)
    blocked = redacted = 0
    for _ in range(TEXTS):
        secret = _secret(rng) if rng.random() < 0.3 else None
        values = [_pii(rng) for _ in range(rng.randint(1, 3))]
        middle = " and ".join([*values, *([f"key {secret}"] if secret else [])])
        text = f"{_filler(rng, 20)} {middle}, {_filler(rng, 8)}".strip()
        scripted.script = Script(pieces=[text])
        status, answer = _ask(gw, stream=False)
        scripted.script = Script(pieces=_pieces(rng, text), write_size=rng.choice([0, 0, 97]))
        stream_status, events = _ask(gw, stream=True)
        streamed = streamed_text(events)
        assert stream_status == 200, text
        if secret is not None:
            blocked += 1
            assert status == 400 and answer[0][1]["error"]["code"] == "content_filter", text
            assert finish_reasons(events)[-1] == "content_filter", text
            error = error_of(events)
            assert error is not None and error["code"] == "content_filter"
            assert secret[:8] not in str(events), text
            continue
        redacted += 1
        assert status == 200, (text, answer)
        expected = answer[0][1]["choices"][0]["message"]["content"]
        assert streamed == expected, (text, events)
        assert finish_reasons(events) == ["stop"]
        for value in values:
            assert value not in expected and value.split()[0] not in streamed, (value, streamed)
    assert blocked > 20 and redacted > 80  # both kinds of text were exercised
