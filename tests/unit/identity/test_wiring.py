"""compile_config with identity sections: which policies the chains get, and config problems."""

from __future__ import annotations

import pytest

from tollhouse.config.compile import compile_config
from tollhouse.config.load import ConfigError, parse_config
from tollhouse.identity.refresh import IdentityRefresher
from tollhouse.policies.auth_throttle import AuthThrottle
from tollhouse.policies.authorize import Authorize
from tollhouse.policies.request_validation import RequestValidation
from tollhouse.policies.virtual_key import VirtualKeyAuth

BASE = """\
auth: {master_keys: [sk-wiring-master-key]}
providers: {demo: {kind: demo}}
models: [{alias: demo, target: demo/demo-1}]
"""


def test_identity_adds_key_auth_and_authorization() -> None:
    runtime = compile_config(
        parse_config(BASE + "identity: {enabled: true}\ndatabase: {url: 'sqlite:///x.db'}\n")
    )
    kinds = [type(p) for p in runtime.chains["chat"].policies]
    assert kinds[:4] == [AuthThrottle, VirtualKeyAuth, RequestValidation, Authorize]
    assert [type(p) for p in runtime.chains["models"].policies] == [AuthThrottle, VirtualKeyAuth]
    assert any(isinstance(o, IdentityRefresher) for o in runtime.observers)
    assert runtime.identity is not None and runtime.identity.current.version == 0


def test_throttle_can_be_turned_off() -> None:
    runtime = compile_config(parse_config(BASE + "auth_throttle: {enabled: false}\n"))
    assert not any(isinstance(p, AuthThrottle) for p in runtime.chains["chat"].policies)


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        (
            "authorization: {policies: [{id: p1, text: 'permit(principal, action'}]}",
            "authorization.policies.0.text",
        ),
        ("admin: {enabled: true}", "admin.enabled"),
        ("vault: {master_keys: {1: not-a-key}}", "vault.master_keys"),
        ("identity: {enabled: true}\ndatabase: {url: 'nosuchdb://x'}", "database.url"),
    ],
)
def test_identity_config_problems_are_config_issues(extra: str, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        compile_config(parse_config(BASE + extra + "\n"), "gw.yaml")
    assert path in [issue.path for issue in info.value.issues]


def test_duplicate_policy_ids_are_refused() -> None:
    text = (
        BASE
        + "authorization: {policies: [{id: a, text: 'permit(principal, action, resource);'}, {id: a, text: 'permit(principal, action, resource);'}]}\n"
    )
    with pytest.raises(ConfigError, match="unique"):
        parse_config(text)
