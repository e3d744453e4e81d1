"""Storage: SQLAlchemy Core engines (SQLite WAL by default, PostgreSQL by URL) and migrations.

Repositories live next to the domain that owns them and return the gateway's own types; this
package only knows how to open a database and bring its schema up to date.
"""
