"""The response cache: exact-match answers by canonical request and tenant (memory, SQLite, Redis)."""
