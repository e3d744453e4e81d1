"""The tamper-evident audit trail: typed events, hash chains per writer, signed checkpoints,
encrypted per-tenant content, verification, search, and export (see docs/audit.md).

Importing this package loads nothing: the config section lives in ``settings``, the runtime
pieces are built by ``wiring`` only when ``audit.enabled``.
"""
