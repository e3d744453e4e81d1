"""Provider kinds as import strings: a provider's module is imported only when configured."""

from __future__ import annotations

import importlib
from typing import Any

from tollhouse.providers.openai_compatible.catalog import CATALOG

_KINDS: dict[str, str] = {
    "demo": "tollhouse.providers.demo.provider:DemoProvider",
    "openai_compatible": "tollhouse.providers.openai_compatible.provider:OpenAICompatibleProvider",
}


def known_kinds() -> list[str]:
    return sorted({*_KINDS, *CATALOG})


def provider_class(kind: str) -> Any:
    """The class implementing ``kind``; catalog names resolve to the OpenAI-compatible one."""
    target = _KINDS.get(kind) or (_KINDS["openai_compatible"] if kind in CATALOG else None)
    if target is None:
        raise KeyError(kind)
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
