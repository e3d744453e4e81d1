"""Reading the model catalog (``models.csv``, shipped with the package) into typed rows.

Read once when the config compiles, never per request. The file's header comment carries
its as-of date; ``SOURCES.md`` beside it lists where each provider's numbers come from.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from tollhouse.catalog.pricing import Price

CAPABILITIES = frozenset({"tools", "vision", "json", "reasoning", "embeddings"})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    provider: str
    model: str
    context_window: int | None
    max_output: int | None
    price: Price | None  # None when the provider's price is unknown (open weights on any host)
    capabilities: frozenset[str]
    status: str  # current | preview | legacy
    notes: str = ""


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def _int(text: str) -> int | None:
    return int(text) if text.strip() else None


def _row(raw: dict[str, str], line: int) -> ModelInfo:
    capabilities = frozenset(raw["capabilities"].split())
    unknown = capabilities - CAPABILITIES
    if unknown:
        raise ValueError(f"models.csv line {line}: unknown capabilities {sorted(unknown)}")
    prompt, completion = _number(raw["input"]), _number(raw["output"])
    price = None
    if prompt is not None and completion is not None:
        price = Price(prompt, completion, _number(raw["cached_input"]), _number(raw["cache_write"]))
    return ModelInfo(
        provider=raw["provider"],
        model=raw["model"],
        context_window=_int(raw["context_window"]),
        max_output=_int(raw["max_output"]),
        price=price,
        capabilities=capabilities,
        status=raw["status"],
        notes=raw.get("notes") or "",
    )


def parse(text: str) -> Mapping[tuple[str, str], ModelInfo]:
    """Catalog rows by ``(provider, model)``; comment lines (``#``) are skipped."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    rows: dict[tuple[str, str], ModelInfo] = {}
    for line, raw in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        info = _row(raw, line)
        key = (info.provider, info.model)
        if key in rows:
            raise ValueError(f"models.csv line {line}: {key} is listed twice")
        rows[key] = info
    return MappingProxyType(rows)


def load() -> Mapping[tuple[str, str], ModelInfo]:
    """The catalog shipped with Tollhouse."""
    return parse(resources.files("tollhouse.catalog").joinpath("models.csv").read_text(encoding="utf-8"))
