"""Dialects: the API formats callers speak. Each decodes into the canonical model and back."""
