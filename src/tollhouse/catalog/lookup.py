"""Which catalog row prices a route: the provider kind's catalog family, then the model name.

Azure OpenAI's global deployments list OpenAI's prices and Vertex AI lists the Gemini API's,
so those kinds read those families. Bedrock cross-region inference profiles (``us.``,
``eu.``, ``global.``, …) cost what the base model costs.
"""

from __future__ import annotations

from collections.abc import Mapping

from tollhouse.catalog.pricing import Price
from tollhouse.catalog.table import ModelInfo

_FAMILY = {"azure": "openai", "azure_ad": "openai", "vertex": "gemini", "ollama_native": "ollama"}
_PROFILES = ("us.", "eu.", "apac.", "global.", "jp.", "au.", "ca.", "us-gov.")


def family(kind: str) -> str:
    return _FAMILY.get(kind, kind)


def find(catalog: Mapping[tuple[str, str], ModelInfo], kind: str, model: str) -> ModelInfo | None:
    """The catalog row for ``model`` served by a provider of ``kind``, if listed."""
    name = family(kind)
    info = catalog.get((name, model))
    if info is None and name == "bedrock":
        for prefix in _PROFILES:
            if model.startswith(prefix):
                return catalog.get((name, model[len(prefix) :]))
    return info


def route_price(
    catalog: Mapping[tuple[str, str], ModelInfo], kind: str, model: str, override: Price | None
) -> Price | None:
    """The price a route's calls are charged at: the config's ``price``, else the catalog's."""
    if override is not None:
        return override
    info = find(catalog, kind, model)
    return info.price if info is not None else None
