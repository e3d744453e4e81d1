"""compile_config: providers and routes built, problems reported with a config path."""

from __future__ import annotations

import orjson
import pytest

from tollhouse.config.compile import compile_config
from tollhouse.config.load import ConfigError, parse_config
from tollhouse.policies.auth_throttle import AuthThrottle
from tollhouse.policies.master_key import MasterKeyAuth
from tollhouse.policies.request_validation import RequestValidation
from tollhouse.providers.demo.provider import DemoProvider
from tollhouse.providers.openai_compatible.provider import OpenAICompatibleProvider


def _compile_error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        compile_config(parse_config(text), "gw.yaml")
    return info.value


def test_demo_config_compiles_into_routes_and_chains() -> None:
    config = parse_config(
        """\
        auth: {master_keys: [letmein-master-key]}
        server: {max_body_bytes: 4096, body_timeout_s: 3}
        providers: {demo: {kind: demo}}
        models:
          - {alias: chat, target: demo/demo-1}
          - {alias: embed, target: demo/demo-embed-1}
        """.replace("        ", "")
    )
    runtime = compile_config(config)

    assert set(runtime.routes) == {"chat", "embed"}
    route = runtime.routes["chat"]
    assert isinstance(route.provider, DemoProvider)
    assert route.upstream_model == "demo-1"
    assert runtime.routes["embed"].provider is route.provider  # one instance per provider
    chat_chain = runtime.chains["chat"]
    assert [type(p) for p in chat_chain.policies] == [AuthThrottle, MasterKeyAuth, RequestValidation]
    assert runtime.chains["embeddings"] is chat_chain
    assert [type(p) for p in runtime.chains["models"].policies] == [AuthThrottle, MasterKeyAuth]
    models = orjson.loads(runtime.models.openai_body)
    assert models["object"] == "list"
    assert [(m["id"], m["owned_by"]) for m in models["data"]] == [("chat", "demo"), ("embed", "demo")]


def test_redactor_knows_the_configured_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TH_UPSTREAM", "upstream-plain-value")
    runtime = compile_config(
        parse_config(
            "auth: {master_keys: [letmein-master-key]}\n"
            "providers: {up: {kind: openai_compatible, base_url: 'http://127.0.0.1:9', api_key: env:TH_UPSTREAM}}\n"
            "models: [{alias: a, target: up/m}]\n"
        )
    )
    scrubbed = runtime.redactor.scrub("keys: letmein-master-key and upstream-plain-value")
    assert "letmein-master-key" not in scrubbed
    assert "upstream-plain-value" not in scrubbed


def test_implicit_catalog_provider_compiles_with_key_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-key-000")
    runtime = compile_config(
        parse_config("auth: {allow_unauthenticated: true}\nmodels: [{alias: g, target: openai/gpt-4o}]\n")
    )
    route = runtime.routes["g"]
    assert isinstance(route.provider, OpenAICompatibleProvider)
    assert route.provider.name == "openai"
    assert route.provider.base_url == "https://api.openai.com/v1"
    assert route.upstream_model == "gpt-4o"
    assert "sk-test-openai-key-000" not in runtime.redactor.scrub("sk-test-openai-key-000")


def test_implicit_catalog_provider_without_its_env_var_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    error = _compile_error("auth: {allow_unauthenticated: true}\nmodels: [{alias: g, target: groq/llama}]\n")
    (issue,) = error.issues
    assert issue.path == "providers.groq.api_key"
    assert "GROQ_API_KEY" in issue.message


def test_implicit_keyless_catalog_provider_compiles() -> None:
    runtime = compile_config(
        parse_config("auth: {allow_unauthenticated: true}\nmodels: [{alias: v, target: vllm/qwen}]\n")
    )
    assert runtime.routes["v"].provider.base_url == "http://127.0.0.1:8000/v1"


def test_model_names_may_contain_slashes() -> None:
    runtime = compile_config(
        parse_config(
            "auth: {allow_unauthenticated: true}\nproviders: {d: {kind: demo}}\n"
            "models: [{alias: x, target: d/org/model-7b}]\n"
        )
    )
    assert runtime.routes["x"].upstream_model == "org/model-7b"


def test_unknown_provider_in_a_target_is_reported_with_its_path() -> None:
    error = _compile_error(
        "auth: {allow_unauthenticated: true}\nproviders: {d: {kind: demo}}\n"
        "models: [{alias: a, target: d/m}, {alias: b, target: nowhere/m}]\n"
    )
    (issue,) = error.issues
    assert issue.path == "models.1.target"
    assert "'nowhere'" in issue.message
    assert "openai" in issue.message  # lists the catalog names that would work


def test_unknown_kind_is_reported_with_its_path() -> None:
    error = _compile_error(
        "auth: {allow_unauthenticated: true}\nproviders: {p: {kind: warp-drive}}\nmodels: [{alias: a, target: p/m}]\n"
    )
    (issue,) = error.issues
    assert issue.path == "providers.p.kind"
    assert "'warp-drive'" in issue.message
    assert "demo" in issue.message
    assert "openai_compatible" in issue.message


def test_openai_compatible_without_base_url_is_reported() -> None:
    error = _compile_error(
        "auth: {allow_unauthenticated: true}\nproviders: {p: {kind: openai_compatible}}\n"
        "models: [{alias: a, target: p/m}]\n"
    )
    (issue,) = error.issues
    assert issue.path == "providers.p"
    assert "base_url" in issue.message


def test_every_compile_problem_is_reported_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TH_MISSING_MASTER", raising=False)
    error = _compile_error(
        "auth: {master_keys: [env:TH_MISSING_MASTER]}\nproviders: {p: {kind: nope}}\n"
        "models: [{alias: a, target: p/m}, {alias: b, target: zz/m}]\n"
    )
    assert {i.path for i in error.issues} == {"auth.master_keys.0", "providers.p.kind", "models.1.target"}
    assert str(error).startswith("invalid config gw.yaml:")
