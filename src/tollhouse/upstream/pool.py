"""Pooled aiohttp sessions, one per base URL, opened lazily inside the running loop."""

from __future__ import annotations

import aiohttp


class UpstreamPool:
    """Owns every upstream ``ClientSession``; ``close()`` at shutdown releases them all.

    A session per base URL keeps each provider's keep-alive pool and connection limit
    separate, so one slow provider cannot starve the others of connections.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def session(self, base_url: str, max_connections: int) -> aiohttp.ClientSession:
        session = self._sessions.get(base_url)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=max_connections,
                limit_per_host=max_connections,
                ttl_dns_cache=300,
                keepalive_timeout=60,
            )
            # auto_decompress stays on: providers may gzip; raise_for_status off: we map statuses.
            # No cookie jar: cookies an upstream sets (e.g. a CDN's) must not be replayed on
            # other callers' requests through the shared session.
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("User-Agent",),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._sessions[base_url] = session
        return session

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()
