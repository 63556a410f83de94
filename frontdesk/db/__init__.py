"""The local database: engine with safe pragmas, column types, migrations and backups."""
