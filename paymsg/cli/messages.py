"""``paymsg detect | inspect | convert | envelope``: commands that read messages."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Group

from paymsg.cli.output import (
    JSON_OPT,
    console,
    emit,
    fail,
    report_error,
    reported,
    styled,
    table,
)
from paymsg.codec.api import detect, load_file, parse, read_input
from paymsg.codec.envelope import cnaps2
from paymsg.codec.summary import summarize
from paymsg.errors import InputError, PaymsgError, SignatureError
from paymsg.schema.catalog import catalog


def _header_rows(envelope: cnaps2.Cnaps2Envelope) -> list[tuple[str, str, str, str]]:
    header = envelope.header
    return [
        (f.ref_name, f.label_zh, str(f.offset), repr(getattr(header, f.name)))
        for f in cnaps2.FIELDS
    ]


def verify(file: Path, env: cnaps2.Cnaps2Envelope, public_key: str, profiles: Path | None) -> None:
    """Verify ``file``'s signature with one SM2 public key, or raise SignatureError."""
    from paymsg.codec.envelope import signing

    table_ = signing.load_signing_profiles(profiles) if profiles is not None else None
    try:
        profile = signing.signing_profile(env.header.mesg_type, table_)
    except SignatureError as exc:
        hint = "pass --profiles FILE: the element lists (签名要素串) of your PBOC documentation"
        raise InputError(exc.message, source=str(file), hint=hint) from None
    verifier = signing.SM2Verifier({env.header.orig_sender: public_key})
    parse(file, verifier=verifier, signing_profile=profile)


def register(app: typer.Typer) -> None:
    @app.command("detect")
    def detect_cmd(
        files: list[Path] = typer.Argument(..., help="Message files."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Name the message type of each file, and say how it was decided."""
        results = []
        failed = None
        for path in files:
            try:
                d = detect(path)
                results.append(
                    {"file": str(path), "type": d.type, "method": d.method, "detail": d.detail}
                )
            except PaymsgError as exc:
                failed = failed or exc
                results.append({"file": str(path), "error": str(exc)})
                if not as_json:
                    report_error(exc)

        def human() -> None:
            rows = [
                (r["file"], r["type"], r["method"], r["detail"]) for r in results if "type" in r
            ]
            if rows:
                console.print(table(None, ["file", "type", "by", "detail"], rows))

        emit(results, as_json, human)
        if failed is not None:
            raise typer.Exit(2)

    @app.command()
    def inspect(
        file: Path = typer.Argument(..., help="A message file (XML, CNAPS2 text or paymsg JSON)."),
        as_json: bool = JSON_OPT,
    ) -> None:
        """A readable summary: type, ids, parties, agents, amounts, dates, and the envelope."""
        with reported():
            message = load_file(file)
            summary = summarize(message)
        mtype = catalog().get(message.type)
        envelope = message.envelope
        data = {
            "file": str(file),
            "name_en": mtype.name_en,
            "name_zh": mtype.name_zh,
            **summary.as_dict(),
        }
        if isinstance(envelope, cnaps2.Cnaps2Envelope):
            data["cnaps2_header"] = envelope.header.model_dump(mode="json")
            data["signature"] = "present" if envelope.signature else "absent"

        def human() -> None:
            names = " / ".join(n for n in (mtype.name_en, mtype.name_zh) if n)  # packs: no zh
            console.print(styled(f"{file}:", "bold", f"{message.type} — {names}"))
            if isinstance(envelope, cnaps2.Cnaps2Envelope):
                console.print(
                    table(
                        "CNAPS2 header {H:}",
                        ["field", "名称", "offset", "value"],
                        _header_rows(envelope),
                    )
                )
                console.print(
                    f"signature block {{S:}}: {'present' if envelope.signature else 'absent'}"
                )
            groups = [
                ("identification", summary.ids),
                ("parties", summary.parties),
                ("agents", summary.agents),
                ("amounts", summary.amounts),
                ("dates", summary.dates),
                ("codes", summary.codes),
            ]
            console.print(
                Group(*(table(title, ["path", "value"], rows) for title, rows in groups if rows))
            )

        emit(data, as_json, human)

    @app.command()
    def envelope(
        file: Path = typer.Argument(
            ..., help="A CNAPS2 message file ({H:} header, optional {S:}, XML body)."
        ),
        public_key: str | None = typer.Option(
            None, "--public-key", help="SM2 public key (hex) of the sender: verify the signature."
        ),
        profiles: Path | None = typer.Option(
            None,
            "--profiles",
            help="TOML file of signature element lists (签名要素串) to verify with.",
        ),
        as_json: bool = JSON_OPT,
    ) -> None:
        """Print the CNAPS2 header fields and the signature status (verified with --public-key)."""
        with reported():
            raw, _ = read_input(file)
            if not cnaps2.looks_like_cnaps2(raw):
                fail(
                    InputError(
                        "not CNAPS2 text: it does not start with a {H: header", source=str(file)
                    )
                )
            try:
                env, offset = cnaps2.split_envelope(raw)
            except PaymsgError as exc:
                raise exc.with_source(str(file)) from None
            status = "present, not verified" if env.signature else "absent"
            if public_key is not None:
                verify(file, env, public_key, profiles)
                status = "verified"
        data = {
            "file": str(file),
            "header": env.header.model_dump(mode="json"),
            "signature": env.signature,
            "signature_status": status,
            "body_offset": offset,
        }

        def human() -> None:
            console.print(
                table(
                    f"{file}: CNAPS2 header",
                    ["field", "名称", "offset", "value"],
                    _header_rows(env),
                )
            )
            console.print(f"signature block {{S:}}: {status}; XML body starts at byte {offset}")

        emit(data, as_json, human)
