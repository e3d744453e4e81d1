"""Ollama's native API (``/api/chat`` with NDJSON streaming, ``/api/embed``), kind ``ollama_native``.

The catalog's ``ollama`` row reaches Ollama's OpenAI-compatible ``/v1`` endpoints instead; the
native API adds what ``/v1`` lacks: ``think`` (reasoning on/off and the model's thinking
text), ``keep_alive``, ``num_ctx`` and other runtime ``options``.
"""
