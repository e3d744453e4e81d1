"""docs/guardrails.md's "Turn one on" example does what the page says, through the real app."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import orjson
import pytest

from tests.support.gateway import RunningGateway
from tests.support.surfaces import raw_sse

DOC = Path(__file__).resolve().parents[2] / "docs" / "guardrails.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_quick_start_blocks_the_injection_and_restores_redactions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOLLHOUSE_MASTER_KEY", "sk-local")
    config, shell = _blocks("yaml")[0], _blocks("sh")[0]
    words = shlex.split(shell.split("&", 1)[1].replace("\\\n", " "))
    body = orjson.loads(words[words.index("-d") + 1])
    shown = orjson.loads(_blocks("text")[0])
    headers = {"authorization": "Bearer sk-local"}
    with RunningGateway(config) as gateway:
        status, events = raw_sse(gateway.url, "/v1/chat/completions", body, headers)
        assert status == 400
        assert events[0][1] == shown
        email = {"model": "demo", "messages": [{"role": "user", "content": "mail ann@example.org"}]}
        status, events = raw_sse(gateway.url, "/v1/chat/completions", email, headers)
        assert status == 200
        assert "You said: mail ann@example.org" in events[0][1]["choices"][0]["message"]["content"]
