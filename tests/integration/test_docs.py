"""The README's and docs' examples stay true: the SDK snippet runs, every YAML block validates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.gateway import RunningGateway, demo_gateway_config
from tollhouse.config.compile import compile_config
from tollhouse.config.load import parse_config

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", path.read_text(), flags=re.S)


def test_readme_sdk_example_runs_against_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    (snippet,) = blocks(ROOT / "README.md", "python")
    assert "http://127.0.0.1:4000/v1" in snippet and 'api_key="sk-demo"' in snippet
    with RunningGateway(demo_gateway_config("sk-demo")) as gw:
        exec(compile(snippet.replace("http://127.0.0.1:4000/v1", gw.base_url), "README.md", "exec"), {})  # noqa: S102
    assert "Tollhouse demo model" in capsys.readouterr().out


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_yaml_examples_validate(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOLLHOUSE_MASTER_KEY", "OPENAI_API_KEY", "INHOUSE_KEY", "GROQ_API_KEY", "ANTHROPIC_API_KEY",
                 "GEMINI_API_KEY", "VERTEX_ACCESS_TOKEN", "AZURE_OPENAI_KEY", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "CO_API_KEY"):  # fmt: skip
        monkeypatch.setenv(name, "sk-docs-example-value")
    for block in blocks(path, "yaml"):
        config = parse_config(block, path.name)
        if "file:" not in block:  # file secrets point at deployment paths
            compile_config(config, path.name)


def test_makefile_has_the_two_readme_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    head = readme.split("## ", 1)[0]
    assert "make run" in head and "make test" in head and "sk-demo" in head
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
