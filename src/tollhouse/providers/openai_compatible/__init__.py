"""OpenAI and every OpenAI-compatible server: one translator, catalog rows for the differences."""
