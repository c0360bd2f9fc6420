"""Versioned migrations: a new database gets head, an old one is upgraded with its rows,
the migrations build exactly the tables the code uses, and openers do not race."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from paymsg.errors import JournalError
from paymsg.journal import Journal, migrate, schema_head
from paymsg.journal.store import normalize_url
from paymsg.journal.tables import metadata
from tests.journal.conftest import ROOT, hvps111


def test_new_database_is_at_head(journal: Journal) -> None:
    assert journal.revision == schema_head() == migrate.revisions()[-1]
    assert migrate.revisions()[0] == "0001"
    with journal.engine.connect() as connection:
        assert migrate.current(connection) == schema_head()


def test_migrations_build_exactly_the_tables_in_use(journal: Journal) -> None:
    with journal.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": "journal_alembic_version"}
        )
        assert compare_metadata(context, metadata) == []


def test_old_database_is_upgraded_with_its_rows(journal_url: str) -> None:
    engine = sa.create_engine(normalize_url(journal_url))
    try:
        assert migrate.upgrade(engine, "0001") == "0001"
        now = datetime.now(UTC).replace(tzinfo=None)
        with engine.begin() as connection:  # a row written by a paymsg of revision 0001
            connection.execute(
                sa.text(
                    "INSERT INTO journal_entries (direction, queue, sender, mesg_id, mt, status,"
                    " repaired, copies, resent, deliverable, attempts, digest, created_at,"
                    " updated_at, raw) VALUES ('in', 'IN', '102100099996', 'M1', 'hvps.111.001.01',"
                    " 'received', false, 1, 0, true, 0, 'x', :now, :now, :raw)"
                ),
                {"now": now, "raw": b"old text"},
            )
            assert "journal_quarantine" not in sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()

    with pytest.raises(
        JournalError, match="is at schema revision 0001, this paymsg needs 0002"
    ) as old_error:
        Journal(journal_url, create=False)
    assert "paymsg journal upgrade" in str(old_error.value)
    with Journal(journal_url) as journal:
        assert journal.revision == schema_head()
        (old,) = journal.query()
        assert (old.mesg_id, old.raw, old.status) == ("M1", b"old text", "received")
        qid = journal.quarantine(queue="IN", body=old.raw, reason="poison", entry_id=old.id)
        assert journal.quarantined()[0].id == qid
    with Journal(journal_url, create=False) as again:
        assert again.revision == schema_head()


def test_create_false_on_an_empty_database(journal_url: str) -> None:
    with pytest.raises(JournalError, match=r"revision \(none\)|there is no database file"):
        Journal(journal_url, create=False)
    if journal_url.startswith("sqlite:///"):  # nothing was created on the way
        assert not Path(journal_url.removeprefix("sqlite:///")).exists()


CHILD = """
import sys
sys.path.insert(0, {root!r})
from paymsg.journal import Journal
with Journal(sys.argv[1]) as journal:
    print(journal.revision)
"""


def test_concurrent_openers_do_not_race(journal_url: str) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD.format(root=str(ROOT)), journal_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    revisions: list[str] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            with Journal(journal_url) as journal:
                revisions.append(journal.revision)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        revisions.append(out.strip())
    assert errors == []
    assert revisions == [schema_head()] * 6
    with Journal(journal_url) as journal:
        with journal.engine.connect() as connection:
            versions = connection.execute(
                sa.text("SELECT version_num FROM journal_alembic_version")
            ).all()
        assert [v[0] for v in versions] == [schema_head()]
        assert journal.record_inbound(hvps111(1), queue="IN")[1]
