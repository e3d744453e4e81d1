"""docs/compatibility.md is generated from the fixtures and tests; a stale copy fails here."""

from __future__ import annotations

from tests.golden.compatibility import DOC, render
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
    assert "messages → `openai_compatible`" in text and "responses → `demo`" in text
