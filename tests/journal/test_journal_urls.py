"""Opening a journal: URLs, options and the errors for bad ones (no password is shown)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from paymsg.errors import ConfigError, JournalError
from paymsg.journal import Journal, normalize_url


def test_normalize_url() -> None:
    assert normalize_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:secret@h/db", "unsupported database 'mysql'"),
        ("sqlite://", "in-memory SQLite journal would not be durable"),
        ("sqlite:///:memory:", "in-memory SQLite journal would not be durable"),
        ("sqlite:////no/such/dir/j.db", "directory /no/such/dir does not exist"),
        ("not a url", "is not a database URL"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        Journal(url)
    assert "secret" not in str(caught.value)
    assert caught.value.exit_code == 3


def test_sqlite_options(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="synchronous='off'; use full or normal"):
        Journal(f"sqlite:///{tmp_path / 'j.db'}?synchronous=off")
    with pytest.raises(ConfigError, match="unknown option"):
        Journal(f"sqlite:///{tmp_path / 'j.db'}?cache=shared")
    with pytest.raises(ConfigError, match="busy_timeout is not a number"):
        Journal(f"sqlite:///{tmp_path / 'j.db'}?busy_timeout=soon")


@pytest.mark.parametrize(("option", "expected"), [("", 2), ("?synchronous=normal", 1)])
def test_sqlite_durability_settings(tmp_path: Path, option: str, expected: int) -> None:
    with Journal(f"sqlite:///{tmp_path / 'j.db'}{option}") as journal:
        with journal.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == expected  # 2 FULL, 1 NORMAL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 30000
        assert journal.dialect == "sqlite"


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    with Journal(f"sqlite:///{tmp_path / 'j.db'}") as journal:
        with pytest.raises(JournalError, match="no journal entry with id 12345"):
            journal.quarantine(queue="IN", body=b"x", reason="r", entry_id=12345)
        with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):  # noqa: SIM117
            with journal.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO journal_quarantine (queue, body, reason, entry_id, created_at)"
                        " VALUES ('q', x'00', 'r', 12345, '2024-01-01 00:00:00')"
                    )
                )
        assert journal.quarantined() == []


def test_unreachable_postgres_is_a_journal_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(JournalError, match="cannot open the journal") as caught:
        Journal("postgresql://user:secret@127.0.0.1:1/nowhere?connect_timeout=2")
    assert "secret" not in str(caught.value) and "***" in str(caught.value)
    assert caught.value.exit_code == 3


def test_import_paymsg_does_not_import_sqlalchemy() -> None:
    import subprocess
    import sys

    code = "import sys, paymsg; print('sqlalchemy' in sys.modules, 'paymsg.journal' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
