"""Anthropic Messages API: translation to and from the canonical model, and the passthrough lane."""
