"""The one finding type and the report that collects them.

Every layer of validation (safety, xsd, rule) produces :class:`Finding` objects; a
:class:`Report` holds all of them for one input. Both are pydantic models, so they
validate on construction and export JSON (``report.model_dump(mode="json")``) and JSON
schemas (``Report.model_json_schema()``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

Layer = Literal["safety", "xsd", "rule"]
Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
#: longest offending value a finding repeats
MAX_VALUE = 200


class Finding(BaseModel):
    """One problem (or remark) about a message, with where it is and what to do."""

    model_config = ConfigDict(frozen=True)

    rule: str = Field(description="stable rule id, e.g. iso.grphdr.nb-of-txs or xsd.schema")
    layer: Layer
    severity: Severity
    path: str | None = Field(
        default=None, description="element-name path, e.g. /Document/FIToFICstmrCdtTrf/GrpHdr"
    )
    line: int | None = None
    value: str | None = Field(default=None, description="the offending value, if any")
    message: str = Field(description="English text")
    message_zh: str = Field(description="Chinese text")

    @field_validator("value")
    @classmethod
    def _short_value(cls, value: str | None) -> str | None:
        """Long offending values are cut, so a report never echoes megabytes of input."""
        if value is not None and len(value) > MAX_VALUE:
            return f"{value[:MAX_VALUE]}… ({len(value):,} characters)"
        return value

    def text(self, lang: Literal["en", "zh"] = "en") -> str:
        return self.message_zh if lang == "zh" else self.message


class Report(BaseModel):
    """All findings for one input, in layer order."""

    source: str | None = None
    type: str | None = Field(default=None, description="message type id, when it was known")
    profile: str = "default"
    findings: list[Finding] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for finding in self.findings:
            out[finding.severity] += 1
        return out

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when there is no error (warnings and infos allowed)."""
        return self.counts["error"] == 0

    def at_least(self, severity: Severity) -> list[Finding]:
        floor = SEVERITY_RANK[severity]
        return [f for f in self.findings if SEVERITY_RANK[f.severity] >= floor]
