"""Driver-level SQL: statements run as the database driver's own ``execute`` /
``executemany``, without SQLAlchemy's per-row parameter processing.

Bulk and hot paths (the journal's inbox/outbox writes and status history, the simulator's
books, reconciliation's bulk loads) hand the driver parameters already in their stored
form. This module is the one way to do that:

* :func:`driver_sql` turns SQL text written with ``?`` marks into the driver's parameter
  style (``?`` for sqlite3, ``%s`` for psycopg);
* :func:`bind_conversion` is what SQLAlchemy itself does to a value of a column type
  before the driver gets it (SQLite's text forms of timestamps and dates), for callers
  that convert once per batch;
* :class:`DriverStatement` compiles a SQLAlchemy statement once per dialect and runs it
  with rows of named values;
* :class:`DriverCursor` runs statements on the driver's own cursor of a connection, for a
  statement run once per row of a batch (a savepoint, a conditional update), where
  SQLAlchemy's work per execution (an execution context, a result's column metadata)
  costs many times what the database does.

Caches are keyed by the dialect and hold no per-call state (safe across threads).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

__all__ = [
    "DriverCursor",
    "DriverStatement",
    "bind_conversion",
    "dialect_key",
    "driver_sql",
    "parameter_mark",
]

#: SQL text by (database, driver, parameter style, text written with ``?``)
_SQL: dict[tuple[str, str, str, str], str] = {}


def dialect_key(dialect: sa.Dialect) -> tuple[str, str, str]:
    """(database, driver, parameter style): what a cache of driver-level SQL is keyed by."""
    return (dialect.name, dialect.driver, str(dialect.paramstyle))


def parameter_mark(dialect: sa.Dialect) -> str:
    """The positional parameter mark of ``dialect``'s driver."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def driver_sql(dialect: sa.Dialect, text: str) -> str:
    """``text`` (written with ``?`` parameters and no other ``?``) in the parameter style
    of ``dialect``'s driver."""
    key = (*dialect_key(dialect), text)
    found = _SQL.get(key)
    if found is None:
        mark = parameter_mark(dialect)
        found = _SQL.setdefault(key, text if mark == "?" else text.replace("?", mark))
    return found


def bind_conversion(type_: Any, dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of ``type_`` before ``dialect``'s driver gets it
    (the dialect's own implementation of the type: on SQLite, timestamps and dates become
    its text forms); None when the value goes as it is."""
    convert: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return convert


class DriverStatement:
    """A SQLAlchemy statement compiled once per dialect and run with the driver's own
    ``executemany``: rows of named parameters go to the database as the driver takes them
    (the values must be in their stored form already: str, int, float, bytes or None)."""

    def __init__(self, statement: Any, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = None if column_keys is None else list(column_keys)
        #: per database and driver: the SQL, the parameter names in order (None: named),
        #: and the values the statement holds itself (``direction == "out"`` …)
        self.compiled: dict[
            tuple[str, str, str], tuple[str, tuple[str, ...] | None, dict[str, Any]]
        ] = {}

    def run(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        dialect = conn.dialect
        key = dialect_key(dialect)  # two drivers of one database differ in parameter style
        try:
            sql, order, fixed = self.compiled[key]
        except KeyError:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            named = compiled.params  # the parameters by the names the SQL uses
            fixed = {
                name: bind.value
                for name, bind in compiled.binds.items()
                if name in named and not bind.required
            }
            sql, order, fixed = self.compiled.setdefault(key, (compiled.string, order, fixed))
        if fixed:
            rows = [fixed | row for row in rows]
        if order is None:  # named parameters (psycopg): the rows as they are
            conn.exec_driver_sql(sql, rows)
        else:
            values = operator.itemgetter(*order)
            if len(order) == 1:
                conn.exec_driver_sql(sql, [(values(row),) for row in rows])
            else:
                conn.exec_driver_sql(sql, [values(row) for row in rows])


class DriverCursor:
    """The driver's own cursor on ``conn``'s database connection (inside its transaction):
    statements in the driver's parameter style (:func:`driver_sql`), parameters in their
    stored form, rows as the driver gives them (no result conversion). A driver error comes
    as SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError`, as from any other statement. Use
    it for the statements of the caller's own transaction only, and close it before the
    connection goes back to the pool."""

    def __init__(self, conn: sa.Connection) -> None:
        self.dialect = conn.dialect
        driver_connection: Any = conn.connection.driver_connection
        self._cursor = driver_connection.cursor()

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        try:
            self._cursor.execute(sql, parameters)
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._error(sql, parameters, exc) from exc

    def first(self, sql: str, parameters: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row ``sql`` gives, or None."""
        try:
            self._cursor.execute(sql, parameters)
            row: tuple[Any, ...] | None = self._cursor.fetchone()
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._error(sql, parameters, exc) from exc
        return row

    def all(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row ``sql`` gives."""
        try:
            self._cursor.execute(sql, parameters)
            rows: list[tuple[Any, ...]] = self._cursor.fetchall()
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._error(sql, parameters, exc) from exc
        return rows

    def close(self) -> None:
        self._cursor.close()

    def _error(self, sql: str, parameters: Sequence[Any], exc: Exception) -> sa.exc.StatementError:
        return sa.exc.DBAPIError.instance(
            sql, parameters, exc, self.dialect.loaded_dbapi.Error, dialect=self.dialect
        )
