"""Read a YAML config file into a validated ``GatewayConfig``, with precise error locations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from tollhouse.config.schema import GatewayConfig

Location = tuple[int, int]  # 1-based line and column in the file


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config file: where it is and what is wrong."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        return f"{where}{self.path or '<root>'}: {self.message}"


class ConfigError(ValueError):
    """The config file cannot be used; ``issues`` says where and why."""

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(f"  {issue}" for issue in issues)
        super().__init__(f"invalid config {source}:\n{lines}")


def _positions(node: yaml.Node | None, path: tuple[Any, ...], out: dict[tuple[Any, ...], Location]) -> None:
    if node is None:
        return
    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            # An error about a value points at the value; a missing key falls back to its parent.
            _positions(value_node, (*path, key_node.value), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _positions(item, (*path, index), out)


def _locate(loc: tuple[Any, ...], positions: dict[tuple[Any, ...], Location]) -> Location | None:
    # Normalise pydantic's loc (ints for list indexes, strs for keys) against YAML's string keys.
    for cut in range(len(loc), -1, -1):
        key = tuple(str(p) if not isinstance(p, int) else p for p in loc[:cut])
        if key in positions:
            return positions[key]
    return None


def parse_config(text: str, source: str = "<config>") -> GatewayConfig:
    """Parse and validate YAML text; raise ``ConfigError`` with every issue found."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        issue = ConfigIssue(
            "",
            f"YAML syntax: {problem}",
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        )
        raise ConfigError(source, [issue]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, [ConfigIssue("", "the file must be a mapping of sections", 1, 1)])
    positions: dict[tuple[Any, ...], Location] = {}
    _positions(node, (), positions)
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False, include_input=False):
            loc = tuple(err["loc"])
            where = _locate(loc, positions)
            path = ".".join(str(p) for p in loc)
            message = err["msg"].removeprefix("Value error, ")
            issues.append(ConfigIssue(path, message, *(where or (None, None))))
        raise ConfigError(source, issues) from None


def load_config(path: str | Path) -> GatewayConfig:
    """Read and validate the config file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), [ConfigIssue("", f"cannot read file: {exc.strerror}")]) from None
    return parse_config(text, str(p))
