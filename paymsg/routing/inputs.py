"""Reading payments to route: JSON or CSV instruction files, and unified messages.

* **JSON**: a list of instruction objects, or ``{"payments": [...]}``; keys are the
  :class:`~paymsg.routing.model.Instruction` fields; amounts as strings (or integers:
  a JSON float is refused, it may already have lost a cent).
* **CSV**: a header row with the field names, then one payment a row (UTF-8).
* **XML**: a ``pain.001.001.09`` (each ``CdtTrfTxInf`` of each ``PmtInf``), a
  ``pacs.008.001.08`` or ``pacs.009.001.08`` (each transaction), read with
  :func:`paymsg.parse`.

Every problem is an :class:`~paymsg.errors.InputError` naming the file, the row (CSV
line number, JSON item index) and the field.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from paymsg.errors import InputError
from paymsg.routing.model import Instruction

__all__ = ["from_message", "read_instructions"]

_FIELDS = set(Instruction.model_fields)


def _pydantic_error(exc: ValidationError, source: str, line: int | None, item: str) -> InputError:
    first = exc.errors()[0]
    # a check across fields (the CNY minor unit) names its field in its context
    field = ".".join(str(p) for p in first["loc"]) or (first.get("ctx") or {}).get("field")
    value = first.get("input")
    shown = f" (value {value!r})" if field and not isinstance(value, dict) else ""
    message = first["msg"].removeprefix("Value error, ")  # pydantic's prefix for our checks
    return InputError(
        f"{item}: field {field}: {message}{shown}" if field else f"{item}: {message}",
        source=source,
        line=line,
        field=field,
    )


class _Ids:
    """Payment ids seen so far in one file: an id twice is refused (the hub keys a day's
    decisions, messages and answers by payment id, so a second one would be lost)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.seen: dict[str, str] = {}

    def add(
        self, ins: Instruction, item: str, *, line: int | None = None, path: str | None = None
    ) -> Instruction:
        first = self.seen.setdefault(ins.id, item)
        if first != item:
            raise InputError(
                f"{item}: payment id {ins.id!r} is used twice (also {first})",
                source=self.source,
                line=line,
                path=path,
                field="id",
            )
        return ins


def _reject_float(value: str) -> Any:
    raise ValueError(f"amount {value} is a JSON number with a fraction; write it as a string")


def _read_json(raw: bytes, source: str) -> list[Instruction]:
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=_reject_float)
    except (UnicodeDecodeError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"not valid JSON: {exc}", source=source, line=line) from None
    if isinstance(data, dict) and "payments" in data:
        data = data["payments"]
    if not isinstance(data, list):
        raise InputError('expected a list of payments or {"payments": [...]}', source=source)
    out: list[Instruction] = []
    ids = _Ids(source)
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise InputError(f"payment #{index} is not an object", source=source, path=f"[{index}]")
        try:
            ins = Instruction.model_validate(item)
        except ValidationError as exc:
            err = _pydantic_error(exc, source, None, f"payment #{index}")
            err.path = f"[{index}]"
            raise err from None
        out.append(ids.add(ins, f"payment #{index}", path=f"[{index}]"))
    return out


def _read_csv(raw: bytes, source: str) -> list[Instruction]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8: {exc}", source=source, offset=exc.start) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty CSV file (a header row is needed)", source=source) from None
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in _FIELDS]
    if unknown:
        raise InputError(
            f"unknown column(s) {', '.join(unknown)}; known: {', '.join(sorted(_FIELDS))}",
            source=source,
            line=1,
        )
    out: list[Instruction] = []
    ids = _Ids(source)
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                f"row has {len(row)} cells, the header {len(header)}", source=source, line=line
            )
        values = {k: v for k, v in zip(header, row, strict=True) if v != ""}
        try:
            ins = Instruction.model_validate(values)
        except ValidationError as exc:
            raise _pydantic_error(exc, source, line, f"row {line}") from None
        out.append(ids.add(ins, f"row {line}", line=line))
    return out


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _agent(node: Any) -> str | None:
    inst = _get(node, "FinInstnId")
    return _get(inst, "ClrSysMmbId", "MmbId") or _get(inst, "BICFI")


def _account(node: Any) -> str:
    return str(_get(node, "Id", "Othr", "Id") or _get(node, "Id", "IBAN") or "")


