"""Resource subscriptions (2025-11-25 sessions): which client sessions follow which upstream
resource, and delivering an upstream's ``notifications/resources/updated`` to them.

The gateway subscribes upstream once per (server, URI), on the first caller's
``resources/subscribe``, and unsubscribes after the last one leaves (or its session ends).
An update reaches a session through its standalone stream (``GET /mcp/{route}``); a session
without one open misses it, as a client without that stream does on any server.
"""

from __future__ import annotations

from collections.abc import Callable

from tollhouse.mcp.protocol import Message

Key = tuple[str, str]  # (server, resource URI)


class Subscriptions:
    """Followers per upstream resource; in-memory, per process (like the sessions)."""

    def __init__(self) -> None:
        self._followers: dict[Key, set[str]] = {}
        self._of_session: dict[str, set[Key]] = {}

    def add(self, server: str, uri: str, session_id: str) -> bool:
        """Follow; True when this is the resource's first follower (subscribe upstream)."""
        key = (server, uri)
        followers = self._followers.setdefault(key, set())
        first = not followers
        followers.add(session_id)
        self._of_session.setdefault(session_id, set()).add(key)
        return first

    def remove(self, server: str, uri: str, session_id: str) -> bool:
        """Stop following; True when nobody follows the resource any more (unsubscribe upstream)."""
        key = (server, uri)
        followers = self._followers.get(key)
        keys = self._of_session.get(session_id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._of_session[session_id]
        if followers is None or session_id not in followers:
            return False
        followers.discard(session_id)
        if followers:
            return False
        del self._followers[key]
        return True

    def drop_session(self, session_id: str) -> list[Key]:
        """A session ended: the resources nobody follows any more."""
        return [key for key in list(self._of_session.get(session_id, ())) if self.remove(*key, session_id)]

    def followers(self, server: str, uri: str) -> frozenset[str]:
        return frozenset(self._followers.get((server, uri), ()))

    def deliver(self, server: str, message: Message, push: Callable[[str, Message], None]) -> int:
        """Hand an upstream's ``resources/updated`` to every follower; how many got it."""
        params = message.get("params")
        uri = params.get("uri") if isinstance(params, dict) else None
        if not isinstance(uri, str):
            return 0
        followers = self.followers(server, uri)
        for session_id in followers:
            push(
                session_id,
                {"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": uri}},
            )
        return len(followers)
