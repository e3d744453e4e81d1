"""Cohere v2: chat (``/v2/chat``, JSON and SSE) and embeddings (``/v2/embed``)."""
