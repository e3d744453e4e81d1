"""Pure, deterministic builders for the OpenAI wire format used by the fake upstream.

Shared pieces (errors, tokens, JSON-schema examples) plus embeddings and models; chat lives
in ``openai_chat``. No I/O here, so the shapes are reusable by other fakes. They mirror what
the official ``openai`` SDK parses (``CreateEmbeddingResponse``, ``Model`` and the
``{"error": {"message", "type", "param", "code"}}`` envelope).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from collections.abc import Callable
from typing import Any

import orjson

from .scripted_reply import openai_content_text

# Fixed so that whole responses are byte-for-byte reproducible (golden-file friendly).
CREATED = 1_735_689_600
SYSTEM_FINGERPRINT = "fp_fake0001"
DEFAULT_EMBEDDING_DIMS = 8
MODELS: tuple[tuple[str, str], ...] = (
    ("gpt-4o-mini", "system"),
    ("gpt-4o", "system"),
    ("o3-mini", "system"),
    ("text-embedding-3-small", "system"),
    ("text-embedding-3-large", "system"),
)
_TOKEN_RE = re.compile(r"\s*\S+|\s+")


class ApiError(Exception):
    """An OpenAI-style error response; the server turns it into ``{"error": {...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


# ---------------------------------------------------------------------------- errors

_KEY_HELP = "You can find your API key at https://platform.openai.com/account/api-keys."
_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). " + _KEY_HELP
)
_RATE_LIMIT = (
    "Rate limit reached for error-429 in organization org-fake on requests per min (RPM): "
    "Limit 3, Used 3, Requested 1. Please try again in 2s."
)

# Model name -> injected error. A factory, so every response gets a fresh exception.
INJECTED_ERRORS: dict[str, Callable[[], ApiError]] = {
    "error-400": lambda: ApiError(
        400, "Invalid request (injected by the fake upstream).", code="invalid_value"
    ),
    # The masked key is a canary: gateway tests assert it never reaches their clients.
    "error-401": lambda: ApiError(
        401, f"Incorrect API key provided: sk-up...XYZ. {_KEY_HELP}", code="invalid_api_key"
    ),
    "error-404": lambda: ApiError(
        404,
        "The model `error-404` does not exist or you do not have access to it.",
        code="model_not_found",
    ),
    "error-429": lambda: ApiError(
        429, _RATE_LIMIT, "requests", code="rate_limit_exceeded", headers={"retry-after": "2"}
    ),
    "error-500": lambda: ApiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
    ),
    "error-503": lambda: ApiError(
        503, "The engine is currently overloaded, please try again later.", "server_error"
    ),
}
GARBAGE_BODY = b"<html><body>502 upstream exploded</body></html> {not json"


def no_key_error() -> ApiError:
    return ApiError(401, _NO_KEY)


def bad_key_error(key: str) -> ApiError:
    """Masks the presented key the way OpenAI does (first 5 and last 3 characters)."""
    masked = f"{key[:5]}...{key[-3:]}" if len(key) > 10 else "***"
    return ApiError(401, f"Incorrect API key provided: {masked}. {_KEY_HELP}", code="invalid_api_key")


# ---------------------------------------------------------------------------- tokens


def split_tokens(text: str) -> list[str]:
    """Word-ish "tokens" with their leading whitespace, like BPE pieces (" world")."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(split_tokens(text))


def message_text(message: dict[str, Any]) -> str:
    """Text of a message whose content is a string or a list of content parts (images named
    by ``scripted_reply.data_url_note``, so a test sees that the bytes arrived)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return openai_content_text([p for p in content if isinstance(p, dict)])
    return ""


# ---------------------------------------------------------------------------- schemas


def schema_example(schema: Any, root: dict[str, Any], name: str = "value", depth: int = 0) -> Any:
    """A deterministic value that satisfies a (simple) JSON schema.

    Object schemas fill their ``required`` properties (all properties when ``required`` is
    absent); ``$ref`` into ``$defs``/``definitions`` is followed so pydantic-made schemas work.
    """
    if not isinstance(schema, dict) or depth > 8:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return schema_example(target, root, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or [] if isinstance(o, dict)]
        options = [o for o in options if o.get("type") != "null"]
        if options:
            return schema_example(options[0], root, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    if kind == "object":
        props: dict[str, Any] = schema.get("properties") or {}
        wanted = schema.get("required", list(props))
        return {k: schema_example(props.get(k, {}), root, k, depth + 1) for k in wanted}
    if kind == "array":
        return [schema_example(schema.get("items", {"type": "string"}), root, name, depth + 1)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    fmt = schema.get("format")
    formats = {
        "date-time": "2025-01-01T00:00:00Z",
        "date": "2025-01-01",
        "email": "fake@example.com",
        "uri": "https://example.com/fake",
    }
    return formats.get(fmt, f"fake-{name}") if isinstance(fmt, str) else f"fake-{name}"


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# ---------------------------------------------------------------------------- embeddings


def _embedding_inputs(raw: Any) -> list[tuple[str, int]]:
    """Normalise ``input`` to (hash key, token count) pairs; all four SDK shapes accepted."""
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'$.input' is invalid. Please check the API reference.", param="input")
    out: list[tuple[str, int]] = []
    for item in raw:
        if isinstance(item, str) and item:
            out.append((item, count_tokens(item)))
        elif isinstance(item, list) and item and all(isinstance(x, int) for x in item):
            out.append((",".join(map(str, item)), len(item)))
        else:
            msg = "'$.input' is invalid. Please check the API reference."
            raise ApiError(400, msg, param="input")
    return out


def embedding_vector(key: str, dims: int) -> list[float]:
    """Unit-length vector derived from sha256; values are exact float32 so float and
    base64 responses decode to identical numbers."""
    raw: list[float] = []
    counter = 0
    while len(raw) < dims:
        digest = hashlib.sha256(f"{counter}:{key}".encode()).digest()
        raw += [(b / 127.5) - 1.0 for b in digest]
        counter += 1
    raw = raw[:dims]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return list(struct.unpack(f"<{dims}f", struct.pack(f"<{dims}f", *(v / norm for v in raw))))


def embeddings_json(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise ApiError(400, "you must provide a model parameter", param="model")
    inputs = _embedding_inputs(body.get("input"))
    dims = body.get("dimensions", DEFAULT_EMBEDDING_DIMS)
    if not isinstance(dims, int) or dims < 1:
        raise ApiError(400, f"Invalid value for 'dimensions': {dims!r}.", param="dimensions")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise ApiError(400, f"Invalid value for 'encoding_format': {fmt!r}.", param="encoding_format")
    data = []
    for i, (key, _) in enumerate(inputs):
        vec = embedding_vector(key, dims)
        emb: Any = vec
        if fmt == "base64":
            emb = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode()
        data.append({"object": "embedding", "index": i, "embedding": emb})
    tokens = sum(n for _, n in inputs)
    return {
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


# ---------------------------------------------------------------------------- models


def model_json(model_id: str, owned_by: str = "system") -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": CREATED, "owned_by": owned_by}


def models_json() -> dict[str, Any]:
    return {"object": "list", "data": [model_json(m, o) for m, o in MODELS]}
