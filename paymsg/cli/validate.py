"""``paymsg validate`` and ``paymsg rules list``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from xml.sax.saxutils import quoteattr

import typer
from rich.markup import escape  # a progress line is markup: a file name is escaped
from rich.progress import Progress

from paymsg.cli.files import gather
from paymsg.cli.output import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    console,
    emit,
    err_console,
    fail,
    reported,
    table,
)
from paymsg.errors import InputError
from paymsg.schema.catalog import catalog
from paymsg.validation import ValidationConfig, all_rules, validate
from paymsg.validation.config import PROFILES
from paymsg.validation.engine import LAYER_RULES
from paymsg.validation.findings import SEVERITY_RANK, Report

PROGRESS_FROM = 6  # files

rules_app = typer.Typer(help="Validation rules.", no_args_is_help=True)


class Lang(StrEnum):
    en = "en"
    zh = "zh"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"


def _junit(reports: list[Report], floor: str, target: Path) -> None:
    failing = [r for r in reports if r.at_least(floor)]  # type: ignore[arg-type]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="paymsg validate" tests="{len(reports)}" failures="{len(failing)}">',
    ]
    for report in reports:
        name = quoteattr(report.source or "-")
        lines.append(f"  <testcase classname={quoteattr(report.type or 'unknown')} name={name}>")
        findings = report.at_least(floor)  # type: ignore[arg-type]
        if findings:
            body = "\n".join(
                f"{f.severity} {f.rule} {f.path or ''}:{f.line or ''} {f.message}" for f in findings
            )
            summary = quoteattr(f"{len(findings)} finding(s)")
            lines.append(f"    <failure message={summary}>{_escape(body)}</failure>")
        lines.append("  </testcase>")
    lines.append("</testsuite>")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


#: files larger than this are validated as a stream when their type allows it
STREAM_FROM = 32 * 1024 * 1024


def _validate_one(
    path: Path, profile: str, config: ValidationConfig, type_id: str | None
) -> Report:
    """``paymsg.validate`` on one file; a file over ``STREAM_FROM`` bytes whose type
    streams is validated as a stream, with a bar of the bytes read on stderr."""
    config = config.model_copy(update={"stream_from_bytes": STREAM_FROM})
    try:
        large = path.stat().st_size > STREAM_FROM
    except OSError:
        large = False
    with Progress(console=err_console, transient=True, disable=not large) as bar:
        task = bar.add_task(f"streaming {escape(path.name)}", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return validate(path, profile_name=profile, config=config, type=type_id, progress=advance)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _print_report(report: Report, lang: str) -> None:
    if not report.findings:
        return
    rows = [
        (
            f.severity,
            f.rule,
            f"{f.path or ''}{':' + str(f.line) if f.line else ''}",
            f.text(lang),  # type: ignore[arg-type]
        )
        for f in report.findings
    ]
    title = f"{report.source} ({report.type or 'unknown type'})"
    console.print(table(title, ["severity", "rule", "path:line", "message"], rows))


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate_cmd(
        paths: list[str] = typer.Argument(..., help="Files, directories or glob patterns."),
        profile: str = typer.Option("default", "--profile", help=f"One of: {', '.join(PROFILES)}."),
        fail_on: FailOn = typer.Option(
            FailOn.error, "--fail-on", help="Lowest severity that fails."
        ),
        lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the messages."),
        junit: Path | None = typer.Option(None, "--junit", help="Also write a JUnit XML report."),
        type_id: str | None = typer.Option(
            None, "--type", help="Force the message type (e.g. a CNAPS2 body without header)."
        ),
        settlement_window: int = typer.Option(
            0, "--settlement-window", help="Days a settlement date may precede creation."
        ),
        as_json: bool = typer.Option(False, "--json", help="One JSON object per file."),
    ) -> None:
        """Validate messages (safety, XSD, rules). Exit 0 clean, 1 findings, 2 unreadable."""
        with reported():
            if profile not in PROFILES:
                fail(
                    InputError(
                        f"unknown profile {profile!r}", hint=f"one of: {', '.join(PROFILES)}"
                    )
                )
            config = ValidationConfig(settlement_window_days=settlement_window)
            if type_id is not None:
                catalog().get(type_id)  # an unknown --type is a usage error, before any work
        files = gather(paths)
        reports: list[Report] = []
        with Progress(
            console=err_console, transient=True, disable=len(files) < PROGRESS_FROM
        ) as bar:
            task = bar.add_task("validating", total=len(files))
            for path in files:
                reports.append(_validate_one(path, profile, config, type_id))
                if reports[-1].source is None:
                    reports[-1].source = str(path)
                bar.advance(task)
        floor = fail_on.value
        unreadable = [r for r in reports if any(f.layer == "safety" for f in r.findings)]
        failing = [r for r in reports if r.at_least(floor)]  # type: ignore[arg-type]
        if junit is not None:
            _junit(reports, floor, junit)

        def human() -> None:
            for report in reports:
                _print_report(report, lang.value)
            totals = {s: sum(r.counts[s] for r in reports) for s in SEVERITY_RANK}
            clean = len(reports) - len(failing)
            console.print(
                f"{len(reports)} file(s): {clean} passed,"
                f" {len(failing)} failed at --fail-on {floor}"
                f" ({len(unreadable)} unreadable); findings: {totals['error']} error(s),"
                f" {totals['warning']} warning(s), {totals['info']} info"
            )

        emit([r.model_dump(mode="json") for r in reports], as_json, human)
        if unreadable:
            raise typer.Exit(EXIT_INPUT)
        if failing:
            raise typer.Exit(EXIT_FINDINGS)

    @rules_app.command("list")
    def list_rules(
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Every rule: id, layer, severity, pack and what it checks."""
        rows = [
            {
                "id": rid,
                "layer": layer,
                "severity": "error",
                "pack": "-",
                "title": en,
                "title_zh": zh,
                "doc": en,
            }
            for rid, layer, en, zh in LAYER_RULES
        ] + [
            {
                "id": r.id,
                "layer": "rule",
                "severity": r.severity,
                "pack": r.pack,
                "title": r.title,
                "title_zh": r.title_zh,
                "doc": r.doc,
            }
            for r in all_rules()
        ]

        def human() -> None:
            console.print(
                table(
                    f"{len(rows)} rules",
                    ["id", "layer", "severity", "pack", "checks"],
                    [
                        (
                            r["id"],
                            r["layer"],
                            r["severity"],
                            r["pack"],
                            f"{r['title']}\n{r['title_zh']}",
                        )
                        for r in rows
                    ],
                )
            )

        emit(rows, as_json, human)

    app.add_typer(rules_app, name="rules")
