"""Limits in one gateway process (in-process counters): reservations, concurrency, caps, headers,
the admin API for spend and sessions, and soft-threshold alerts to a webhook."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.limits_support import AUTH, chat_body, gateway_config, post, run
from tests.support.gateway import CLIENT_KEY, RunningGateway, free_port
from tests.support.identity import admin_request


class Webhook:
    """A local alert receiver: records every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/alerts"
        self.received: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        return web.Response(status=204)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/alerts", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    def __enter__(self) -> Webhook:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(5)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture(scope="module")
def slow_upstream() -> Iterator[FakeOpenAI]:
    from tests.support.gateway import UPSTREAM_KEY

    with FakeOpenAI(require_key=UPSTREAM_KEY, hang_s=5) as fake:
        yield fake


@pytest.fixture(scope="module")
def webhook() -> Iterator[Webhook]:
    with Webhook() as hook:
        yield hook


@pytest.fixture(scope="module")
def gateway(
    slow_upstream: FakeOpenAI, webhook: Webhook, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    directory = tmp_path_factory.mktemp("limits-gateway")
    limits = {
        "kill_poll_s": 0.2,
        "ledger": {"flush_interval_s": 0.1},
        "alerts": {"webhook_url": webhook.url},
        "rules": [
            {"name": "tpm", "metric": "output_tokens", "limit": 1000, "match": {"model": ["hang-stream"]}},
            {"name": "inflight", "metric": "concurrent", "limit": 2, "match": {"model": ["slow"]}},
            {"name": "soft", "metric": "requests", "limit": 10, "alert_at": [0.5], "match": {"model": ["priced"]},
             "mode": "shadow"},
            {"name": "tools", "metric": "tool_calls", "limit": 3, "by": ["session"]},
        ],
        "sessions": {"max_duration_s": 2.5},
    }  # fmt: skip
    config = gateway_config(
        slow_upstream.base_url,
        f"sqlite:///{directory / 'gateway.db'}",
        limits,
        identity={"enabled": True, "refresh_interval_s": 5, "last_used_flush_s": 3600},
        admin={"enabled": True, "port": free_port()},
    )
    with RunningGateway(config) as gw:
        gw.admin_port = config["admin"]["port"]  # type: ignore[attr-defined]
        yield gw


def _hang(max_tokens: int) -> dict[str, Any]:
    return {**chat_body("hang-stream", max_tokens=max_tokens), "stream": True}


async def _hold_stream(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], release: asyncio.Event
) -> int:
    """Open a stream, read its first event, keep it open until ``release``, then hang up."""
    async with session.post(f"{url}/v1/chat/completions", json=body, headers=AUTH) as response:
        if response.status == 200:
            await response.content.readline()
            await release.wait()
        return response.status


def test_a_reservation_blocks_the_excess_until_it_is_settled(gateway: RunningGateway) -> None:
    async def scenario() -> tuple[int, int, int]:
        release, done = asyncio.Event(), asyncio.Event()
        done.set()
        async with aiohttp.ClientSession() as session:
            holder = asyncio.create_task(_hold_stream(session, gateway.url, _hang(600), release))
            await asyncio.sleep(0.3)
            during = (await post(session, gateway.url, _hang(600)))[0]  # 600 + 600 reserved > 1000
            release.set()
            first = await holder
            await asyncio.sleep(0.3)
            # The holder left mid-stream without a usage report (the passthrough lane): it is
            # charged its whole reservation, 600, and holds nothing any more: 300 more fit.
            after = await _hold_stream(session, gateway.url, _hang(300), done)
            return first, during, after

    first, during, after = run(scenario())
    assert (first, during, after) == (200, 429, 200)


def test_concurrent_requests_are_capped_and_slots_come_back(gateway: RunningGateway) -> None:
    async def scenario() -> tuple[list[int], str, int]:
        release, done = asyncio.Event(), asyncio.Event()
        done.set()
        body = {**chat_body("slow"), "stream": True}
        async with aiohttp.ClientSession() as session:
            holders = [
                asyncio.create_task(_hold_stream(session, gateway.url, body, release)) for _ in range(2)
            ]
            await asyncio.sleep(0.3)
            status, _, refused = await post(session, gateway.url, body)
            release.set()
            statuses = list(await asyncio.gather(*holders))
            await asyncio.sleep(0.2)
            again = await _hold_stream(session, gateway.url, body, done)
            return [*statuses, status], refused["error"]["code"], again

    held, code, again = run(scenario())
    assert held == [200, 200, 429]
    assert code == "rate_limit_exceeded"
    assert again == 200


def test_shadow_limits_refuse_nothing_and_alerts_fire_once(gateway: RunningGateway, webhook: Any) -> None:
    async def scenario() -> list[int]:
        async with aiohttp.ClientSession() as session:
            return [(await post(session, gateway.url, chat_body("priced", tag=str(i))))[0] for i in range(14)]

    assert run(scenario()) == [200] * 14  # shadow: 14 > 10, none refused
    deadline = time.monotonic() + 5
    while not webhook.received and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    soft = [a for a in webhook.received if a["limit_name"] == "soft"]
    assert len(soft) == 1
    assert soft[0]["threshold"] == 0.5
    assert soft[0]["limit"] == 10
    assert soft[0]["type"] == "tollhouse.limit.threshold"


