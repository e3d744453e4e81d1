"""Fakes for the network boundaries Tollhouse talks to (used by integration tests)."""

from .openai_upstream import FakeOpenAI, RecordedRequest

__all__ = ["FakeOpenAI", "RecordedRequest"]
