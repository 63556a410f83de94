"""The desk file's migration head, where a start without SQLAlchemy can read it (the diary's
first paint reads a file at this revision with plain ``sqlite3``; ``db/migrate.py`` upgrades
to it)."""

EXPECTED_HEAD = "0400_blobkeys"
