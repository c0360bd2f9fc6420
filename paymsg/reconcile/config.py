"""Reconciliation settings (pydantic): how NPC processing statuses and journal statuses
are compared, and which message types take part.

The PBOC's complete ``PrcSts`` list is not public (reference ``cnaps2.md`` §8.3; several
codes are [NF] or [S1]), so the meaning of each code is data here, not code. Both sides
are reduced to one *status class* before they are compared:

* an NPC code is looked up in :attr:`ReconcileConfig.npc_classes` (unknown codes are
  their own class: ``PR77`` compares equal only to ``PR77``);
* a journal entry's class comes from :attr:`ReconcileConfig.journal_classes` by
  (direction, journal status). An inbound entry that carries its own ``PrcSts`` (an NPC
  ``NPCPrcInf`` in a forwarded package) takes the class of that code instead.
  Journal statuses mapped to ``None`` never reached the NPC (``created``, ``refused``,
  ``unreadable``) and are left out of the comparison.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from paymsg.errors import ConfigError

__all__ = ["DEFAULT_EXCLUDED_MTS", "ReconcileConfig", "load_config"]

#: messages that are not business traffic the NPC counts: link and communication
#: answers, and reconciliation itself ([INF]: the NPC's counting rules are [NF])
DEFAULT_EXCLUDED_MTS: tuple[str, ...] = (
    "ccms.990.001.02",
    "ccms.991.001.01",
    "ccms.992.001.01",
    "ccms.911.001.02",
    "ccms.900.001.02",
    "saps.604.001.01",
    *(f"hvps.{n}.001.01" for n in range(710, 719)),
    *(f"beps.{n}.001.01" for n in range(720, 727)),
)


class ReconcileConfig(BaseModel):
    """How the two sides are compared (``--config FILE``: a TOML file of these keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: NPC PrcSts → status class. PR02 已付款, PR03 已轧差, PR04 已清算, PR05 已成功 are
    #: final successes; PR08 已撤销, PR09 已拒绝, PR21 已止付, PR22 已冲正, PR32 已超期 mean
    #: the money did not move; PR11/PR12 (queued), PR00 and PR07 ([NF] names, seen as
    #: "received/processed") are still pending.
    npc_classes: dict[str, str] = Field(
        default_factory=lambda: {
            "PR02": "settled",
            "PR03": "settled",
            "PR04": "settled",
            "PR05": "settled",
            "PR08": "failed",
            "PR09": "failed",
            "PR21": "failed",
            "PR22": "failed",
            "PR32": "failed",
            "PR00": "pending",
            "PR07": "pending",
            "PR11": "pending",
            "PR12": "pending",
        }
    )
    #: journal (direction, status) → status class; None: never reached the NPC, left out
    journal_classes: dict[str, dict[str, str | None]] = Field(
        default_factory=lambda: {
            "out": {
                "created": None,
                "refused": None,
                "sent": "pending",
                "timed_out": "pending",
                "confirmed": "pending",
                "receipt": "settled",
                "settled": "settled",
                "rejected": "failed",
            },
            "in": {
                # the NPC forwards a payment to its receiver once it is settled [INF]
                "received": "settled",
                "delivered": "settled",
                "quarantined": "settled",
                "unreadable": None,
            },
        }
    )
    #: message types left out on both sides
    excluded_mts: tuple[str, ...] = DEFAULT_EXCLUDED_MTS
    #: list a message received more than once (same sender and MesgID: the journal kept
    #: one copy) in the result's ``notices``, so a clerk sees the NPC resent it
    flag_duplicate_copies: bool = True
    #: break ages (days since the check date) are bucketed at these upper bounds
    age_buckets: tuple[tuple[str, int | None], ...] = (
        ("0-1", 1),
        ("2-7", 7),
        ("8-30", 30),
        (">30", None),
    )

    def npc_class(self, prc_sts: str) -> str:
        return self.npc_classes.get(prc_sts, prc_sts)

    def age_bucket(self, days: int) -> str:
        for name, upper in self.age_buckets:
            if upper is None or days <= upper:
                return name
        return self.age_buckets[-1][0]


def load_config(path: str | Path | None) -> ReconcileConfig:
    """The settings of a TOML file (every key optional), or the defaults for None."""
    if path is None:
        return ReconcileConfig()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read the reconcile settings: {exc.strerror}", source=str(path)
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=str(path)) from exc
    try:
        return ReconcileConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {first['msg']}", source=str(path), field=where) from exc
