"""Built-in detectors: each a small class with ``detect(text, scope, state) -> findings``."""
