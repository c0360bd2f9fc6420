"""Layered validation: safety, XSD and business rules, all reporting :class:`Finding` objects."""

from paymsg.validation.config import PROFILES, Profile, ValidationConfig
from paymsg.validation.engine import validate
from paymsg.validation.findings import Finding, Report
from paymsg.validation.registry import RuleContext, RuleSpec, all_rules, rule

__all__ = [
    "PROFILES",
    "Finding",
    "Profile",
    "Report",
    "RuleContext",
    "RuleSpec",
    "ValidationConfig",
    "all_rules",
    "rule",
    "validate",
]
