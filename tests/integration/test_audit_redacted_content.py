"""What the content store keeps when a guard redacts the prompt: through the real gateway.

A guardrail replaces an e-mail address (PII) and a project name (keywords) with placeholders
before the call goes upstream, and puts them back into the answer for the caller. With
content mode ``redacted`` neither value may reach the content store, in the prompt or in the
answer; with ``full`` the prompt is kept as the caller sent it and as it was forwarded.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.test_audit_gateway import _verify, audit_config
from tests.support.gateway import CLIENT_KEY, RunningGateway

EMAIL = "alice@example.com"
PROJECT = "Nightingale"
PROMPT = f"Summarise the {PROJECT} plan and mail it to {EMAIL}"


def guarded_audit_config(base_url: str, db: Path, content_mode: str) -> dict[str, Any]:
    config = audit_config(base_url, db, "async")
    config["audit"]["content"]["mode"] = content_mode
    config["guardrails"] = {
        "policies": [
            {
                "name": "privacy",
                "guards": [
                    {"type": "pii", "action": "redact", "entities": ["EMAIL"]},
                    {"type": "keywords", "id": "projects", "keywords": [PROJECT], "action": "redact"},
                ],
            }
        ]
    }
    return config


def _call(config: dict[str, Any], db: Path, stream: bool) -> tuple[str, dict[str, str]]:
    """One guarded call in session ``s1``: the caller's answer and the session's stored content."""
    with (
        RunningGateway(config) as gw,
        openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0) as client,
    ):
        messages: Any = [{"role": "user", "content": PROMPT}]
        headers = {"x-tollhouse-session": "s1"}
        if stream:
            chunks = client.chat.completions.create(
                model="gpt-test", messages=messages, stream=True, extra_headers=headers
            )
            answer = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            reply = client.chat.completions.create(model="gpt-test", messages=messages, extra_headers=headers)
            answer = reply.choices[0].message.content or ""
    report, timeline = asyncio.run(_verify(db, "s1"))
    assert report.ok, report.problems
    (node,) = timeline.roots
    return answer, node.content


def _request_refs(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        (body,) = conn.execute("SELECT body FROM audit_records WHERE type = 'llm.request'").fetchone()
    refs: list[dict[str, Any]] = orjson.loads(body)["content"]
    return refs


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_redacted_mode_stores_what_was_forwarded_never_the_original(
    tmp_path: Path, upstream: FakeOpenAI, stream: bool
) -> None:
    db = tmp_path / "gw.db"
    answer, content = _call(guarded_audit_config(upstream.base_url, db, "redacted"), db, stream)
    forwarded = upstream.requests[-1].body.decode()
    assert EMAIL not in forwarded and PROJECT not in forwarded  # the guard did redact
    assert EMAIL in answer  # …and restored the address for the caller
    assert set(content) == {"request", "response"}
    for part in ("request", "response"):
        assert EMAIL not in content[part] and PROJECT not in content[part], part
    assert "Summarise the" in content["request"]  # the rest of the prompt is kept
    (ref,) = _request_refs(db)
    assert ref["stored"] == "redacted" and ref["stored_sha256"] != ref["sha256"]


def test_full_mode_keeps_the_callers_prompt_and_the_forwarded_one(
    tmp_path: Path, upstream: FakeOpenAI
) -> None:
    db = tmp_path / "gw.db"
    answer, content = _call(guarded_audit_config(upstream.base_url, db, "full"), db, False)
    assert EMAIL in answer
    assert EMAIL in content["request"] and PROJECT in content["request"]  # as the caller sent it
    forwarded = content["request.forwarded"]
    assert EMAIL not in forwarded and PROJECT not in forwarded and "Summarise the" in forwarded
    assert [ref["part"] for ref in _request_refs(db)] == ["request", "request.forwarded"]


def test_digest_mode_records_both_digests_and_stores_nothing(tmp_path: Path, upstream: FakeOpenAI) -> None:
    db = tmp_path / "gw.db"
    config = guarded_audit_config(upstream.base_url, db, "digest")
    del config["audit"]["content"]["master_key"]
    with (
        RunningGateway(config) as gw,
        openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0) as client,
    ):
        client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": PROMPT}])
    refs = _request_refs(db)
    assert [(r["part"], r["stored"]) for r in refs] == [
        ("request", "digest"),
        ("request.forwarded", "digest"),
    ]
    assert refs[0]["sha256"] != refs[1]["sha256"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM audit_content").fetchone() == (0,)
