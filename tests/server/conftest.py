"""Server tests reuse the sync fixtures: SQLite and PostgreSQL servers, in-memory keychain."""

from tests.sync.conftest import any_clinic, clinic, memory_keyring, pg_cluster, server_url

__all__ = ["any_clinic", "clinic", "memory_keyring", "pg_cluster", "server_url"]
