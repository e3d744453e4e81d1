"""Azure's stream differences: a first chunk announcing ``prompt_filter_results``.

Azure opens a Chat Completions stream with a chunk that has no choices and an empty ``id``,
``model`` and ``created`` (the prompt's content-filter verdicts). An OpenAI decoder would
take its empty fields for the stream's; for translated streams it is dropped before
decoding. Passthrough streams keep it: OpenAI clients skip chunks without choices.
"""

from __future__ import annotations

import orjson

from tollhouse.providers.sse import SSEDecoder, SSEEvent


class PromptFilterDrop:
    """Bytes in, the same SSE events out, less Azure's prompt-filter announcements."""

    __slots__ = ("_frames",)

    def __init__(self) -> None:
        self._frames = SSEDecoder()

    def feed(self, data: bytes) -> bytes:
        return self._keep(self._frames.feed(data))

    def finish(self) -> bytes:
        return self._keep(self._frames.finish())

    def _keep(self, events: list[SSEEvent]) -> bytes:
        out = []
        for event in events:
            if b'"prompt_filter_results"' in event.raw:
                try:
                    chunk = orjson.loads(event.data)
                except orjson.JSONDecodeError:
                    chunk = None
                if isinstance(chunk, dict) and not chunk.get("choices") and not chunk.get("id"):
                    continue
            out.append(event.raw)
        return b"".join(out)
