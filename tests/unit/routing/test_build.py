"""Config → routes: which aliases get a router, shared targets, prices, config errors."""

from __future__ import annotations

import pytest

from tollhouse.config.compile import compile_config
from tollhouse.config.load import ConfigError, parse_config
from tollhouse.config.runtime import Runtime
from tollhouse.routing.router import Router

HEAD = """\
auth: {master_keys: [letmein-master-key]}
providers:
  one: {kind: openai_compatible, base_url: "http://127.0.0.1:9/v1"}
  two: {kind: openai, api_key: sk-test-two}
"""


def runtime(models: str, extra: str = "") -> Runtime:
    return compile_config(parse_config(HEAD + models + extra), "gw.yaml")


def test_one_target_without_reliability_settings_stays_direct() -> None:
    rt = runtime("models:\n  - {alias: a, target: one/m}\n  - {alias: b, targets: [{target: one/m}]}\n")
    assert rt.routes["a"].provider is rt.providers["one"]
    assert rt.routes["b"].provider is rt.providers["one"]
    assert rt.observers == ()


@pytest.mark.parametrize(
    "setting",
    [
        "retry: {max_attempts: 2}",
        "deadline_s: 10",
        "timeouts: {idle_s: 5}",
        "fallbacks: {content_filter: [two/gpt-4o]}",
    ],
)
def test_any_reliability_setting_makes_a_router(setting: str) -> None:
    rt = runtime(f"models:\n  - alias: a\n    target: one/m\n    {setting}\n")
    assert isinstance(rt.routes["a"].provider, Router)


def test_a_routing_section_default_routes_every_alias() -> None:
    rt = runtime("models:\n  - {alias: a, target: one/m}\n", "routing: {retry: {max_attempts: 3}}\n")
    assert isinstance(rt.routes["a"].provider, Router)


def test_a_condition_on_the_only_target_needs_a_router() -> None:
    rt = runtime("models:\n  - alias: a\n    targets: [{target: one/m, when: {teams: [x]}}]\n")
    assert isinstance(rt.routes["a"].provider, Router)


def test_targets_are_shared_between_aliases_and_priced_from_the_catalog() -> None:
    rt = runtime(
        "models:\n"
        "  - {alias: a, strategy: cost, targets: [{target: one/m}, {target: two/gpt-4o-mini}]}\n"
        "  - {alias: b, targets: [{target: two/gpt-4o-mini}, {target: two/gpt-4o}]}\n"
    )
    a, b = rt.routes["a"].provider, rt.routes["b"].provider
    assert isinstance(a, Router) and isinstance(b, Router)
    shared = {t.id: t for t in a.targets}["two/gpt-4o-mini"]
    assert {t.id: t for t in b.targets}["two/gpt-4o-mini"] is shared
    assert shared.price is not None and shared.context_window
    assert rt.routes["b"].price == {t.id: t for t in b.targets}["two/gpt-4o"].price  # the dearest
    assert rt.routes["a"].upstream_model == "m"


def test_the_models_list_names_the_first_targets_provider() -> None:
    rt = runtime("models:\n  - {alias: a, targets: [{target: two/gpt-4o}, {target: one/m}]}\n")
    assert b'"owned_by":"two"' in rt.models.openai_body


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ("  - {alias: a}\n", "set either `target` or `targets`"),
        ("  - {alias: a, target: one/m, targets: [{target: one/m}]}\n", "set either"),
        ("  - {alias: a, targets: [{target: one/m}, {target: one/m}]}\n", "listed twice"),
        ("  - {alias: a, targets: [{target: nomodel}]}\n", "provider/model"),
        ("  - {alias: a, targets: [{target: one/m, weight: 0}]}\n", "greater than 0"),
    ],
)
def test_bad_target_lists_are_config_errors(models: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        runtime("models:\n" + models)
    assert message in str(info.value)


def test_unknown_providers_in_targets_and_fallbacks_are_reported_with_their_path() -> None:
    with pytest.raises(ConfigError) as info:
        runtime(
            "models:\n  - alias: a\n    targets: [{target: one/m}, {target: nope/m}]\n"
            "    fallbacks: {context_window: [gone/big]}\n"
        )
    text = str(info.value)
    assert "models.0.targets.1.target" in text and "models.0.fallbacks.context_window.0" in text


def test_shared_circuit_state_needs_redis() -> None:
    with pytest.raises(ConfigError, match=r"redis\.url"):
        runtime("models:\n  - {alias: a, targets: [{target: one/m}, {target: one/n}]}\n",
                "routing: {shared_state: redis}\n")  # fmt: skip


def test_health_checks_and_shared_state_are_background_services() -> None:
    rt = runtime(
        "models:\n  - {alias: a, targets: [{target: one/m}, {target: one/n}]}\n",
        "redis: {url: 'redis://127.0.0.1:6379/0'}\nrouting: {shared_state: redis, health_checks: {interval_s: 5}}\n",
    )
    # Routing's own (with Redis the auth throttle's shared failure count is one too).
    names = sorted(
        type(o).__name__ for o in rt.observers if type(o).__module__.startswith("tollhouse.routing")
    )
    assert names == ["CircuitSync", "HealthChecker"]
