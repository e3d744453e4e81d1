"""The ASGI edge: a small raw-ASGI app, thin endpoints, SSE and error responses."""
