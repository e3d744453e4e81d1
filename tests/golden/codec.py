"""Canonical objects ⇄ JSON for golden fixtures: ``{"_type": "ChatRequest", ...}``.

Fields left at their default are omitted when writing, so fixtures stay short and keep
passing when the model grows a field. Reading uses the dataclasses' type hints, so a JSON
list becomes a tuple only where the model declares a tuple (JSON Schemas keep their lists).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import orjson

from tollhouse.model import chat, stream

_CLASSES: dict[str, type[Any]] = {
    name: obj
    for module in (chat, stream)
    for name, obj in vars(module).items()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__
}


def to_json(value: Any) -> Any:
    """``value`` (canonical objects, tuples, dicts, scalars) as plain JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"_type": type(value).__name__}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name == "type" and f.default is not dataclasses.MISSING and item == f.default:
                continue  # the class name already says it
            default = (
                f.default
                if f.default is not dataclasses.MISSING
                else f.default_factory()
                if f.default_factory is not dataclasses.MISSING
                else dataclasses.MISSING
            )
            if default is not dataclasses.MISSING and item == default:
                continue
            out[f.name] = to_json(item)
        return out
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def _decode(value: Any, hint: Any) -> Any:
    if isinstance(value, dict) and "_type" in value:
        return from_json(value)
    if not isinstance(value, list):
        return value
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        tuple_hints = [h for h in typing.get_args(hint) if typing.get_origin(h) is tuple]
        return _decode(value, tuple_hints[0]) if tuple_hints else value
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(v, args[0]) for v in value)
        return tuple(_decode(v, h) for v, h in zip(value, args, strict=True))
    return value


def from_json(data: Any) -> Any:
    """The canonical object ``data`` describes (the inverse of ``to_json``)."""
    if isinstance(data, list):
        return [from_json(d) for d in data]
    cls = _CLASSES[data["_type"]]
    hints = typing.get_type_hints(cls)
    kwargs = {k: _decode(v, hints[k]) for k, v in data.items() if k != "_type"}
    return cls(**kwargs)


def read_json(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def write_json(path: Path, data: Any) -> None:
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
