"""Providers: translators and callers for each upstream API, loaded lazily by the registry."""
