"""Alembic environment of the journal: always runs on a connection given by paymsg.

:func:`paymsg.journal.migrate.upgrade` opens the transaction (``BEGIN IMMEDIATE`` on
SQLite, an advisory lock on PostgreSQL) and passes the connection in
``config.attributes["connection"]``; the migrations run inside that one transaction, so
concurrent openers never race and a failed upgrade leaves the database untouched.
"""

from __future__ import annotations

from alembic import context

from paymsg.journal.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running alembic by hand
    raise RuntimeError("run the journal migrations through paymsg.journal.migrate.upgrade")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=context.config.get_main_option("version_table", "journal_alembic_version"),
    render_as_batch=True,  # SQLite cannot ALTER most things: alembic copies the table
    compare_type=True,
)
with context.begin_transaction():  # a no-op: the caller's transaction is already open
    context.run_migrations()
