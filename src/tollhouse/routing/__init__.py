"""Routing and reliability: an alias's targets, strategies, ``fallback(retry(attempt))``, circuits."""
