"""JSON Schema → the OpenAPI 3.0 subset Gemini accepts for function parameters and responses.

Gemini's ``Schema`` (https://ai.google.dev/api/caching#Schema) knows ``type`` (one, upper
case), ``format``, ``description``, ``nullable``, ``enum`` (strings), ``properties``,
``required``, ``items``, ``anyOf``, min/max bounds and ``title``. So: ``$ref``s are inlined,
``["string", "null"]`` and ``anyOf: [..., {"type": "null"}]`` become ``nullable``, ``const``
becomes a one-value ``enum``, and keywords it rejects (``additionalProperties``, ``$schema``,
``default``, ``examples``, …) are dropped.
"""

from __future__ import annotations

from typing import Any

from tollhouse.errors import InvalidRequest

_KEEP = frozenset({
    "format", "description", "title", "minItems", "maxItems", "minimum", "maximum",
    "minLength", "maxLength", "pattern", "minProperties", "maxProperties", "propertyOrdering",
})  # fmt: skip
_MAX_DEPTH = 32


def _resolve(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    if depth > _MAX_DEPTH:
        raise InvalidRequest("JSON schema is recursive; Gemini schemas cannot be", param="tools")
    name = ref.rsplit("/", 1)[-1]
    if name not in defs:
        raise InvalidRequest(f"JSON schema $ref {ref!r} is not defined", param="tools")
    merged = {**defs[name], **{k: v for k, v in schema.items() if k != "$ref"}}
    return _resolve(merged, defs, depth + 1)


def _type(schema: dict[str, Any], out: dict[str, Any]) -> None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) < len(kind):
            out["nullable"] = True
        kind = kinds[0] if kinds else None
    if isinstance(kind, str) and kind != "null":
        out["type"] = kind.upper()


def _any_of(options: list[Any], defs: dict[str, Any], depth: int, out: dict[str, Any]) -> None:
    kept = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
    if len(kept) < len(options):
        out["nullable"] = True
    if len(kept) == 1:
        out.update(_convert(kept[0], defs, depth + 1))
    elif kept:
        out["anyOf"] = [_convert(o, defs, depth + 1) for o in kept]


def _convert(schema: Any, defs: dict[str, Any], depth: int) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    if depth > _MAX_DEPTH:
        raise InvalidRequest("JSON schema nests too deeply for Gemini", param="tools")
    schema = _resolve(schema, defs, depth)
    out: dict[str, Any] = {}
    _type(schema, out)
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list):
        _any_of(options, defs, depth, out)
    for key in _KEEP:
        if key in schema:
            out[key] = schema[key]
    if "const" in schema:
        out["enum"] = [str(schema["const"])]
        out.setdefault("type", "STRING")
    elif isinstance(schema.get("enum"), list) and out.get("type", "STRING") == "STRING":
        # Gemini enums are string-only; an enum on a number or boolean is dropped, its type kept.
        out["enum"] = [str(v) for v in schema["enum"] if v is not None]
        out.setdefault("type", "STRING")
        if None in schema["enum"]:
            out["nullable"] = True
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {k: _convert(v, defs, depth + 1) for k, v in schema["properties"].items()}
        out.setdefault("type", "OBJECT")
    if isinstance(schema.get("required"), list):
        out["required"] = [r for r in schema["required"] if r in out.get("properties", {})]
    if "items" in schema:
        out["items"] = _convert(schema["items"], defs, depth + 1)
        out.setdefault("type", "ARRAY")
    return out


def to_gemini_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (JSON Schema, draft 2020-12 or 7) in Gemini's subset."""
    defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    return _convert(schema, defs, 0)


def has_parameters(schema: dict[str, Any] | None) -> bool:
    """Gemini rejects an OBJECT without properties; a tool without parameters sends none."""
    return bool(schema) and bool((schema or {}).get("properties"))
