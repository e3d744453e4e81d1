"""The model catalog: the shipped data file's integrity, lookups, and what a call costs."""

from __future__ import annotations

import pytest

from tollhouse.catalog.lookup import find, route_price
from tollhouse.catalog.pricing import Price
from tollhouse.catalog.table import CAPABILITIES, load, parse
from tollhouse.model.chat import Usage

CATALOG = load()
NATIVE = {"anthropic", "openai", "gemini", "bedrock", "cohere", "mistral", "ollama"}


def test_covers_at_least_200_models_of_the_native_providers() -> None:
    assert len(CATALOG) >= 200
    assert {p for p, _ in CATALOG} >= NATIVE
    assert sum(1 for p, _ in CATALOG if p in NATIVE) >= 200


def test_rows_are_sane() -> None:
    for (provider, model), info in CATALOG.items():
        assert info.capabilities <= CAPABILITIES and info.status in {"current", "preview", "legacy"}
        assert info.context_window is None or info.context_window >= 512, model
        if info.price is not None:
            assert 0 <= info.price.input <= 200 and 0 <= info.price.output <= 1000, model
            if info.price.cached_input is not None:
                assert info.price.cached_input <= info.price.input, model  # a cache read never costs more
        if "embeddings" in info.capabilities:
            assert info.max_output is None and (info.price is None or info.price.output == 0), model
        elif provider != "ollama" and info.price is not None:
            assert info.price.output >= info.price.input or provider == "bedrock", model


def test_parse_rejects_duplicates_and_unknown_capabilities() -> None:
    header = "provider,model,context_window,max_output,input,output,cached_input,cache_write,capabilities,status,notes"
    row = "x,m,1000,10,1,2,,,tools,current,"
    with pytest.raises(ValueError, match="listed twice"):
        parse(f"# comment\n{header}\n{row}\n{row}\n")
    with pytest.raises(ValueError, match="unknown capabilities"):
        parse(f"{header}\nx,m,1000,10,1,2,,,teleport,current,\n")


def test_cost_prices_cache_reads_writes_and_output_apart() -> None:
    price = Price(input=3, output=15, cached_input=0.3, cache_write=3.75)
    usage = Usage(prompt_tokens=2009, completion_tokens=393, cached_tokens=1800, cache_write_tokens=188)
    expected = (21 * 3 + 1800 * 0.3 + 188 * 3.75 + 393 * 15) / 1_000_000
    assert price.cost(usage) == pytest.approx(expected)
    # Without cache rates, cached tokens cost the input rate.
    assert Price(1, 2).cost(Usage(prompt_tokens=10, completion_tokens=5, cached_tokens=4)) == pytest.approx(
        20e-6
    )


@pytest.mark.parametrize(
    ("kind", "model", "expected_input"),
    [
        ("anthropic", "claude-haiku-4-5-20251001", 1.0),
        ("azure", "gpt-4o-mini", 0.15),  # Azure lists OpenAI's prices
        ("vertex", "gemini-2.5-flash", 0.3),  # Vertex lists the Gemini API's
        ("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.0),  # a cross-region profile
        ("ollama_native", "llama3.2", 0.0),
        ("mistral", "mistral-small-latest", 0.1),
    ],
)
def test_lookup_by_provider_kind(kind: str, model: str, expected_input: float) -> None:
    info = find(CATALOG, kind, model)
    assert info is not None and info.price is not None and info.price.input == expected_input


def test_config_price_overrides_the_catalog() -> None:
    override = Price(input=9, output=9)
    assert route_price(CATALOG, "openai", "gpt-4o", override) is override
    assert route_price(CATALOG, "openai", "no-such-model", None) is None