def test_tool_calls_per_session_and_session_wall_time(gateway: RunningGateway) -> None:
    session_id = f"agent-{uuid.uuid4().hex[:8]}"
    headers = {"x-tollhouse-session": session_id}

    def tool_turn(results: int) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [{"role": "user", "content": f"go {uuid.uuid4().hex}"}]
        calls = [
            {"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            for i in range(results)
        ]
        messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        messages += [{"role": "tool", "tool_call_id": f"c{i}", "content": "ok"} for i in range(results)]
        return {"model": "free", "messages": messages, "max_tokens": 8}

    async def scenario() -> tuple[list[int], str, int, str]:
        async with aiohttp.ClientSession() as session:
            statuses = [(await post(session, gateway.url, tool_turn(n), headers))[0] for n in (2, 1)]
            status, _, body = await post(session, gateway.url, tool_turn(1), headers)  # 4 > 3
            await asyncio.sleep(2.6)  # past max_duration_s
            late, _, late_body = await post(session, gateway.url, chat_body("free", tag="late"), headers)
            return [*statuses, status], body["error"]["code"], late, late_body["error"]["code"]

    statuses, code, late, late_code = run(scenario())
    assert statuses == [200, 200, 429]
    assert code == "rate_limit_exceeded"
    assert (late, late_code) == (403, "session_limit_exceeded")


def test_admin_api_reports_spend_and_kills_sessions(gateway: RunningGateway) -> None:
    port = gateway.admin_port  # type: ignore[attr-defined]
    session_id = f"admin-{uuid.uuid4().hex[:8]}"
    headers = {"x-tollhouse-session": session_id}

    async def calls(count: int) -> list[int]:
        async with aiohttp.ClientSession() as session:
            return [
                (await post(session, gateway.url, chat_body("priced", tag=f"{session_id}{i}"), headers))[0]
                for i in range(count)
            ]

    assert run(calls(2)) == [200, 200]
    time.sleep(0.4)  # the ledger flushes every 0.1 s
    status, _, shown = admin_request(port, "GET", f"/v1/sessions/{session_id}", CLIENT_KEY)
    assert status == 200
    assert shown["usage"]["calls"] == 2
    assert shown["usage"]["cost_usd"] > 0
    assert shown["killed"] is None
    status, _, report = admin_request(port, "GET", f"/v1/spend?by=session&session={session_id}", CLIENT_KEY)
    assert status == 200
    assert [row["session"] for row in report["data"]] == [session_id]
    assert report["total_cost_usd"] == shown["usage"]["cost_usd"]

    status, _, killed = admin_request(
        port, "POST", f"/v1/sessions/{session_id}/kill?reason=runaway", CLIENT_KEY
    )
    assert status == 200
    assert killed["killed"]["reason"] == "runaway"
    time.sleep(0.5)
    assert run(calls(1)) == [403]
    status, _, listed = admin_request(port, "GET", "/v1/sessions/killed", CLIENT_KEY)
    assert session_id in [row["session_id"] for row in listed["data"]]
    status, _, _ = admin_request(port, "DELETE", f"/v1/sessions/{session_id}/kill", CLIENT_KEY)
    assert status == 200
    time.sleep(0.5)
    assert run(calls(1)) == [200]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/spend?since=1e308",
        "/v1/spend?until=nan",
        "/v1/spend/export?since=1180591620717411303424",
    ],
)
def test_admin_times_out_of_range_are_a_400(gateway: RunningGateway, path: str) -> None:
    status, _, body = admin_request(gateway.admin_port, "GET", path, CLIENT_KEY)  # type: ignore[attr-defined]
    assert status == 400 and "outside 1970-01-01 to 9999-12-31" in body["error"]["message"]


@pytest.mark.parametrize("ttl", ["1e308", "nan", "0", "-1"])
def test_a_kill_for_too_long_or_no_time_is_a_400(gateway: RunningGateway, ttl: str) -> None:
    port = gateway.admin_port  # type: ignore[attr-defined]
    status, _, body = admin_request(port, "POST", f"/v1/sessions/s-ttl/kill?ttl_s={ttl}", CLIENT_KEY)
    assert status == 400 and "ttl_s" in body["error"]["message"]


def test_admin_api_exports_csv(gateway: RunningGateway) -> None:
    import http.client

    port = gateway.admin_port  # type: ignore[attr-defined]

    async def calls() -> list[int]:
        async with aiohttp.ClientSession() as session:
            return [
                (await post(session, gateway.url, chat_body("priced", tag=f"csv{i}")))[0] for i in range(2)
            ]

    assert run(calls()) == [200, 200]
    time.sleep(0.4)  # the ledger flushes every 0.1 s
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/v1/spend?by=model&format=csv", headers={"authorization": f"Bearer {CLIENT_KEY}"})
    response = conn.getresponse()
    text = response.read().decode()
    assert response.status == 200
    assert response.getheader("content-type", "").startswith("text/csv")
    lines = text.splitlines()
    assert lines[0] == "model,calls,input_tokens,output_tokens,cost_usd,estimated_calls"
    conn.request(
        "GET", "/v1/spend/export?since=1h&format=csv", headers={"authorization": f"Bearer {CLIENT_KEY}"}
    )
    response = conn.getresponse()
    rows = response.read().decode().splitlines()
    conn.close()
    assert rows[0].split(",")[:3] == ["time_us", "day", "request_id"]
    assert len(rows) > 1
    status, _, exported = admin_request(port, "GET", "/v1/spend/export?since=1h&model=priced", CLIENT_KEY)
    assert status == 200
    assert exported["data"]
    assert {row["model"] for row in exported["data"]} == {"priced"}
    assert all(row["cost_usd"] > 0 for row in exported["data"])
