"""Checkpoint policies, one per file: a typed config plus a class with the hooks it needs."""
