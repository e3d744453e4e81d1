"""Secret references resolve from env/file/literal and never print their value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tollhouse.config.load import ConfigError, parse_config
from tollhouse.config.secrets import Secret, SecretError, SecretRef

LITERAL = "sk-live-DO-NOT-PRINT-4242"


def test_env_reference_resolves_from_given_environment() -> None:
    secret = SecretRef("env:TH_TEST_KEY").resolve({"TH_TEST_KEY": "value-123"})
    assert secret.reveal() == "value-123"


def test_env_reference_reads_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TH_TEST_KEY", "from-os-environ")
    assert SecretRef("env:TH_TEST_KEY").resolve().reveal() == "from-os-environ"


@pytest.mark.parametrize("environ", [{}, {"TH_TEST_KEY": ""}])
def test_missing_or_empty_env_var_is_an_error(environ: dict[str, str]) -> None:
    with pytest.raises(SecretError, match="TH_TEST_KEY is not set"):
        SecretRef("env:TH_TEST_KEY").resolve(environ)


def test_file_reference_reads_and_strips(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("  file-secret-value\n")
    assert SecretRef(f"file:{path}").resolve().reveal() == "file-secret-value"


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "absent"
    with pytest.raises(SecretError, match="cannot read secret file"):
        SecretRef(f"file:{path}").resolve()


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("\n  \n")
    with pytest.raises(SecretError, match="is empty"):
        SecretRef(f"file:{path}").resolve()


def test_literal_resolves_to_itself() -> None:
    ref = SecretRef(LITERAL)
    assert ref.kind == "literal"
    assert ref.resolve({}).reveal() == LITERAL


@pytest.mark.parametrize("raw", ["env:", "file:", ""])
def test_empty_reference_is_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="empty secret reference"):
        SecretRef(raw)


def test_source_names_env_and_file_but_never_a_literal() -> None:
    assert SecretRef("env:A").source == "env:A"
    assert SecretRef("file:/run/key").source == "file:/run/key"
    assert SecretRef(LITERAL).source == "literal"


def test_literal_ref_repr_and_str_hide_the_value() -> None:
    ref = SecretRef(LITERAL)
    assert LITERAL not in repr(ref)
    assert LITERAL not in str(ref)
    assert LITERAL not in f"{ref}"
    assert LITERAL not in repr([ref])


def test_resolved_secret_repr_and_str_hide_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TH_TEST_KEY", LITERAL)
    for secret in (SecretRef(LITERAL).resolve(), SecretRef("env:TH_TEST_KEY").resolve()):
        assert LITERAL not in repr(secret)
        assert LITERAL not in str(secret)
        assert LITERAL not in f"{secret!r} {secret}"
    assert "env:TH_TEST_KEY" in repr(SecretRef("env:TH_TEST_KEY").resolve())


def test_secret_last4_only_for_long_values() -> None:
    assert Secret("abcdefgh1234").last4() == "1234"
    assert Secret("short").last4() == ""


def test_secret_equality_and_hash_follow_the_value() -> None:
    assert Secret("same-value", "env:A") == Secret("same-value", "literal")
    assert hash(Secret("same-value")) == hash(Secret("same-value"))
    assert Secret("one") != Secret("two")
    assert Secret("one") != "one"


CONFIG = f"""\
auth:
  master_keys: ["{LITERAL}", env:TH_MASTER]
providers:
  up:
    kind: openai_compatible
    base_url: http://127.0.0.1:9/v1
    api_key: "{LITERAL}"
models:
  - {{alias: a, target: up/m}}
"""


def test_config_dump_repr_and_json_never_contain_a_literal_secret() -> None:
    config = parse_config(CONFIG)

    dumped = config.model_dump()
    assert dumped["auth"]["master_keys"] == ["****", "env:TH_MASTER"]
    assert dumped["providers"]["up"]["api_key"] == "****"
    for text in (repr(config), str(config), config.model_dump_json(), str(dumped)):
        assert LITERAL not in text
    # The reference itself still resolves to the real value when compiled.
    assert config.auth.master_keys[0].resolve({}).reveal() == LITERAL


def test_env_reference_survives_a_dump_and_reload() -> None:
    config = parse_config(CONFIG)
    again = type(config).model_validate(config.model_dump())
    assert again.auth.master_keys[1].source == "env:TH_MASTER"


@pytest.mark.parametrize(
    "keys_yaml",
    [
        f'"{LITERAL}"',  # a string where a list belongs
        f'["{LITERAL}", 5]',  # a bad sibling
        f'{{k: "{LITERAL}"}}',  # a mapping
    ],
)
def test_config_errors_near_a_literal_secret_do_not_echo_it(keys_yaml: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(f"auth:\n  master_keys: {keys_yaml}\nmodels: []\n")
    assert LITERAL not in str(info.value)
    assert all(LITERAL not in str(i) for i in info.value.issues)


def test_config_rejects_an_empty_reference() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("auth:\n  master_keys: ['env:']\nmodels: []\n")
    (issue,) = info.value.issues
    assert issue.path == "auth.master_keys.0"
    assert issue.message == "empty secret reference"
    assert issue.line == 2


def test_vault_reference_names_its_credential_and_is_not_resolved_here() -> None:
    ref = SecretRef("vault:openai-prod")
    assert (ref.kind, ref.target, ref.source) == ("vault", "openai-prod", "vault:openai-prod")
    assert repr(ref) == "SecretRef(vault:openai-prod)"
    with pytest.raises(SecretError, match="only a provider's api_key"):
        ref.resolve()
    with pytest.raises(ValueError, match="empty"):
        SecretRef("vault:")
