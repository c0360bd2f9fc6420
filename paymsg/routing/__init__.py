"""Routing: choose each payment's channel (HVPS, BEPS, book transfer, cross-border) from
rules kept as data, explain the choice, and batch BEPS items into packages.

``docs/routing.md`` describes the rule language, the checks, the facts and batching.
"""

from paymsg.routing.engine import MESSAGE_TYPES, Router, split_bucket
from paymsg.routing.facts import (
    Calendar,
    Exposure,
    Facts,
    FactsConfig,
    Participant,
    load_facts,
    npc_business_date,
    read_directory,
)
from paymsg.routing.inputs import from_message, read_instructions
from paymsg.routing.model import CHANNELS, ChannelVerdict, Decision, Instruction
from paymsg.routing.rules import (
    Action,
    CheckResult,
    CompiledRuleSet,
    Condition,
    Rule,
    RuleSet,
    check,
    compile_rules,
    load_rules,
    parse_rules,
)

__all__ = [
    "CHANNELS",
    "MESSAGE_TYPES",
    "Action",
    "Calendar",
    "ChannelVerdict",
    "CheckResult",
    "CompiledRuleSet",
    "Condition",
    "Decision",
    "Exposure",
    "Facts",
    "FactsConfig",
    "Instruction",
    "Participant",
    "Router",
    "Rule",
    "RuleSet",
    "check",
    "compile_rules",
    "from_message",
    "load_facts",
    "load_rules",
    "npc_business_date",
    "parse_rules",
    "read_directory",
    "read_instructions",
    "split_bucket",
]
