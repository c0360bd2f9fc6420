"""Alembic environment of reconciliation's tables: always runs on a connection given by
:func:`paymsg.reconcile.store.upgrade` (one exclusive transaction)."""

from __future__ import annotations

from alembic import context

from paymsg.reconcile.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running alembic by hand
    raise RuntimeError("run the reconcile migrations through paymsg.reconcile.store.upgrade")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table="reconcile_alembic_version",
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
