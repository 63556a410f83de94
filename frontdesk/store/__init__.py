"""The one owner of how data changes: the write transaction (context), change tracking and the
sync outbox (tracking, outbox), change notices (changes), number series (numbering) and the
bulk raw-SQLite writer (bulk). Below the services; no Qt."""