def _transactions(
    doc: dict[str, Any], mtype: str
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(transaction, context) pairs; the context holds what a pain.001 states per PmtInf."""
    if mtype.startswith("pain.001"):
        for pmt in _get(doc, "CstmrCdtTrfInitn", "PmtInf") or []:
            for tx in pmt.get("CdtTrfTxInf") or []:
                yield tx, pmt
    elif mtype.startswith("pacs.008"):
        for tx in _get(doc, "FIToFICstmrCdtTrf", "CdtTrfTxInf") or []:
            yield tx, {}
    elif mtype.startswith("pacs.009"):
        for tx in _get(doc, "FICdtTrf", "CdtTrfTxInf") or []:
            yield tx, {}
    else:
        raise InputError(
            f"{mtype} is not a payment to route (pain.001.001.09, pacs.008.001.08, pacs.009.001.08)"
        )


def from_message(message: Any, source: str = "<message>") -> list[Instruction]:
    """The instructions in a parsed unified pain.001 / pacs.008 / pacs.009 message."""
    from paymsg.codec.json.engine import to_data

    mtype = message.type
    doc = to_data(message.document)
    out: list[Instruction] = []
    ids = _Ids(source)
    institution = mtype.startswith("pacs.009")
    for index, (tx, ctx) in enumerate(_transactions(doc, mtype)):
        where = f"transaction #{index}"
        amount_node = tx.get("IntrBkSttlmAmt") or _get(tx, "Amt", "InstdAmt")
        if not isinstance(amount_node, dict):
            raise InputError(f"{where} has no amount", source=source, path=where)
        pmt_tp = tx.get("PmtTpInf") or ctx.get("PmtTpInf") or {}
        priority = tx.get("SttlmPrty") or pmt_tp.get("InstrPrty")
        urgent = priority in ("URGT", "HIGH") or _get(pmt_tp, "SvcLvl", "Cd") == "URGP"
        if institution:
            debtor, creditor = tx.get("Dbtr"), tx.get("Cdtr")
            debtor_bank, creditor_bank = _agent(debtor), _agent(creditor)
            debtor_name = str(_get(debtor, "FinInstnId", "Nm") or "")
            creditor_name = str(_get(creditor, "FinInstnId", "Nm") or "")
        else:
            debtor_bank = _agent(tx.get("DbtrAgt") or ctx.get("DbtrAgt"))
            creditor_bank = _agent(tx.get("CdtrAgt"))
            debtor_name = str(_get(tx, "Dbtr", "Nm") or _get(ctx, "Dbtr", "Nm") or "")
            creditor_name = str(_get(tx, "Cdtr", "Nm") or "")
        values: dict[str, Any] = {
            "id": _get(tx, "PmtId", "EndToEndId") or _get(tx, "PmtId", "TxId"),
            "amount": Decimal(str(amount_node.get("#text"))),
            "currency": amount_node.get("@Ccy"),
            "debtor_name": debtor_name,
            "debtor_account": _account(tx.get("DbtrAcct") or ctx.get("DbtrAcct")),
            "debtor_bank": debtor_bank,
            "creditor_name": creditor_name,
            "creditor_account": _account(tx.get("CdtrAcct")),
            "creditor_bank": creditor_bank,
            "urgency": "urgent" if urgent else "normal",
            "kind": "institution" if institution else "customer",
            "remittance": " ".join(_get(tx, "RmtInf", "Ustrd") or []),
        }
        purpose = _get(tx, "Purp", "Prtry")
        if purpose:
            values["purpose"] = purpose
        btype = _get(pmt_tp, "CtgyPurp", "Prtry")
        if btype:
            values["business_type"] = btype
        requested = _get(ctx, "ReqdExctnDt", "DtTm") or _get(ctx, "ReqdExctnDt", "Dt")
        if requested:
            values["requested_at"] = requested if "T" in str(requested) else f"{requested}T00:00:00"
        try:
            ins = Instruction.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            err = _pydantic_error(exc, source, None, where)
            err.path = where
            raise err from None
        out.append(ids.add(ins, where, path=where))
    return out


def read_instructions(path: str | Path) -> list[Instruction]:
    """Every payment in ``path`` (JSON, CSV or an XML message), in file order."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=source) from None
    suffix = Path(path).suffix.lower()
    head = raw.lstrip()[:1]
    if suffix == ".json" or head in (b"[", b"{"):
        return _read_json(raw, source)
    if suffix == ".csv":
        return _read_csv(raw, source)
    if head == b"<" or suffix in (".xml", ".txt"):
        import paymsg

        return from_message(paymsg.parse(raw if source is None else path), source)
    raise InputError("unknown payment file: use .json, .csv or an XML message", source=source)
