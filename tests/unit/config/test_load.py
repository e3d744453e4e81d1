"""parse_config / load_config: valid files parse, invalid ones name the exact line and column."""

from __future__ import annotations

import textwrap
from importlib import resources
from pathlib import Path

import pytest

from tollhouse.config.load import ConfigError, ConfigIssue, load_config, parse_config


def _issues(text: str) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), "gw.yaml")
    assert info.value.source == "gw.yaml"
    return info.value.issues


def _only(text: str) -> ConfigIssue:
    issues = _issues(text)
    assert len(issues) == 1, issues
    return issues[0]


GOOD = """\
server:
  host: 0.0.0.0
  port: 8080
  max_body_bytes: 2048
  body_timeout_s: 2.5
auth:
  master_keys: [env:TH_KEY, sk-literal-123456]
providers:
  local:
    kind: openai_compatible
    base_url: http://127.0.0.1:9000/v1/
    headers: {x-extra: "1"}
    timeouts: {connect_s: 1, first_byte_s: 2, total_s: 3}
models:
  - alias: fast
    target: local/llama-3
  - alias: gpt-4o
    target: openai/gpt-4o
logging: {level: debug, format: json}
"""


def test_good_config_parses_into_typed_values() -> None:
    config = parse_config(GOOD)

    assert config.server.host == "0.0.0.0"
    assert config.server.port == 8080
    assert config.server.max_body_bytes == 2048
    assert config.server.body_timeout_s == 2.5
    assert [ref.source for ref in config.auth.master_keys] == ["env:TH_KEY", "literal"]
    local = config.providers["local"]
    assert local.kind == "openai_compatible"
    assert local.base_url == "http://127.0.0.1:9000/v1"  # trailing slash removed
    assert local.headers == {"x-extra": "1"}
    assert (local.timeouts.connect_s, local.timeouts.first_byte_s, local.timeouts.total_s) == (1, 2, 3)
    assert [(m.alias, m.target) for m in config.models] == [
        ("fast", "local/llama-3"),
        ("gpt-4o", "openai/gpt-4o"),
    ]
    assert config.logging.level == "debug"
    assert config.logging.format == "json"


def test_defaults_fill_omitted_sections() -> None:
    config = parse_config("auth: {allow_unauthenticated: true}\nmodels: []\n")

    assert config.server.port == 4000
    assert config.server.max_body_bytes == 8 * 1024 * 1024
    assert config.providers == {}
    assert config.metrics.enabled is True
    assert config.logging.level == "info"


def test_wrong_type_in_second_model_points_at_its_target_line() -> None:
    issue = _only(
        """\
        auth:
          master_keys: [sk-x-123456]
        models:
          - alias: a
            target: demo/x
          - alias: b
            target: [1, 2]
        """
    )
    assert issue.path == "models.1.target"
    assert (issue.line, issue.column) == (7, 13)  # the offending value
    assert "valid string" in issue.message
    assert str(issue).startswith("line 7, column 13: models.1.target:")


def test_bad_item_in_flow_sequence_points_at_the_item() -> None:
    issue = _only(
        """\
        auth:
          master_keys: [sk-x-123456, 42]
        models: []
        """
    )
    assert issue.path == "auth.master_keys.1"
    assert (issue.line, issue.column) == (2, 30)
    assert "secret must be a string" in issue.message


def test_nested_value_error_points_at_the_nested_key() -> None:
    issue = _only(
        """\
        auth: {allow_unauthenticated: true}
        providers:
          p:
            kind: openai_compatible
            timeouts:
              connect_s: -1
        models: []
        """
    )
    assert issue.path == "providers.p.timeouts.connect_s"
    assert (issue.line, issue.column) == (6, 18)


def test_every_issue_is_reported_not_just_the_first() -> None:
    issues = _issues(
        """\
        server:
          port: 70000
        auth: {allow_unauthenticated: true}
        providers:
          p: {kind: openai_compatible, base_url: ftp://host}
        models:
          - {alias: "bad alias", target: p/m}
        """
    )
    by_path = {i.path: i for i in issues}
    assert set(by_path) == {"server.port", "providers.p.base_url", "models.0.alias"}
    assert by_path["server.port"].line == 2
    assert by_path["providers.p.base_url"].line == 5
    assert "http://" in by_path["providers.p.base_url"].message
    assert by_path["models.0.alias"].line == 7


