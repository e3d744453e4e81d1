"""Audit sinks through the real gateway: OTLP/HTTP GenAI spans and the SIEM webhook, received by
local servers that decode what arrives on the wire."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
import yaml
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.test_audit_gateway import audit_config
from tests.support.audit_chain import signer
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tollhouse.audit.checkpoint import checkpoint_from_json
from tollhouse.audit.signing import SignatureChecker


class Receiver:
    """An OTLP/HTTP traces receiver and a SIEM webhook on 127.0.0.1, in a background thread."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.resources: list[Any] = []
        self.siem: list[dict[str, Any]] = []
        self.witness: list[dict[str, Any]] = []
        self.content_types: set[str] = set()
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _traces(self, request: web.Request) -> web.Response:
        self.content_types.add(request.content_type)
        export = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in export.resource_spans:
            self.resources.append(resource_spans.resource)
            for scope in resource_spans.scope_spans:
                self.spans.extend(scope.spans)
        return web.Response(body=b"", content_type="application/x-protobuf")

    async def _siem(self, request: web.Request) -> web.Response:
        self.siem.extend(orjson.loads(await request.read()))
        return web.json_response({"ok": True})

    async def _witness(self, request: web.Request) -> web.Response:
        self.witness.append(orjson.loads(await request.read()))
        return web.json_response({"ok": True})

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        app.router.add_post("/siem", self._siem)
        app.router.add_post("/witness", self._witness)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> Receiver:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def attributes(span: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in span.attributes:
        value = kv.value
        out[kv.key] = value.string_value if value.HasField("string_value") else value.int_value
    return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def test_llm_calls_arrive_as_genai_spans_and_siem_batches(
    tmp_path: Path, upstream: FakeOpenAI, receiver: Receiver
) -> None:
    sinks = {
        "otlp_endpoint": f"{receiver.url}/v1/traces",
        "siem_webhook": f"{receiver.url}/siem",
        "interval_s": 0.1,
    }
    config = audit_config(upstream.base_url, tmp_path / "gw.db", "async", sinks=sinks)
    config["audit"]["checkpoints"]["witness_url"] = f"{receiver.url}/witness"
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with RunningGateway(config) as gw:
        client = openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0)
        reply = client.chat.completions.with_raw_response.create(
            model="gpt-test",
            messages=[{"role": "user", "content": "hello"}],
            extra_headers={"traceparent": traceparent, "x-tollhouse-session": "conv-1"},
        )
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(
                base_url=gw.base_url, api_key="sk-not-a-key-0000", max_retries=0
            ).chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "x"}])
        deadline = time.monotonic() + 10
        while len(receiver.spans) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert receiver.content_types == {"application/x-protobuf"}
    by_event = {attributes(s)["tollhouse.audit.event"]: s for s in receiver.spans}
    call = by_event["llm.response"]
    attrs = attributes(call)
    assert call.trace_id.hex() == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert call.parent_span_id.hex() == "00f067aa0ba902b7"
    assert call.name == "chat gpt-test" and call.end_time_unix_nano > call.start_time_unix_nano
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.request.model"] == "gpt-test" and attrs["gen_ai.response.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.provider.name"] == "fake" and attrs["gen_ai.conversation.id"] == "conv-1"
    assert attrs["gen_ai.usage.input_tokens"] > 0 and attrs["gen_ai.usage.output_tokens"] > 0
    assert attrs["tollhouse.request_id"] == reply.headers["x-request-id"]
    assert len(attrs["tollhouse.audit.hash"]) == 64
    assert "auth.failure" in by_event and by_event["auth.failure"].status.code == 2  # STATUS_CODE_ERROR
    siem_types = [r["type"] for r in receiver.siem]
    assert siem_types[0] == "chain.start" and siem_types[-1] == "chain.close"
    assert {"llm.request", "llm.response", "auth.failure"} <= set(siem_types)
    assert all(len(r["hash"]) == 64 and isinstance(r["seq"], int) for r in receiver.siem)
    # The closing checkpoint reached the webhook witness, signed, naming the chain's last record.
    checker = SignatureChecker([signer().public_key])
    (final,) = [checkpoint_from_json(w) for w in receiver.witness if w["seq"] == receiver.siem[-1]["seq"]]
    assert checker.problem(final) is None and final.hash == receiver.siem[-1]["hash"]


def test_export_command_sends_spans(tmp_path: Path, upstream: FakeOpenAI, receiver: Receiver) -> None:
    config = audit_config(upstream.base_url, tmp_path / "gw.db", "async")
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(config))
    with RunningGateway(config) as gw:
        openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0).chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "hello"}]
        )
    result = subprocess.run(
        [sys.executable, "-m", "tollhouse.cli.main", "audit", "export", "-c", str(path),
         "--otlp-endpoint", f"{receiver.url}/v1/traces"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (span,) = receiver.spans
    assert attributes(span)["gen_ai.request.model"] == "gpt-test"
