"""A real image for vision tests: a one-pixel PNG, as bytes, base64 and a ``data:`` URL."""

from __future__ import annotations

import base64

PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PNG = base64.b64decode(PNG_BASE64)
PNG_DATA_URL = f"data:image/png;base64,{PNG_BASE64}"
