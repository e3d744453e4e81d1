"""The `audit:` config section and what compiling it adds to the runtime."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tollhouse.audit.signing import new_private_key_pem
from tollhouse.audit.trail import AuditTrail
from tollhouse.config.compile import compile_config
from tollhouse.config.load import ConfigError, parse_config
from tollhouse.policies.audit import AuditRecord, AuditResponseRecord

BASE = "auth: {master_keys: [sk-test-000000]}\nproviders: {demo: {kind: demo}}\nmodels: [{alias: a, target: demo/x}]\n"


def _compile(audit: dict[str, Any]) -> Any:
    import yaml

    return compile_config(parse_config(BASE + yaml.safe_dump({"audit": audit})))


def test_off_by_default() -> None:
    runtime = compile_config(parse_config(BASE))
    assert not any(isinstance(o, AuditTrail) for o in runtime.observers)
    assert not any(isinstance(p, AuditRecord) for p in runtime.chains["chat"].policies)


def test_strict_adds_both_policies_and_the_trail() -> None:
    runtime = _compile({"enabled": True, "mode": "strict"})
    kinds = {type(p) for p in runtime.chains["chat"].policies}
    assert {AuditRecord, AuditResponseRecord} <= kinds
    assert any(isinstance(o, AuditTrail) for o in runtime.observers)
    assert AuditResponseRecord not in {type(p) for p in _compile({"enabled": True}).chains["chat"].policies}


@pytest.mark.parametrize(
    ("audit", "message"),
    [
        ({"backpressure": "spill"}, "spill_path"),
        ({"content": {"mode": "full"}}, "master_key"),
        ({"checkpoints": {"witness_file": "/tmp/w"}}, "signing_key"),
    ],
)
def test_inconsistent_sections_are_refused(audit: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _compile({"enabled": True, **audit})
    assert message in str(caught.value.issues)


def test_bad_keys_are_config_issues_and_never_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        _compile(
            {
                "enabled": True,
                "content": {"mode": "full", "master_key": "c2hvcnQta2V5LXZhbHVl"},
                "checkpoints": {"signing_key": "definitely-not-a-key"},
            }
        )
    paths = {issue.path for issue in caught.value.issues}
    assert paths == {"audit.content.master_key", "audit.checkpoints.signing_key"}
    assert "definitely-not-a-key" not in str(caught.value.issues)


def test_good_keys_compile_and_are_scrubbed_from_logs() -> None:
    pem = new_private_key_pem()
    master = base64.b64encode(bytes(range(32))).decode()
    runtime = _compile(
        {
            "enabled": True,
            "content": {"mode": "full", "master_key": master},
            "checkpoints": {"signing_key": pem},
        }
    )
    assert runtime.redactor.scrub(f"key {master} leaked") == "key [REDACTED] leaked"
