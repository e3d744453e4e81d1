"""docs/compatibility.md is generated from the fixtures and tests; a stale copy fails here."""

from __future__ import annotations

from tests.golden.compatibility import DOC, e2e_marks, render
from tests.golden.golden_pairs import REGEN


def test_compatibility_doc_is_current() -> None:
    expected = render()
    if REGEN:
        DOC.write_text(expected, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/compatibility.md is stale: run `python -m tests.golden.compatibility` and commit it"
    )


def test_every_feature_column_has_evidence() -> None:
    """The document never shows an empty matrix: the surfaces' own tests are always marked."""
    text = render()
    for surface in ("OpenAI Chat", "Anthropic Messages", "OpenAI Responses"):
        assert f"### {surface} `" in text
    assert "- **messages → openai_compatible**" in text and "- **responses → demo**" in text


# Issue 3's bar: these cells of the matrix are proven end to end, and stay so.
_REQUIRED_FEATURES = (
    "basic",
    "stream_text",
    "tools",
    "stream_tools",
    "vision",
    "json_schema",
    "usage",
    "errors",
)
_REQUIRED_PROVIDERS = (
    "openai", "azure", "anthropic", "gemini", "vertex", "bedrock", "cohere", "mistral", "ollama", "openai_compatible",
)  # fmt: skip


def test_required_cells_are_proven() -> None:
    marks = e2e_marks()
    required = [
        (surface, provider, feature)
        for surface in ("chat", "messages")
        for provider in _REQUIRED_PROVIDERS
        for feature in _REQUIRED_FEATURES
    ] + [
        ("responses", provider, feature)
        for provider in ("demo", "openai_compatible", "anthropic")
        for feature in ("basic", "stream_text", "tools")
    ]
    missing = [cell for cell in required if not marks.get(cell[:2], {}).get(cell[2])]
    assert not missing, f"no end-to-end test proves {missing}"
