"""Journal fixtures: every test runs on SQLite and on PostgreSQL, each on a fresh database.

PostgreSQL comes from ``PAYMSG_TEST_POSTGRES_URL`` (``.ci/with-servers`` starts a server on
loopback and exports it). Without it the PostgreSQL cases are skipped locally and fail
when ``CI`` is set: in CI nothing may be skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from paymsg.journal import Journal

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "cnaps2"
POSTGRES_ENV = "PAYMSG_TEST_POSTGRES_URL"


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: PostgreSQL tests must run in CI")
        pytest.skip(f"{POSTGRES_ENV} is not set (run the tests under .ci/with-servers)")
    return url


def _admin(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema (dropped afterwards)."""
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with _admin(base) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    with _admin(base) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a fresh, empty database: an SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journal.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def journal(journal_url: str) -> Iterator[Journal]:
    with Journal(journal_url) as opened:
        yield opened


def example(relative: str) -> bytes:
    return (EXAMPLES / relative).read_bytes()


def with_header(text: bytes, *, mesg_id: str, sender: str | None = None) -> bytes:
    """``text`` with another header MesgID (and sender): the same message sent again anew."""
    header = text[:130].decode("ascii")
    header = header[:78] + mesg_id.ljust(20) + header[98:]
    if sender is not None:
        header = header[:5] + sender.ljust(14) + header[19:]
    return header.encode("ascii") + text[130:]


def hvps111(
    n: int,
    *,
    amount: str = "1280000.00",
    tx_type: str = "A100",
    day: str = "20240315",
    sender: str = "102100099996",
) -> bytes:
    """A distinct hvps.111 text number ``n``: its own MesgID and MsgId, the given amount,
    业务类型, work date (MsgId date) and sender."""
    text = example("hvps.111.001.01/customer-transfer-urgent.txt")
    text = with_header(text, mesg_id=f"{day}{n:012d}", sender=sender)
    body = text[130:].decode("utf-8")
    body = body.replace("2024031500001037", f"{day}{n:08d}")
    body = body.replace(">1280000.00<", f">{amount}<").replace(">A100<", f">{tx_type}<")
    return text[:130] + body.encode("utf-8")
