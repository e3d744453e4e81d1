"""Metrics and logs: cheap on the hot path, never carrying a secret."""
