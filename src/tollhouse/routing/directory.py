"""The aliases the gateway serves, as the model-list endpoints render them (OpenAI's and
Anthropic's shapes); built once per config."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from tollhouse.errors import InvalidRequest
from tollhouse.routing.build import route_targets

if TYPE_CHECKING:
    from tollhouse.config.schema import GatewayConfig

ANTHROPIC_PAGE = 20  # Anthropic's default ``limit``
ANTHROPIC_PAGE_MAX = 1000


@dataclass(frozen=True, slots=True)
class ListedModel:
    alias: str
    owned_by: str  # the provider of the route's first target


class ModelDirectory:
    """The configured aliases, rendered per dialect; built once per config."""

    def __init__(self, models: Sequence[ListedModel], created: int | None = None) -> None:
        self.models = tuple(models)
        self._by_alias = {m.alias: m for m in self.models}
        self.created = int(time.time()) if created is None else created
        self._created_at = datetime.fromtimestamp(self.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.openai_body = self.openai_list(self.models)  # what every unrestricted caller gets

    @classmethod
    def of(cls, config: GatewayConfig) -> ModelDirectory:
        return cls([ListedModel(r.alias, route_targets(r)[0].target.split("/")[0]) for r in config.models])

    def get(self, alias: str) -> ListedModel | None:
        return self._by_alias.get(alias)

    def openai(self, model: ListedModel) -> dict[str, Any]:
        return {"id": model.alias, "object": "model", "created": self.created, "owned_by": model.owned_by}

    def openai_list(self, models: Sequence[ListedModel]) -> bytes:
        return orjson.dumps({"object": "list", "data": [self.openai(m) for m in models]})

    def anthropic(self, model: ListedModel) -> dict[str, Any]:
        return {
            "type": "model",
            "id": model.alias,
            "display_name": model.alias,
            "created_at": self._created_at,
        }

    def anthropic_page(self, models: Sequence[ListedModel], query: bytes) -> bytes:
        """One page of Anthropic's list: ``limit`` models after ``after_id`` or before ``before_id``."""
        params = urllib.parse.parse_qs(query.decode("latin-1"))
        limit = _limit(params)
        ids = [m.alias for m in models]
        if "before_id" in params:
            end = _position(ids, params["before_id"][-1], "before_id")
            start = max(0, end - limit)
            has_more = start > 0
        else:
            start = _position(ids, params["after_id"][-1], "after_id") + 1 if "after_id" in params else 0
            end = start + limit
            has_more = end < len(ids)
        page = models[start:end]
        return orjson.dumps(
            {
                "data": [self.anthropic(m) for m in page],
                "first_id": page[0].alias if page else None,
                "last_id": page[-1].alias if page else None,
                "has_more": has_more,
            }
        )


def _limit(params: dict[str, list[str]]) -> int:
    if "limit" not in params:
        return ANTHROPIC_PAGE
    raw = params["limit"][-1]
    if not raw.isdigit() or not 1 <= int(raw) <= ANTHROPIC_PAGE_MAX:
        raise InvalidRequest(
            f"limit: must be an integer from 1 to {ANTHROPIC_PAGE_MAX}", code="invalid_value", param="limit"
        )
    return int(raw)


def _position(ids: list[str], cursor: str, param: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise InvalidRequest(f"{param}: no model `{cursor}`", code="invalid_value", param=param) from None
