"""Identity repositories over SQLAlchemy Core: they take an engine and return ``records`` types."""
