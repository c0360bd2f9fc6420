"""Routing's own tables in the journal database (SQLAlchemy Core).

* ``routing_rulesets``: every rule set version ever stored (its TOML text, digest, when it
  was stored and activated); at most one is active. Activation runs the checks first and
  flips the active flag in one transaction.
* ``routing_participants``: the participant directory, replaced whole by a load (one
  transaction).
* ``routing_beps_packages`` / ``routing_beps_items``: BEPS batching
  (:mod:`paymsg.routing.batching`).

The tables are created when missing (``checkfirst``); they live beside the journal's
tables and use the journal's engine through its public ``engine`` property.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from paymsg.errors import ConfigError
from paymsg.routing.facts import Participant
from paymsg.routing.model import Decision
from paymsg.routing.rules import CompiledRuleSet, check, compile_rules, parse_rules

__all__ = ["RoutingStore", "metadata"]

metadata = sa.MetaData()

rulesets = sa.Table(
    "routing_rulesets",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("digest", sa.String(32), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("stored_at", sa.DateTime, nullable=False),
    sa.Column("activated_at", sa.DateTime),
    sa.Column("active", sa.Boolean, nullable=False, default=False),
)

participants = sa.Table(
    "routing_participants",
    metadata,
    sa.Column("bank_code", sa.String(12), primary_key=True),
    sa.Column("direct", sa.String(12), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("channels", sa.String(32), nullable=False),
)

packages = sa.Table(
    "routing_beps_packages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("receiver", sa.String(12), nullable=False),
    sa.Column("business_type", sa.String(4), nullable=False),
    sa.Column("message_type", sa.String(20), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # open / closed / sent
    # "receiver|业务类型|message type" while open, NULL once closed: one open package per key
    sa.Column("open_key", sa.String(64), unique=True),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("total", sa.String(24), nullable=False),  # Decimal as text: no float on the way
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime),
    sa.Column("close_reason", sa.String(40)),
    sa.Column("text", sa.LargeBinary),
)
sa.Index("ix_routing_pkg_status", packages.c.status)

items = sa.Table(
    "routing_beps_items",
    metadata,
    sa.Column("payment_id", sa.String(35), primary_key=True),
    sa.Column("package_id", sa.Integer, sa.ForeignKey("routing_beps_packages.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("amount", sa.String(24), nullable=False),
    sa.Column("instruction", sa.Text, nullable=False),
)
sa.Index("ix_routing_items_pkg", items.c.package_id, items.c.seq)


decisions = sa.Table(
    "routing_decisions",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("payment_id", sa.String(35), nullable=False, unique=True),
    sa.Column("channel", sa.String(8)),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("message_type", sa.String(20)),
    sa.Column("rule", sa.String(64)),
    sa.Column("ruleset_version", sa.Integer),
    sa.Column("decided_at", sa.DateTime, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class RoutingStore:
    """Rule-set versions and the participant directory in the journal database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        metadata.create_all(engine, checkfirst=True)

    # -- rule sets ---------------------------------------------------------------------
    def store(self, text: str, source: str = "<rules>", *, fmt: str = "toml") -> int:
        """Store a rule set as a new version (not active); returns the version."""
        ruleset = parse_rules(text, source, fmt=fmt)
        digest = compile_rules(ruleset, checked=False).digest
        with self.engine.begin() as conn:
            result = conn.execute(
                rulesets.insert().values(
                    name=ruleset.name, digest=digest, text=text, stored_at=_now(), active=False
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def find(self, text: str) -> int | None:
        """The newest stored version whose text is exactly ``text``, or None (a re-run of
        a day uses the version it stored before instead of storing a copy)."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.max(rulesets.c.version)).where(rulesets.c.text == text)
            ).scalar()

    def activate(self, version: int) -> CompiledRuleSet:
        """Check version ``version`` and make it the active one (refused with every
        problem named when a check fails)."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(rulesets).where(rulesets.c.version == version)).first()
            if row is None:
                raise ConfigError(f"no rule set version {version}", field="version")
            compiled = compile_rules(parse_rules(row.text, f"rule set v{version}"), version=version)
            conn.execute(rulesets.update().where(rulesets.c.active.is_(True)).values(active=False))
            conn.execute(
                rulesets.update()
                .where(rulesets.c.version == version)
                .values(active=True, activated_at=_now())
            )
        return compiled

    def active(self) -> CompiledRuleSet | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(rulesets).where(rulesets.c.active.is_(True))).first()
        if row is None:
            return None
        return compile_rules(parse_rules(row.text, f"rule set v{row.version}"), version=row.version)

    def active_version(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(rulesets.c.version).where(rulesets.c.active.is_(True))
            ).scalar()

    def versions(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(rulesets).order_by(rulesets.c.version)).all()
        out = []
        for row in rows:
            problems = check(parse_rules(row.text, f"v{row.version}")).problems()
            out.append(
                {
                    "version": row.version,
                    "name": row.name,
                    "digest": row.digest,
                    "stored_at": row.stored_at.isoformat(timespec="seconds"),
                    "activated_at": row.activated_at.isoformat(timespec="seconds")
                    if row.activated_at
                    else None,
                    "active": bool(row.active),
                    "problems": len(problems),
                }
            )
        return out

    # -- decisions ---------------------------------------------------------------------
    def record_decision(self, decision: Decision, at: datetime) -> int:
        """Keep ``decision`` (once per payment id: a second call returns the first one's
        sequence number without changing it); the number is unique in this database and
        gives the message ids built from it."""
        with self.engine.begin() as conn:
            seq = conn.execute(
                sa.select(decisions.c.seq).where(decisions.c.payment_id == decision.payment_id)
            ).scalar()
            if seq is not None:
                return int(seq)
            result = conn.execute(
                decisions.insert().values(
                    payment_id=decision.payment_id,
                    channel=decision.channel,
                    status=decision.status,
                    message_type=decision.message_type,
                    rule=decision.rule,
                    ruleset_version=decision.ruleset_version,
                    decided_at=at,
                    decision=decision.model_dump_json(),
                )
            )
            assert result.inserted_primary_key is not None
            return int(result.inserted_primary_key[0])

    def record_decisions(self, made: list[Decision], at: datetime) -> dict[str, int]:
        """:meth:`record_decision` for many decisions in one transaction; returns each
        payment id's sequence number (the first decision's, for a payment seen before)."""
        ids = [d.payment_id for d in made]
        with self.engine.begin() as conn:
            known: dict[str, int] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for pid, seq in conn.execute(
                    sa.select(decisions.c.payment_id, decisions.c.seq).where(
                        decisions.c.payment_id.in_(chunk)
                    )
                ):
                    known[pid] = int(seq)
            new = [
                {
                    "payment_id": d.payment_id,
                    "channel": d.channel,
                    "status": d.status,
                    "message_type": d.message_type,
                    "rule": d.rule,
                    "ruleset_version": d.ruleset_version,
                    "decided_at": at,
                    "decision": d.model_dump_json(),
                }
                for d in made
                if d.payment_id not in known
            ]
            if new:
                conn.execute(decisions.insert(), new)
                fresh = [str(row["payment_id"]) for row in new]
                for start in range(0, len(fresh), 500):
                    chunk = fresh[start : start + 500]
                    for pid, seq in conn.execute(
                        sa.select(decisions.c.payment_id, decisions.c.seq).where(
                            decisions.c.payment_id.in_(chunk)
                        )
                    ):
                        known[pid] = int(seq)
        return known

    def decided(self, payment_ids: Sequence[str]) -> dict[str, Decision]:
        """The decisions kept for those of ``payment_ids`` that were decided before."""
        out: dict[str, Decision] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(payment_ids), 500):
                chunk = list(payment_ids[start : start + 500])
                for pid, text in conn.execute(
                    sa.select(decisions.c.payment_id, decisions.c.decision).where(
                        decisions.c.payment_id.in_(chunk)
                    )
                ):
                    out[str(pid)] = Decision.model_validate_json(text)
        return out

    # -- directory ---------------------------------------------------------------------
    def load_directory(self, rows: list[Participant]) -> int:
        with self.engine.begin() as conn:
            conn.execute(participants.delete())
            if rows:
                conn.execute(
                    participants.insert(),
                    [
                        {
                            "bank_code": p.bank_code,
                            "direct": p.direct,
                            "name": p.name,
                            "city": p.city,
                            "status": p.status,
                            "channels": "|".join(p.channels),
                        }
                        for p in rows
                    ],
                )
        return len(rows)

    def directory(self) -> list[Participant]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(participants).order_by(participants.c.bank_code)).all()
        return [
            Participant(
                bank_code=r.bank_code,
                direct=r.direct,
                name=r.name,
                city=r.city,
                status=r.status,
                channels=r.channels,
            )
            for r in rows
        ]
