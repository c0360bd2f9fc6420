"""Reconciliation (对账) with the NPC and with statements.

* :func:`read_npc` reads saved NPC answers (hvps.711/713/716, beps.721/723/726), merging
  partitioned parts and reporting missing ones;
* :func:`reconcile_day` compares them with the journal in SQL and keeps the breaks in the
  journal database (:func:`list_breaks`, :func:`accept_break`);
* :mod:`paymsg.reconcile.statement` matches camt.053/054 entries against the journal or a
  ledger;
* :mod:`paymsg.reconcile.report` renders JSON, CSV and a self-contained HTML page.

``docs/reconcile.md`` describes the rules, tables and settings.
"""

from paymsg.reconcile.config import ReconcileConfig, load_config
from paymsg.reconcile.engine import accept_break, list_breaks, reconcile_day
from paymsg.reconcile.npc import NpcDay, read_npc, read_npc_texts
from paymsg.reconcile.records import (
    BREAK_KINDS,
    BREAK_STATUSES,
    Break,
    CellResult,
    Notice,
    RunResult,
)

__all__ = [
    "BREAK_KINDS",
    "BREAK_STATUSES",
    "Break",
    "CellResult",
    "Notice",
    "NpcDay",
    "ReconcileConfig",
    "RunResult",
    "accept_break",
    "list_breaks",
    "load_config",
    "read_npc",
    "read_npc_texts",
    "reconcile_day",
]
