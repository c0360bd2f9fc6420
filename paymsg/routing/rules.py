"""Routing rules as data: the rule-set file, its checks, and the compiled evaluator.

A rule set is TOML (or YAML, when PyYAML is installed)::

    name = "default"
    [[rules]]
    name = "book"                    # unique, names the rule in every message
    priority = 10                    # lower runs first; ties must agree (else: conflict)
    when = { creditor = ["own"] }
    then = { channels = ["BOOK"] }

Conditions (``when``; all given ones must hold, an absent one matches anything):
``amount_min`` / ``amount_max`` (inclusive, Decimal), ``currency``, ``urgency``
(normal/urgent), ``purpose`` (业务种类), ``business_type`` (业务类型), ``creditor``
(own/domestic/foreign), ``creditor_bank``, ``counterparty_status``
(active/suspended/unknown, from the participant directory), ``time_from`` /
``time_to`` (HH:MM Beijing time, half-open, may wrap midnight) and ``business_day``
(true/false, from the calendar). Actions (``then``): ``channels`` (priority list),
``fallback`` (a channel tried when every listed one is refused), ``split`` (volume split:
channel → percent, deterministic by a hash of the payment id) or ``reject`` (a reason).

:func:`check` finds, before activation: **conflicts** (two rules of the same priority
that both match some payment and do different things), **unreachable** rules (impossible
conditions, or every payment they match is taken by earlier rules) and **gaps**
(payments no rule matches). It splits the condition space into cells at every boundary
the rules mention and walks it as a tree, pruning where one rule decides the rest.

:func:`compile_rules` turns a checked rule set into a :class:`CompiledRuleSet`: one
generated Python function, the rules as an if-chain, so a decision costs about what a
hand-written chain does. A compiled rule set is immutable; the router swaps it whole.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from paymsg.errors import ConfigError, RuleSetError
from paymsg.routing.model import Channel

__all__ = [
    "Action",
    "CheckResult",
    "CompiledRuleSet",
    "Condition",
    "Rule",
    "RuleSet",
    "check",
    "compile_rules",
    "load_rules",
    "parse_rules",
]

_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_INF = Decimal("Infinity")


def _minutes(value: str) -> int:
    m = _HHMM.fullmatch(value)
    if not m:
        raise ValueError(f"time {value!r} is not HH:MM")
    return int(m.group(1)) * 60 + int(m.group(2))


class Condition(BaseModel):
    """When a rule applies. Every field left out matches anything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    currency: tuple[str, ...] | None = None
    urgency: tuple[Literal["normal", "urgent"], ...] | None = None
    purpose: tuple[str, ...] | None = None
    business_type: tuple[str, ...] | None = None
    creditor: tuple[Literal["own", "domestic", "foreign"], ...] | None = None
    creditor_bank: tuple[str, ...] | None = None
    counterparty_status: tuple[Literal["active", "suspended", "unknown"], ...] | None = None
    time_from: str | None = None
    time_to: str | None = None
    business_day: bool | None = None

    @field_validator("time_from", "time_to")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None:
            _minutes(value)
        return value

    @model_validator(mode="after")
    def _both_times(self) -> Condition:
        if (self.time_from is None) != (self.time_to is None):
            raise ValueError("time_from and time_to go together")
        return self


