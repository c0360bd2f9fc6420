"""The router: one decision per payment from a compiled rule set and the facts.

The router holds a reference to an immutable :class:`CompiledRuleSet`; :meth:`Router.swap`
replaces it in one assignment. A decision reads the reference once at its start, so a
reload never changes the rules under a decision in flight, and every decision records the
rule-set version it used.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from paymsg.routing.facts import Exposure, Facts
from paymsg.routing.model import ChannelVerdict, Decision, Instruction, make_decision, make_verdict
from paymsg.routing.rules import CompiledRuleSet, Rule

__all__ = ["MESSAGE_TYPES", "Router", "split_bucket"]

#: (channel, kind) → the message built for it
MESSAGE_TYPES: dict[tuple[str, str], str | None] = {
    ("HVPS", "customer"): "hvps.111.001.01",
    ("HVPS", "institution"): "hvps.112.001.01",
    ("BEPS", "customer"): "beps.121.001.01",
    ("BEPS", "institution"): "beps.122.001.01",
    ("XBORDER", "customer"): "pacs.008.001.08",
    ("XBORDER", "institution"): "pacs.009.001.08",
    ("BOOK", "customer"): None,
    ("BOOK", "institution"): None,
}


def split_bucket(payment_id: str, rule: str) -> int:
    """0–99, the same for the same payment and rule on every run and machine."""
    digest = hashlib.blake2b(f"{rule}\x00{payment_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100


def _order(rule: Rule, payment_id: str) -> tuple[str, ...]:
    action = rule.then
    if not action.split:
        return action.channels
    bucket = split_bucket(payment_id, rule.name)
    total = 0
    chosen = action.channels[0]
    for channel in action.channels:
        total += action.split.get(channel, 0)
        if bucket < total:
            chosen = channel
            break
    return (chosen, *(c for c in action.channels if c != chosen))


class Router:
    """Decides payments. Thread-safe: it holds no per-call state."""

    def __init__(self, rules: CompiledRuleSet, facts: Facts) -> None:
        self._rules = rules
        self.facts = facts

    @property
    def rules(self) -> CompiledRuleSet:
        return self._rules

    def swap(self, rules: CompiledRuleSet) -> CompiledRuleSet:
        """Activate ``rules``; decisions already running finish on the old set."""
        old, self._rules = self._rules, rules
        return old

    def reload(self, store: Any) -> bool:
        """Swap in the store's active rule set when its version differs from ours
        (decisions in flight finish on the old one); True when it changed."""
        version = store.active_version()
        if version is None or version == self._rules.version:
            return False
        active = store.active()
        if active is None:
            return False
        self.swap(active)
        return True

    def features(self, ins: Instruction, moment: datetime) -> dict[str, Any]:
        facts = self.facts
        return {
            "amount": ins.amount,
            "currency": ins.currency,
            "urgency": ins.urgency,
            "purpose": ins.purpose,
            "business_type": ins.business_type,
            "creditor": facts.creditor_kind(ins.creditor_bank),
            "creditor_bank": ins.creditor_bank,
            "counterparty_status": facts.status(ins.creditor_bank),
            "minute": moment.hour * 60 + moment.minute,
            "business_day": facts.calendar.is_workday(moment.date()),
        }

    def decide(
        self,
        ins: Instruction,
        now: datetime,
        *,
        explain: bool = False,
        exposure: Exposure | None = None,
    ) -> Decision:
        rules = self._rules  # one read: a swap during this decision does not affect it
        facts = self.facts
        moment = (
            ins.requested_at if ins.requested_at is not None and ins.requested_at > now else now
        )
        bank = ins.creditor_bank
        kind = facts.creditor_kind(bank)
        status = facts.status(bank)
        minute = moment.hour * 60 + moment.minute
        workday = facts.calendar.is_workday(moment.date())
        refused_rules: list[str] = []
        if explain:
            f = self.features(ins, moment)
            index, refused_rules = rules.explain(f)
        else:
            index = rules.match(
                ins.amount, ins.currency, ins.urgency, ins.purpose, ins.business_type,
                kind, bank, status, minute, workday,
            )  # fmt: skip
        row = facts.directory.get(ins.creditor_bank)
        receiver = row.direct if row is not None else None
        common: dict[str, Any] = {
            "payment_id": ins.id,
            "ruleset_version": rules.version,
            "business_type": ins.business_type,
            "amount": ins.amount,
            "currency": ins.currency,
        }
        if explain:
            common["considered"] = tuple(
                r.name for r in rules.rules[: index + 1 if index >= 0 else None]
            )
            common["refused"] = tuple(refused_rules)
            common["facts"] = self._facts_used(f, ins, moment)
        if index < 0:
            return make_decision(
                channel=None, message_type=None, status="rejected", execute_at=None, rule=None,
                receiver=receiver, reason="no rule matches this payment", **common,
            )  # fmt: skip
        rule = rules.rules[index]
        if rule.then.reject is not None:
            return make_decision(
                channel=None, message_type=None, status="rejected", execute_at=None, rule=rule.name,
                receiver=receiver, reason=f"rule {rule.name}: {rule.then.reject}", **common,
            )  # fmt: skip
        order = _order(rule, ins.id)
        if rule.then.fallback is not None:
            order = (*order, rule.then.fallback)
        verdicts: list[ChannelVerdict] = []
        chosen: ChannelVerdict | None = None
        closed: ChannelVerdict | None = None
        for channel in order:
            v = facts.verdict(channel, ins, moment, exposure)
            verdicts.append(v)
            if v.verdict == "ok":
                chosen = v
                if not explain:
                    break
                # with an explanation, say what the later channels would have said too
                rest = order[order.index(channel) + 1 :]
                verdicts.extend(
                    make_verdict(channel=c, verdict="ok", reason="not needed", opens_at=None)
                    for c in rest
                )
                break
            if v.verdict == "closed" and closed is None:
                closed = v
        if explain:
            common["verdicts"] = tuple(verdicts)
        if chosen is None and closed is not None:
            chosen = closed
        if chosen is None:
            reason = "; ".join(f"{v.channel} refused: {v.reason}" for v in verdicts)
            return make_decision(
                channel=None, message_type=None, status="rejected", execute_at=None,
                rule=rule.name, receiver=receiver, reason=reason, **common,
            )  # fmt: skip
        channel = chosen.channel
        # closed now, or asked for later (requested_at): it waits for execute_at
        queued = chosen.verdict == "closed" or moment > now
        decision = make_decision(
            channel=channel,
            message_type=MESSAGE_TYPES[(channel, ins.kind)],
            status="queued" if queued else "now",
            execute_at=chosen.opens_at if chosen.verdict == "closed" else moment,
            rule=rule.name,
            receiver=receiver if channel in ("HVPS", "BEPS") else None,
            reason=chosen.reason if queued else "",
            **common,
        )
        if exposure is not None:
            exposure.count(decision)
        return decision

    def _facts_used(self, f: dict[str, Any], ins: Instruction, moment: datetime) -> dict[str, str]:
        facts = self.facts
        out = {
            "time": f"{moment:%Y-%m-%d %H:%M} (Beijing)",
            "business_day": "yes" if f["business_day"] else "no (PRC calendar)",
            "creditor": f"{f['creditor']} ({ins.creditor_bank})",
            "counterparty_status": f["counterparty_status"],
            "beps_single_item_limit": f"{facts.beps_limit:,.2f}",
            "hvps_window": f"{facts.config.hvps.open} (previous day) – {facts.config.hvps.close}",
            "hvps_open_now": "yes" if facts.hvps_is_open(moment) else "no",
        }
        if facts.business_date is not None:
            out["npc_business_date"] = facts.business_date.isoformat()
        row = facts.directory.get(ins.creditor_bank)
        if row is not None:
            out["creditor_participant"] = f"{row.direct} {row.name} ({'|'.join(row.channels)})"
        return out
