"""The admin API's OpenAPI 3.1 document, generated from the endpoint table and body models."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tollhouse.admin.api import Endpoint

_ERROR = {"$ref": "#/components/schemas/Error"}
_PARAM_RE = re.compile(r"{(\w+)}")


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": endpoint.summary,
        "operationId": endpoint.handler.__name__,
        "security": [{"bearer": []}],
        "x-tollhouse-action": endpoint.action,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {}}},
            **{
                code: {"description": text, "content": {"application/json": {"schema": _ERROR}}}
                for code, text in (
                    ("400", "Invalid request"),
                    ("401", "Not authenticated"),
                    ("403", "The caller's role does not allow this"),
                    ("404", "No such record"),
                    ("409", "Conflicts with existing records"),
                    ("429", "Too many failed authentications"),
                )
            },
        },
    }
    params: list[dict[str, Any]] = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
        for n in _PARAM_RE.findall(endpoint.path)
    ]
    params += [
        {"name": q.name, "in": "query", "description": q.description, "schema": {"type": q.type}}
        for q in endpoint.query
    ]
    if params:
        op["parameters"] = params
    if endpoint.body is not None:
        ref = {"$ref": f"#/components/schemas/{endpoint.body.__name__}"}
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref}}}
    return op


def openapi_document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "message": {"type": "string"},
                        "type": {"type": "string"},
                        "code": {"type": "string"},
                    },
                }
            },
        }
    }
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
        if endpoint.body is not None:
            schema = endpoint.body.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                schemas[name] = definition
            schemas[endpoint.body.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tollhouse admin API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