def test_unknown_top_level_key_is_rejected_at_its_line() -> None:
    issue = _only(
        """\
        auth: {allow_unauthenticated: true}
        models: []
        modles: []
        """
    )
    assert issue.path == "modles"
    assert issue.line == 3
    assert issue.column in (1, 9)  # the stray key or its value
    assert "not permitted" in issue.message


def test_unknown_nested_key_is_rejected() -> None:
    issue = _only(
        """\
        server:
          prot: 1
        auth: {allow_unauthenticated: true}
        models: []
        """
    )
    assert issue.path == "server.prot"
    assert issue.line == 2


def test_missing_nested_key_falls_back_to_its_parent() -> None:
    issue = _only(
        """\
        auth: {allow_unauthenticated: true}
        providers:
          p:
            base_url: http://x
        models: []
        """
    )
    assert issue.path == "providers.p.kind"
    assert (issue.line, issue.column) == (4, 5)  # the mapping that lacks `kind`


def test_duplicate_alias_is_rejected() -> None:
    issue = _only(
        """\
        auth: {allow_unauthenticated: true}
        models:
          - {alias: a, target: demo/x}
          - {alias: a, target: demo/y}
        """
    )
    assert "'a'" in issue.message
    assert "twice" in issue.message
    assert not issue.message.startswith("Value error")


@pytest.mark.parametrize(
    ("target", "ok"),
    [("demo/x", True), ("openai/org/model", True), ("demo", False), ("/x", False), ("demo/", False)],
)
def test_target_must_be_provider_slash_model(target: str, ok: bool) -> None:
    text = f"auth: {{allow_unauthenticated: true}}\nmodels:\n  - {{alias: a, target: '{target}'}}\n"
    if ok:
        assert parse_config(text).models[0].target == target
    else:
        with pytest.raises(ConfigError) as info:
            parse_config(text)
        assert [i.path for i in info.value.issues] == ["models.0.target"]


def test_invalid_provider_name_is_rejected() -> None:
    issue = _only(
        """\
        auth: {allow_unauthenticated: true}
        providers:
          My Provider: {kind: demo}
        models: []
        """
    )
    assert issue.path == "providers"
    assert "'My Provider'" in issue.message


def test_auth_without_any_way_in_is_rejected() -> None:
    issue = _only("auth: {}\nmodels: []\n")
    assert issue.path == "auth"
    assert "master_keys" in issue.message


def test_missing_required_section_is_reported() -> None:
    issue = _only("auth: {allow_unauthenticated: true}\n")
    assert issue.path == "models"
    assert "required" in issue.message.lower()


def test_yaml_syntax_error_has_line_and_column() -> None:
    issue = _only("auth:\n  allow_unauthenticated: true\n\tmodels: []\n")
    assert issue.path == ""
    assert issue.message.startswith("YAML syntax:")
    assert "\\t" in issue.message
    assert (issue.line, issue.column) == (3, 1)


def test_unterminated_flow_collection_reports_where_the_file_ends() -> None:
    issue = _only(
        """\
        auth:
          allow_unauthenticated: true
        models: [
          {alias: a, target: demo/x
        """
    )
    assert issue.message.startswith("YAML syntax:")
    assert (issue.line, issue.column) == (5, 1)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n"])
def test_a_file_that_is_not_a_mapping_is_rejected(text: str) -> None:
    issue = _only(text)
    assert "mapping" in issue.message
    assert (issue.line, issue.column) == (1, 1)


def test_config_error_message_lists_every_issue_with_location() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("server: {port: 0}\nauth: {}\nmodels: []\n", "gw.yaml")
    text = str(info.value)
    assert text.startswith("invalid config gw.yaml:")
    assert "line 1, column 16: server.port:" in text
    assert "auth:" in text


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("auth: {allow_unauthenticated: true}\nmodels:\n  - {alias: a, target: demo/x}\n")

    assert load_config(path).models[0].alias == "a"


def test_load_config_reports_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.source == str(path)
    assert "cannot read file" in info.value.issues[0].message


def test_load_config_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gw.yaml"
    path.write_text("auth: {}\nmodels: []\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_bundled_demo_config_is_valid() -> None:
    text = resources.files("tollhouse").joinpath("config/examples/demo.yaml").read_text()
    config = parse_config(text)
    assert {m.alias for m in config.models} == {"demo", "demo-embed"}
    assert config.providers["demo"].kind == "demo"
