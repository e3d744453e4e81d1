"""The guardrail evaluation set and scripts (see eval/SOURCES.md and docs/guardrails.md)."""
