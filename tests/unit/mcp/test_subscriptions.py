"""Who follows which upstream resource: upstream subscribe on the first, unsubscribe after the last."""

from __future__ import annotations

from typing import Any

from tollhouse.mcp.subscriptions import Subscriptions

UPDATED = {"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "r://a"}}


def test_first_follower_subscribes_and_last_one_unsubscribes() -> None:
    subs = Subscriptions()
    assert subs.add("s", "r://a", "one") is True
    assert subs.add("s", "r://a", "two") is False
    assert subs.add("s", "r://a", "two") is False  # again: nothing new
    assert subs.remove("s", "r://a", "one") is False
    assert subs.remove("s", "r://a", "one") is False  # not following any more
    assert subs.remove("s", "r://a", "two") is True
    assert subs.followers("s", "r://a") == frozenset()


def test_a_session_that_ends_releases_what_only_it_followed() -> None:
    subs = Subscriptions()
    subs.add("s", "r://a", "one")
    subs.add("s", "r://b", "one")
    subs.add("s", "r://b", "two")
    subs.add("t", "r://a", "one")
    assert sorted(subs.drop_session("one")) == [("s", "r://a"), ("t", "r://a")]
    assert subs.followers("s", "r://b") == {"two"}
    assert subs.drop_session("one") == []


def test_updates_go_to_the_followers_of_that_server_and_uri() -> None:
    subs = Subscriptions()
    subs.add("s", "r://a", "one")
    subs.add("s", "r://b", "two")
    subs.add("t", "r://a", "three")
    pushed: list[tuple[str, dict[str, Any]]] = []
    assert subs.deliver("s", UPDATED, lambda sid, m: pushed.append((sid, m))) == 1
    assert pushed == [
        ("one", {"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "r://a"}})
    ]
    assert (
        subs.deliver(
            "s", {"method": "notifications/resources/updated"}, lambda sid, m: pushed.append((sid, m))
        )
        == 0
    )
