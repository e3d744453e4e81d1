"""The semantic cache: the answer to a *similar* prompt, found by embedding (the `ml` extra).

A prompt's text — each message as ``role: text`` — is embedded with all-MiniLM-L6-v2 (the
packaged model, run in NumPy by ``guards.ml.encoder``) in a worker thread, so the event loop
never waits on it. Prompts are grouped by tenant and by *the rest of the request* (the body
without its prompt fields: model, parameters, tools, ``stream``…), so only a call that differs
in wording alone can match. The nearest prompt in the group at or above ``threshold`` (cosine
similarity) names an exact-cache key whose stored answer is replayed. The index lives in this
process's memory; the answers stay in the exact cache's store and expire with it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from tollhouse.cache.config import SemanticCacheConfig
from tollhouse.pipeline.context import RequestContext

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Vector = NDArray[np.float32]
else:
    Vector = Any

SURFACES = frozenset({"chat", "messages", "responses"})
_PROMPT_FIELDS = frozenset({"messages", "system", "input", "instructions", "prompt"})
_FIRST_ROWS = 16


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> Vector: ...


def prompt_text(ctx: RequestContext) -> str:
    """What is compared: every message of the canonical request, with its role."""
    return "\n".join(f"{m.role}: {m.text()}" for m in ctx.chat_request().messages)


def group_of(ctx: RequestContext, tenant: str) -> str:
    """The tenant and everything in the request except its prompt, as one key."""
    rest = {k: v for k, v in ctx.payload.items() if k not in _PROMPT_FIELDS}
    digest = hashlib.sha256(f"{tenant}\x00{ctx.surface}\x00{ctx.dialect}\x00".encode())
    digest.update(orjson.dumps(rest, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


class _Group:
    """One group's prompts: unit vectors (rows) and the exact keys of their answers, oldest
    replaced first once ``capacity`` is reached."""

    __slots__ = ("_capacity", "_next", "keys", "vectors")

    def __init__(self, capacity: int, dim: int) -> None:
        import numpy as np

        self._capacity = capacity
        self._next = 0
        self.keys: list[str] = []
        self.vectors: Vector = np.zeros((min(_FIRST_ROWS, capacity), dim), dtype=np.float32)

    def add(self, key: str, vector: Vector) -> None:
        import numpy as np

        if key in self.keys:
            return
        if len(self.keys) < self._capacity:
            if len(self.keys) == len(self.vectors):  # grow by doubling, up to the capacity
                grown = min(len(self.vectors) * 2, self._capacity)
                self.vectors = np.concatenate(
                    [self.vectors, np.zeros_like(self.vectors[: grown - len(self.vectors)])]
                )
            self.vectors[len(self.keys)] = vector
            self.keys.append(key)
            return
        self.vectors[self._next] = vector
        self.keys[self._next] = key
        self._next = (self._next + 1) % self._capacity

    def nearest(self, vector: Vector) -> tuple[str, float] | None:
        if not self.keys:
            return None
        scores = self.vectors[: len(self.keys)] @ vector
        best = int(scores.argmax())
        return self.keys[best], float(scores[best])


def _load_minilm() -> Encoder:
    from tollhouse.guards.ml.encoder import MiniLM

    return MiniLM()


class SemanticIndex:
    """Every group's prompts; the encoder is loaded once, in a thread, when serving starts."""

    def __init__(self, config: SemanticCacheConfig, load: Callable[[], Encoder] = _load_minilm) -> None:
        self._config = config
        self._load = load
        self._encoder: Encoder | None = None
        self._groups: OrderedDict[str, _Group] = OrderedDict()

    @property
    def threshold(self) -> float:
        return self._config.threshold

    async def start(self) -> None:
        if self._encoder is None:
            self._encoder = await asyncio.to_thread(self._load)

    async def stop(self) -> None:
        return None

    async def embed(self, text: str) -> Vector:
        """The prompt's unit vector, computed off the event loop."""
        encoder = self._encoder
        if encoder is None:
            raise RuntimeError("the semantic cache's model is not loaded yet")
        rows = await asyncio.to_thread(encoder.encode, [text])
        vector: Vector = rows[0]
        return vector

    def nearest(self, group: str, vector: Vector) -> tuple[str, float] | None:
        """The exact key and similarity of the closest prompt at or above the threshold."""
        found = self._groups.get(group)
        if found is None:
            return None
        self._groups.move_to_end(group)
        best = found.nearest(vector)
        return best if best is not None and best[1] >= self._config.threshold else None

    def add(self, group: str, key: str, vector: Vector) -> None:
        found = self._groups.get(group)
        if found is None:
            found = self._groups[group] = _Group(self._config.max_entries, int(vector.shape[0]))
            while len(self._groups) > self._config.max_groups:
                self._groups.popitem(last=False)
        self._groups.move_to_end(group)
        found.add(key, vector)
