"""Walking golden case folders (provider and dialect suites): pair input files with expected files and compare (or regenerate).

``pairs(root, input_name, expected_name)`` yields one item per input file found under
``root/<case>/``, with the expected file of the same suffix (``wire_error_429.json`` ↔
``canonical_error_429.json``). ``check`` compares an actual value with the expected file, or
writes it when ``TOLLHOUSE_GOLDEN_REGEN=1``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.golden.codec import read_json, write_json

GOLDEN = Path(__file__).parent
REGEN = os.environ.get("TOLLHOUSE_GOLDEN_REGEN") == "1"


@dataclass(frozen=True)
class Pair:
    case: str
    suffix: str  # "" or e.g. "_429"
    source: Path
    expected: Path

    @property
    def id(self) -> str:
        return f"{self.case}{self.suffix}"


def pairs(root: Path, input_stem: str, input_ext: str, expected_stem: str, expected_ext: str) -> list[Pair]:
    found: list[Pair] = []
    for case in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")):
        for source in sorted(case.glob(f"{input_stem}*{input_ext}")):
            suffix = source.name[len(input_stem) : -len(input_ext)]
            expected = case / f"{expected_stem}{suffix}{expected_ext}"
            found.append(Pair(case.name, suffix, source, expected))
    return found


def params(found: list[Pair]) -> list[Any]:
    return [pytest.param(pair, id=pair.id) for pair in found]


def check_json(pair: Pair, actual: Any) -> None:
    """Compare ``actual`` (plain JSON data) with the expected file; write it in regen mode."""
    if REGEN or not pair.expected.exists():
        if not REGEN:
            pytest.fail(f"{pair.expected} is missing; run with TOLLHOUSE_GOLDEN_REGEN=1 and review it")
        write_json(pair.expected, actual)
        return
    assert actual == read_json(pair.expected), f"{pair.expected} differs"


def check_text(pair: Pair, actual: str) -> None:
    if REGEN or not pair.expected.exists():
        if not REGEN:
            pytest.fail(f"{pair.expected} is missing; run with TOLLHOUSE_GOLDEN_REGEN=1 and review it")
        pair.expected.write_text(actual, encoding="utf-8")
        return
    assert actual == pair.expected.read_text(encoding="utf-8"), f"{pair.expected} differs"
