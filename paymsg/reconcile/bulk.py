"""Bulk loading for reconciliation: the driver's own ``executemany`` on plain tuples.

SQLAlchemy's ``insert(table), [dicts]`` builds and type-processes a parameter set per
row; for the hundreds of thousands of rows of an NPC detail answer or a statement that
costs more than the database's own work. Here the caller hands over tuples already in
their stored form (amounts as integer units, see :func:`fen`), and they go to the driver
``chunk`` rows at a time, so memory stays flat whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from paymsg.errors import InputError
from paymsg.journal.driver import driver_sql
from paymsg.journal.tables import AMOUNT_SCALE, fits_amount

__all__ = ["fen", "insert_tuples"]


def insert_tuples(
    conn: sa.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    chunk: int = 50_000,
) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``table``; returns how
    many rows were inserted."""
    quote = conn.dialect.identifier_preparer.quote
    statement = driver_sql(
        conn.dialect,
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({', '.join(['?'] * len(columns))})",
    )
    batch: list[tuple[Any, ...]] = []
    count = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            conn.exec_driver_sql(statement, batch)
            count += len(batch)
            batch = []
    if batch:
        conn.exec_driver_sql(statement, batch)
        count += len(batch)
    return count


def fen(amount: Decimal | None, *, what: str, source: str | None = None) -> int | None:
    """An amount as the journal stores it (:class:`~paymsg.journal.tables.ExactAmount`: an
    integer count of fen); an amount that cannot be stored exactly is refused, never
    rounded."""
    if amount is None:
        return None
    if not isinstance(amount, Decimal) or not fits_amount(amount):
        raise InputError(
            f"{what}: amount {amount} cannot be stored exactly (2 decimals, at most ±9.2e16)",
            source=source,
        )
    return int(amount.scaleb(AMOUNT_SCALE))
