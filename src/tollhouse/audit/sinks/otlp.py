"""OpenTelemetry export: one GenAI span per LLM call (and per refused call), over OTLP/HTTP protobuf.

Attributes follow the GenAI semantic conventions (``gen_ai.operation.name``,
``gen_ai.provider.name``, ``gen_ai.request.model``, ``gen_ai.response.model``,
``gen_ai.usage.input_tokens`` / ``output_tokens``, ``gen_ai.conversation.id``,
``gen_ai.agent.id``); ``tollhouse.audit.*`` attributes point back at the chained record.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from tollhouse.audit.chain import SealedRecord
from tollhouse.audit.events import parse_time
from tollhouse.audit.sinks.batching import BatchingSink

_SPAN_TYPES = frozenset({"llm.response", "policy.decision", "auth.failure", "limit.rejected"})
_OPERATIONS = {"chat": "chat", "embeddings": "embeddings", "messages": "chat", "responses": "chat"}


def _value(value: str | int | bool) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    return AnyValue(string_value=value)


def genai_attributes(record: dict[str, Any], position: SealedRecord) -> dict[str, str | int | bool]:
    """The span attributes for one record."""
    usage = record.get("usage") or {}
    principal = record.get("principal") or {}
    attributes: dict[str, str | int | bool | None] = {
        "gen_ai.operation.name": _OPERATIONS.get(record.get("surface", ""), record.get("surface")),
        "gen_ai.provider.name": record.get("provider"),
        "gen_ai.request.model": record.get("route"),
        "gen_ai.response.model": record.get("upstream_model"),
        "gen_ai.usage.input_tokens": usage.get("prompt_tokens"),
        "gen_ai.usage.output_tokens": usage.get("completion_tokens"),
        "gen_ai.conversation.id": record.get("session_id"),
        "gen_ai.agent.id": principal.get("id") if principal.get("kind") == "agent" else None,
        "http.response.status_code": record.get("status"),
        "error.type": record.get("error_code"),
        "tollhouse.request_id": record.get("request_id"),
        "tollhouse.principal.id": principal.get("id"),
        "tollhouse.principal.org": principal.get("org"),
        "tollhouse.cost_micro_usd": record.get("cost_micro_usd"),
        "tollhouse.audit.event": record.get("type"),
        "tollhouse.audit.chain": position.chain_id,
        "tollhouse.audit.seq": position.seq,
        "tollhouse.audit.hash": position.hash,
    }
    return {k: v for k, v in attributes.items() if v is not None}


def _span(position: SealedRecord) -> Span | None:
    record = position.record
    if record.get("type") not in _SPAN_TYPES or not record.get("trace_id") or not record.get("span_id"):
        return None
    end_ns = parse_time(record["time"]) * 1000
    start_ns = end_ns - int(record.get("latency_us", 0)) * 1000
    attributes = genai_attributes(record, position)
    status = int(record.get("status") or 0)
    failed = status >= 400 or record.get("type") != "llm.response"
    return Span(
        trace_id=bytes.fromhex(record["trace_id"]),
        span_id=bytes.fromhex(record["span_id"]),
        parent_span_id=bytes.fromhex(record["parent_span_id"]) if record.get("parent_span_id") else b"",
        name=f"{attributes.get('gen_ai.operation.name', 'call')} {record.get('route', '')}".strip(),
        kind=Span.SpanKind.SPAN_KIND_CLIENT,
        start_time_unix_nano=start_ns,
        end_time_unix_nano=end_ns,
        attributes=[KeyValue(key=k, value=_value(v)) for k, v in attributes.items()],
        status=Status(
            code=Status.StatusCode.STATUS_CODE_ERROR if failed else Status.StatusCode.STATUS_CODE_OK
        ),
    )


def export_request(batch: list[SealedRecord], instance: str) -> ExportTraceServiceRequest:
    spans = [span for span in map(_span, batch) if span is not None]
    resource = Resource(
        attributes=[
            KeyValue(key="service.name", value=_value("tollhouse")),
            KeyValue(key="service.instance.id", value=_value(instance)),
        ]
    )
    scope = ScopeSpans(scope=InstrumentationScope(name="tollhouse.audit"), spans=spans)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(resource=resource, scope_spans=[scope])])


class OtlpSink(BatchingSink):
    """Sends GenAI spans to an OTLP/HTTP traces endpoint (``…/v1/traces``)."""

    name = "otlp"

    def __init__(self, url: str, batch_size: int, interval_s: float, queue_size: int, instance: str) -> None:
        super().__init__(url, batch_size, interval_s, queue_size)
        self._instance = instance

    def wanted(self, record: SealedRecord) -> bool:
        return record.record.get("type") in _SPAN_TYPES

    def encode(self, batch: list[SealedRecord]) -> tuple[bytes, str]:
        return export_request(batch, self._instance).SerializeToString(), "application/x-protobuf"
