"""Runtime guardrails: detectors over a ``TextView``, their verdicts, and the streaming window.

Guards are pure: they read text with its scope and return findings; a guardrail policy
(``policies/guardrails.py``) decides where they run and what a verdict does.
"""
