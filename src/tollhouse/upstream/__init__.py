"""The only network I/O to providers: pooled aiohttp sessions and one attempt."""
