"""Generates ``docs/compatibility.md`` from what is tested, so the matrix cannot claim more.

Two sources: the golden fixture folders (``tests/golden/<provider>/<case>/`` and
``tests/golden/dialects/<dialect>/<case>/``: a case counts for each complete input/expected
file pair in it) and the end-to-end tests marked with ``tests.support.compat.covers``.

    python -m tests.golden.compatibility          # rewrite docs/compatibility.md
    pytest tests/golden/test_compatibility_doc.py  # fails when the committed file is stale
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from pathlib import Path

from tests.support.compat import ATTRIBUTE, FEATURES

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
INTEGRATION = REPO / "tests" / "integration"
DOC = REPO / "docs" / "compatibility.md"

# (input stem, input ext, expected stem, expected ext) per translation direction, by label.
_PAIRS = {
    "request": ("canonical_request", ".json", "wire_request", ".json"),
    "passthrough": ("openai_request", ".json", "wire_request_passthrough", ".json"),
    "response": ("wire_response", ".json", "canonical_response", ".json"),
    "stream": ("wire_stream", ".sse", "canonical_events", ".json"),
    "error": ("wire_error", ".json", "canonical_error", ".json"),
}
_SURFACE_NAMES = {
    "chat": "OpenAI Chat `/v1/chat/completions`",
    "messages": "Anthropic Messages `/v1/messages`",
    "count_tokens": "Anthropic `/v1/messages/count_tokens`",
    "responses": "OpenAI Responses `/v1/responses`",
}
# Columns in this order (the provider families of tests/support/fleet.py, then the demo); others after.
_PROVIDER_ORDER = (
    "openai", "azure", "anthropic", "gemini", "vertex", "bedrock", "cohere", "mistral", "ollama",
    "openai_compatible", "demo",
)  # fmt: skip
_PROVIDERS_TEXT = """\
Each column is a provider kind reached through the running gateway, against a local fake
of that provider's API speaking its wire format (`tests/fakes/`): `openai` (kind `openai`)
and `openai_compatible` (kind `openai_compatible`) reach a fake OpenAI API; `azure` a fake
Azure OpenAI resource; `anthropic` a fake Anthropic API (Anthropic callers take the
passthrough lane); `gemini` and `vertex` a fake Gemini API and its Vertex AI paths;
`bedrock` a fake Bedrock runtime (SigV4, Converse, event streams); `cohere` a fake Cohere v2
API; `mistral` the `mistral` catalog row over a fake Mistral API; `ollama` a fake Ollama
native API (kind `ollama_native`); `demo` the built-in demo provider. Every other pair of
surface and provider goes through the canonical model."""


def _kinds(case: Path) -> list[str]:
    """The translation directions a case folder proves (both files of a pair present)."""
    found = []
    for label, (a, a_ext, b, b_ext) in _PAIRS.items():
        for source in case.glob(f"{a}*{a_ext}"):
            suffix = source.name[len(a) : -len(a_ext)]
            if (case / f"{b}{suffix}{b_ext}").exists():
                found.append(label)
                break
        else:
            for source in case.glob(f"{b}*{b_ext}"):  # the reverse direction (dialect folders)
                suffix = source.name[len(b) : -len(b_ext)]
                if (case / f"{a}{suffix}{a_ext}").exists():
                    found.append(label)
                    break
    return found


def _fixture_table(folders: dict[str, Path]) -> list[str]:
    cells: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for name, folder in folders.items():
        for case in folder.iterdir():
            if case.is_dir() and not case.name.startswith(("_", ".")):
                kinds = _kinds(case)
                if kinds:
                    cells[case.name][name] = kinds
    rows = [f for f in FEATURES if f in cells] + sorted(set(cells) - set(FEATURES))
    names = sorted(folders)
    lines = ["| feature | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for row in rows:
        lines.append(
            f"| {row} | " + " | ".join(" · ".join(cells[row].get(n, [])) or "—" for n in names) + " |"
        )
    return lines


def fixture_folders() -> tuple[dict[str, Path], dict[str, Path]]:
    """Provider folders and dialect folders that hold at least one case."""
    providers = {
        p.name: p
        for p in GOLDEN.iterdir()
        if p.is_dir() and p.name != "dialects" and not p.name.startswith(("_", "."))
        and any(c.is_dir() and not c.name.startswith("_") for c in p.iterdir())
    }  # fmt: skip
    dialect_root = GOLDEN / "dialects"
    dialects = {p.name: p for p in dialect_root.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    return providers, dialects


def e2e_marks() -> dict[tuple[str, str], dict[str, list[str]]]:
    """(surface, provider) → feature → the tests proving it, from ``covers`` marks."""
    found: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(INTEGRATION.glob("test_*.py")):
        if "covers(" not in path.read_text(encoding="utf-8"):
            continue
        module = importlib.import_module(f"tests.integration.{path.stem}")
        for name, test in sorted(vars(module).items()):
            for surface, providers, features in getattr(test, ATTRIBUTE, ()):
                for provider in providers:
                    for feature in features:
                        found[(surface, provider)][feature].append(f"{path.stem}::{name}")
    return found


def _provider_key(name: str) -> tuple[int, str]:
    return (_PROVIDER_ORDER.index(name) if name in _PROVIDER_ORDER else len(_PROVIDER_ORDER), name)


def _e2e_table(marks: dict[tuple[str, str], dict[str, list[str]]], surface: str) -> list[str]:
    """One surface: a row per feature, a column per provider it was tested against."""
    columns = sorted((p for s, p in marks if s == surface), key=_provider_key)
    used = {f for p in columns for f in marks[(surface, p)]}
    lines = [
        "| feature | " + " | ".join(f"`{p}`" for p in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for feature in (f for f in FEATURES if f in used):
        cells = ("✓" if feature in marks[(surface, p)] else "—" for p in columns)
        lines.append(f"| {feature} | " + " | ".join(cells) + " |")
    return lines


def _e2e_tables(marks: dict[tuple[str, str], dict[str, list[str]]]) -> list[str]:
    out: list[str] = []
    for surface in sorted({s for s, _ in marks}, key=list(_SURFACE_NAMES).index):
        out += [f"### {_SURFACE_NAMES[surface]}", "", *_e2e_table(marks, surface), ""]
    return out


def render() -> str:
    providers, dialects = fixture_folders()
    marks = e2e_marks()
    out = [
        "# Compatibility",
        "",
        "<!-- Generated by `python -m tests.golden.compatibility`; do not edit by hand.",
        "     tests/golden/test_compatibility_doc.py fails when this file is stale. -->",
        "",
        "What each client surface and each provider is *proven* to do: every ✓ is an end-to-end",
        "test through the running gateway with the official SDK, every translation entry a golden",
        "fixture checked against the provider's or dialect's API reference (sources in each",
        "fixture folder's README). Anything not listed is not claimed.",
        "",
        "## Surfaces end to end",
        "",
        _PROVIDERS_TEXT,
        "",
        *_e2e_tables(marks),
        "## Translation fixtures: providers (canonical ⇄ upstream wire format)",
        "",
        "`request`: canonical → wire request; `passthrough`: an OpenAI caller's body → the body",
        "forwarded on the passthrough lane; `response`: wire → canonical response; `stream`:",
        "upstream SSE / event stream → canonical events; `error`: status and body → gateway error.",
        "",
        *_fixture_table(providers),
        "",
        "## Translation fixtures: client dialects (client wire format ⇄ canonical)",
        "",
        "`request`: client body → canonical request; `response`: canonical → client response;",
        "`stream`: canonical events → the client's event stream; `error`: gateway error → the",
        "dialect's error envelope.",
        "",
        *_fixture_table(dialects),
        "",
        "## Tests behind each end-to-end mark",
        "",
    ]
    for surface, provider in sorted(
        marks, key=lambda k: (list(_SURFACE_NAMES).index(k[0]), _provider_key(k[1]))
    ):
        out.append(f"- **{surface} → {provider}**")
        for feature in (f for f in FEATURES if f in marks[(surface, provider)]):
            tests = ", ".join(f"`{t}`" for t in sorted(set(marks[(surface, provider)][feature])))
            out.append(f"  - {feature}: {tests}")
    return "\n".join(out) + "\n"


def main() -> None:
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC.relative_to(REPO)}")


if __name__ == "__main__":
    main()
