"""Use cases of the clinic (book, move, invoice, pay, search, report, back up). No Qt.

Every write runs through ``ServiceContext.write()``: one transaction that also records the sync
outbox rows and hash-chained audit events, and announces a ChangeNotice after commit.
"""