class Action(BaseModel):
    """What a rule does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: tuple[Channel, ...] = ()
    fallback: Channel | None = None
    split: dict[Channel, int] | None = None
    reject: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Action:
        if self.reject is not None:
            if self.channels or self.fallback or self.split:
                raise ValueError("a rule that rejects names no channel")
            return self
        if not self.channels:
            raise ValueError("channels: at least one channel (or reject = 'reason')")
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels: a channel is listed twice")
        if self.fallback is not None and self.fallback in self.channels:
            raise ValueError(f"fallback {self.fallback} is already in channels")
        if self.split is not None:
            if set(self.split) - set(self.channels):
                raise ValueError("split: every channel must be in channels")
            if any(v < 0 for v in self.split.values()) or sum(self.split.values()) != 100:
                raise ValueError("split: percentages ≥ 0 that add up to 100")
        return self

    def key(self) -> tuple[Any, ...]:
        split = tuple(sorted(self.split.items())) if self.split else None
        return (self.channels, self.fallback, split, self.reject)

    def describe(self) -> str:
        if self.reject is not None:
            return f"reject ({self.reject})"
        text = " > ".join(self.channels)
        if self.split:
            text += " split " + "/".join(f"{k} {v}%" for k, v in self.split.items())
        if self.fallback:
            text += f", fallback {self.fallback}"
        return text


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    priority: int = Field(ge=0)
    when: Condition = Condition()
    then: Action

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"rule name {value!r}: letters, digits, _ . - (≤64)")
        return value


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "rules"
    description: str = ""
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> RuleSet:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}")
            seen.add(rule.name)
        return self

    def ordered(self) -> list[Rule]:
        """The rules in evaluation order: priority, then file order."""
        return sorted(self.rules, key=lambda r: r.priority)  # stable: file order on ties


def parse_rules(text: str, source: str = "<rules>", *, fmt: str = "toml") -> RuleSet:
    """A rule set from TOML (or YAML) text; errors name the file and the rule."""
    try:
        if fmt == "yaml":
            try:
                import yaml
            except ImportError:
                raise ConfigError(
                    "YAML rule sets need PyYAML (pip install pyyaml)", source=source
                ) from None
            data = yaml.safe_load(text)
        else:
            data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=source) from None
    except ConfigError:
        raise
    except Exception as exc:  # yaml's own errors
        raise ConfigError(f"not valid YAML: {exc}", source=source) from None
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        where = ".".join(str(p) for p in loc)
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            rules = data.get("rules") if isinstance(data, dict) else None
            if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
                where += f" (rule {rules[loc[1]].get('name', '?')!r})"
        raise ConfigError(f"{where}: {first['msg']}", source=source, field=where) from None


def load_rules(path: str | Path) -> RuleSet:
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read rule set: {exc}", source=source) from None
    fmt = "yaml" if Path(path).suffix.lower() in (".yaml", ".yml") else "toml"
    return parse_rules(text, source, fmt=fmt)


# --- analysis ---------------------------------------------------------------------------

_OTHER = "(any other)"
_DOMAINS: dict[str, tuple[Any, ...] | None] = {
    "currency": None,
    "urgency": ("normal", "urgent"),
    "purpose": None,
    "business_type": None,
    "creditor": ("own", "domestic", "foreign"),
    "creditor_bank": None,
    "counterparty_status": ("active", "suspended", "unknown"),
    "business_day": (True, False),
}
_DIMS = ("creditor", "currency", "amount", "urgency", "counterparty_status", "business_day",
         "time", "purpose", "business_type", "creditor_bank")  # fmt: skip


def _amount_range(c: Condition) -> tuple[tuple[Decimal, int], tuple[Decimal, int]]:
    lo = (c.amount_min, 0) if c.amount_min is not None else (Decimal(0), 1)
    hi = (c.amount_max, 1) if c.amount_max is not None else (_INF, 0)
    return lo, hi


def _time_ranges(c: Condition) -> list[tuple[int, int]]:
    if c.time_from is None or c.time_to is None:
        return [(0, 1440)]
    a, b = _minutes(c.time_from), _minutes(c.time_to)
    if a < b:
        return [(a, b)]
    if a > b:
        return [(a, 1440), (0, b)]
    return []


def impossible(rule: Rule) -> str | None:
    """Why ``rule`` can never match, or None."""
    c = rule.when
    if c.amount_min is not None and c.amount_min < 0:
        return f"amount_min {c.amount_min} < 0"
    if c.amount_max is not None and c.amount_max <= 0:
        return f"amount_max {c.amount_max} ≤ 0 (amounts are positive)"
    if c.amount_min is not None and c.amount_max is not None and c.amount_min > c.amount_max:
        return f"amount_min {c.amount_min:,} > amount_max {c.amount_max:,}"
    for name in _DOMAINS:
        values = getattr(c, name)
        if values is not None and len(values) == 0:
            return f"{name} is an empty list"
    if c.time_from is not None and c.time_from == c.time_to:
        return f"time_from = time_to = {c.time_from} (an empty window)"
    return None


@dataclass
class _Atoms:
    """The cells of one dimension and, per rule, which cells it covers."""

    labels: list[str]
    covers: list[list[bool]]  # [rule][atom]


def _fmt_cut(cut: tuple[Decimal, int]) -> str:
    return "∞" if cut[0] == _INF else f"{cut[0]:,}"


def _atoms(dim: str, rules: Sequence[Rule]) -> _Atoms:
    if dim == "amount":
        cuts = {(Decimal(0), 1), (_INF, 0)}
        for r in rules:
            cuts.update(_amount_range(r.when))
        ordered = sorted(cuts)
        cells = list(itertools.pairwise(ordered))
        labels = []
        for a, b in cells:
            left = "[" if a[1] == 0 else "("
            right = "]" if b[1] == 1 else ")"
            labels.append(f"amount in {left}{_fmt_cut(a)}, {_fmt_cut(b)}{right}")
        covers = []
        for r in rules:
            lo, hi = _amount_range(r.when)
            covers.append([lo <= a and b <= hi for a, b in cells])
        return _Atoms(labels, covers)
    if dim == "time":
        minutes = {0, 1440}
        for r in rules:
            for x, y in _time_ranges(r.when):
                minutes.update((x, y))
        ordered_m = sorted(minutes)
        tcells = list(itertools.pairwise(ordered_m))
        labels = [
            f"time in [{a // 60:02d}:{a % 60:02d}, {b // 60:02d}:{b % 60:02d})" for a, b in tcells
        ]
        covers = []
        for r in rules:
            ranges = _time_ranges(r.when)
            covers.append([any(x <= a and b <= y for x, y in ranges) for a, b in tcells])
        return _Atoms(labels, covers)
    domain = _DOMAINS[dim]
    values: list[Any]
    if domain is None:
        mentioned: set[str] = set()
        for r in rules:
            mentioned.update(getattr(r.when, dim) or ())
        values = [*sorted(mentioned), _OTHER]
    else:
        values = list(domain)
    labels = [f"{dim}={v}" for v in values]
    covers = []
    for r in rules:
        got = getattr(r.when, dim)
        if dim == "business_day":
            covers.append([got is None or got == v for v in values])
        else:
            covers.append([got is None or v in got for v in values])
    return _Atoms(labels, covers)


class CheckResult(BaseModel):
    """What :func:`check` found; ``ok`` when there is nothing to refuse."""

    conflicts: list[str] = []
    unreachable: list[str] = []
    gaps: list[str] = []
    gap_count: int = 0

    @property
    def ok(self) -> bool:
        return not (self.conflicts or self.unreachable or self.gaps)

    def problems(self) -> list[str]:
        out = [f"conflict: {c}" for c in self.conflicts]
        out += [f"unreachable: {u}" for u in self.unreachable]
        out += [f"gap: {g}" for g in self.gaps]
        if self.gap_count > len(self.gaps):
            out.append(f"gap: … {self.gap_count - len(self.gaps)} more uncovered cells")
        return out


def check(ruleset: RuleSet, *, max_gaps: int = 20) -> CheckResult:
    """Conflicts, unreachable rules and gaps of ``ruleset`` (see the module doc)."""
    ordered = ruleset.ordered()
    result = CheckResult()
    possible: list[int] = []
    for i, rule in enumerate(ordered):
        why = impossible(rule)
        if why is not None:
            result.unreachable.append(f"rule {rule.name!r} can never match: {why}")
        else:
            possible.append(i)
    rules = [ordered[i] for i in possible]
    dims = [_atoms(d, rules) for d in _DIMS]
    full = [[all(dim.covers[r]) for dim in dims] for r in range(len(rules))]
    # free_from[r][k]: rule r covers everything in dimensions k…
    free_from = []
    for r in range(len(rules)):
        row = [True] * (len(dims) + 1)
        for k in range(len(dims) - 1, -1, -1):
            row[k] = row[k + 1] and full[r][k]
        free_from.append(row)
    reached: set[int] = set()
    beaten_by: dict[int, set[int]] = {}
    conflicts: dict[tuple[int, int], str] = {}
    gaps: list[str] = []
    gap_count = 0

    def walk(k: int, live: list[int], region: list[str]) -> None:
        nonlocal gap_count
        if not live:
            gap_count += 1
            if len(gaps) < max_gaps:
                gaps.append("no rule matches " + (", ".join(region) or "any payment"))
            return
        first = live[0]
        if k == len(dims) or free_from[first][k]:
            reached.add(first)
            tied = [r for r in live if rules[r].priority == rules[first].priority]
            for a_i, a in enumerate(tied):
                for b in tied[a_i + 1 :]:
                    if rules[a].then.key() != rules[b].then.key() and (a, b) not in conflicts:
                        conflicts[(a, b)] = ", ".join(region) or "every payment"
            for r in live[1:]:
                beaten_by.setdefault(r, set()).add(first)
            return
        dim = dims[k]
        for atom, label in enumerate(dim.labels):
            sub = [r for r in live if dim.covers[r][atom]]
            narrowed = region if len(dim.labels) == 1 else [*region, label]
            walk(k + 1, sub, narrowed)

    walk(0, list(range(len(rules))), [])
    for (a, b), where in conflicts.items():
        ra, rb = rules[a], rules[b]
        result.conflicts.append(
            f"rules {ra.name!r} and {rb.name!r} both have priority {ra.priority} and both match "
            f"({where}) but do different things: {ra.then.describe()} vs {rb.then.describe()}"
        )
    for r in range(len(rules)):
        if r not in reached:
            winners = sorted(beaten_by.get(r, ()), key=lambda i: i)
            names = ", ".join(repr(rules[w].name) for w in winners)
            result.unreachable.append(
                f"rule {rules[r].name!r} is shadowed: every payment it matches is taken by "
                f"earlier rule(s) {names}"
            )
    result.gaps = gaps
    result.gap_count = gap_count
    return result


# --- the compiled evaluator ---------------------------------------------------------------


_SET_DIMS = ("currency", "urgency", "purpose", "business_type", "creditor", "creditor_bank",
             "counterparty_status")  # fmt: skip


def _condition_source(c: Condition, consts: dict[str, Any], n: int, skip: str | None = None) -> str:
    parts: list[str] = []

    def const(value: Any) -> str:
        name = f"_c{n}_{len(consts)}"
        consts[name] = value
        return name

    if c.amount_min is not None:
        parts.append(f"amount >= {const(c.amount_min)}")
    if c.amount_max is not None:
        parts.append(f"amount <= {const(c.amount_max)}")
    for dim in _SET_DIMS:
        values = getattr(c, dim)
        if values is None or dim == skip:
            continue
        if len(values) == 1:
            parts.append(f"{dim} == {const(values[0])}")
        else:
            parts.append(f"{dim} in {const(frozenset(values))}")
    if c.business_day is not None:
        parts.append("business_day" if c.business_day else "not business_day")
    ranges = _time_ranges(c)
    if ranges != [(0, 1440)]:
        parts.append("(" + " or ".join(f"{a} <= minute < {b}" for a, b in ranges) + ")")
    return " and ".join(parts) or "True"


def _chain(
    name: str, rules: Sequence[tuple[int, Rule]], consts: dict[str, Any], skip: str | None
) -> list[str]:
    lines = [f"def {name}({', '.join(_ARGS)}):"]
    for i, rule in rules:
        lines.append(f"    if {_condition_source(rule.when, consts, i, skip)}:")
        lines.append(f"        return {i}")
    lines.append("    return -1")
    return lines


def _dispatch_dim(rules: Sequence[Rule]) -> str | None:
    """The set dimension that splits the rules most (≥ 3 values), for a dispatch table."""
    best, best_n = None, 2
    for dim in _SET_DIMS:
        mentioned: set[Any] = set()
        for rule in rules:
            mentioned.update(getattr(rule.when, dim) or ())
        if len(mentioned) > best_n:
            best, best_n = dim, len(mentioned)
    return best


_ARGS = ("amount", "currency", "urgency", "purpose", "business_type", "creditor",
         "creditor_bank", "counterparty_status", "minute", "business_day")  # fmt: skip

Matcher = Callable[..., int]


def _refusal(c: Condition, f: dict[str, Any]) -> str | None:
    """The first condition of ``c`` that the features ``f`` fail, for explanations."""
    amount = f["amount"]
    if c.amount_min is not None and amount < c.amount_min:
        return f"amount {amount:,} < amount_min {c.amount_min:,}"
    if c.amount_max is not None and amount > c.amount_max:
        return f"amount {amount:,} > amount_max {c.amount_max:,}"
    for dim in ("currency", "urgency", "purpose", "business_type", "creditor", "creditor_bank",
                "counterparty_status"):  # fmt: skip
        values = getattr(c, dim)
        if values is not None and f[dim] not in values:
            return f"{dim} {f[dim]} not in {', '.join(values)}"
    if c.business_day is not None and f["business_day"] != c.business_day:
        return "not a business day" if c.business_day else "a business day"
    ranges = _time_ranges(c)
    minute = f["minute"]
    if ranges != [(0, 1440)] and not any(a <= minute < b for a, b in ranges):
        return f"time {minute // 60:02d}:{minute % 60:02d} outside {c.time_from}–{c.time_to}"
    return None


@dataclass(frozen=True)
class CompiledRuleSet:
    """An immutable, checked rule set with its generated matcher."""

    ruleset: RuleSet
    rules: tuple[Rule, ...]
    match: Matcher
    version: int | None = None
    digest: str = ""
    source: str = field(default="", repr=False)
    #: the dimension the matcher dispatches on (rules for other values are summarised)
    dispatch: str | None = None

    def explain(self, features: dict[str, Any]) -> tuple[int, list[str]]:
        """(index of the matching rule or -1, why each earlier rule did not match).

        Rules that name other values of the dispatch dimension (other creditor banks,
        say) are given on one line together."""
        refused: list[str] = []
        other: list[str] = []
        dim = self.dispatch
        value = features[dim] if dim is not None else None
        found = -1
        for i, rule in enumerate(self.rules):
            if dim is not None:
                listed = getattr(rule.when, dim)
                if listed is not None and value not in listed:
                    other.append(rule.name)
                    continue
            why = _refusal(rule.when, features)
            if why is None:
                found = i
                break
            refused.append(f"rule {rule.name}: {why}")
        if other:
            refused.append(f"rules {', '.join(other)}: {dim} {value} not listed")
        return found, refused


def compile_rules(
    ruleset: RuleSet, *, version: int | None = None, checked: bool = True, text: str = ""
) -> CompiledRuleSet:
    """Compile ``ruleset`` (refusing it when :func:`check` finds a problem, unless
    ``checked=False``) into a :class:`CompiledRuleSet`."""
    if checked:
        result = check(ruleset)
        if not result.ok:
            raise RuleSetError(
                f"rule set {ruleset.name!r} refused: " + "; ".join(result.problems()[:5]),
                problems=result.problems(),
            )
    rules = tuple(ruleset.ordered())
    consts: dict[str, Any] = {}
    indexed = list(enumerate(rules))
    dim = _dispatch_dim(rules)
    if dim is None:
        lines = _chain("match", indexed, consts, None)
    else:
        # one chain per value of the most selective dimension (the rules that can match
        # it, in order), and one for every other value: a one-level decision tree
        values = sorted({v for r in rules for v in (getattr(r.when, dim) or ())}, key=str)
        lines = []
        table: dict[Any, str] = {}
        for k, value in enumerate(values):
            subset = [
                (i, r)
                for i, r in indexed
                if getattr(r.when, dim) is None or value in getattr(r.when, dim)
            ]
            lines += _chain(f"_m{k}", subset, consts, dim)
            table[value] = f"_m{k}"
        lines += _chain(
            "_other", [(i, r) for i, r in indexed if getattr(r.when, dim) is None], consts, None
        )
        consts["_table_keys"] = tuple(table)
        lines.append(f"_dispatch = dict(zip(_table_keys, ({', '.join(table.values())},)))")
        args = ", ".join(_ARGS)
        lines.append(f"def match({args}):")
        lines.append(f"    return _dispatch.get({dim}, _other)({args})")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = dict(consts)
    namespace["__builtins__"] = {"dict": dict, "zip": zip}
    exec(compile(source, f"<rules {ruleset.name}>", "exec"), namespace)
    digest = hashlib.sha256(ruleset.model_dump_json().encode()).hexdigest()[:16]
    return CompiledRuleSet(ruleset, rules, namespace["match"], version, digest, source, dim)
