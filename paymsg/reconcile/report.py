"""Reports of a reconciliation: JSON data, CSV of the breaks, and a self-contained HTML
page (inline CSS and SVG, no script, no external asset) for a back-office clerk."""

from __future__ import annotations

import csv
import io
from collections import Counter
from html import escape
from typing import Any

from paymsg.reconcile.records import Break, RunResult

__all__ = ["AGE_BUCKETS", "breaks_csv", "html_page", "to_data"]

AGE_BUCKETS = ("0-1", "2-7", "8-30", ">30")
CSV_COLUMNS = (
    "id", "scope", "check_date", "kind", "status", "age_days", "age_bucket", "direction",
    "mt", "tx_type", "msg_id", "amount", "npc_value", "our_value", "entry_id", "note", "detail",
)  # fmt: skip


def to_data(result: RunResult) -> dict[str, Any]:
    """The run as plain JSON data (amounts as strings, never floats)."""
    data = result.model_dump(mode="json")
    data["open_breaks"] = len(result.open_breaks)
    data["ok"] = result.ok
    return data


def breaks_csv(found: list[Break]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for b in found:
        row = b.model_dump(mode="json")
        writer.writerow(["" if row.get(c) is None else row[c] for c in CSV_COLUMNS])
    return out.getvalue()


_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:24px;color:#1d2733}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border:1px solid #c9d1da;padding:4px 8px;text-align:left}
th{background:#eef2f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#fde8e8}tr.bad td.flag{color:#b3261e;font-weight:bold}
td.flag{color:#1e7b34}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#e6ebf0}
.pill.new{background:#fde8e8}.pill.persisting{background:#fff1cc}
.pill.resolved{background:#e2f4e6}.pill.accepted{background:#e6ebf0}
.count{font-size:28px;font-weight:bold}
.problems li{color:#b3261e}
"""


def _aging_svg(found: list[Break]) -> str:
    counts = Counter(b.age_bucket for b in found if b.open)
    most = max([counts.get(k, 0) for k in AGE_BUCKETS] + [1])
    width, bar, gap, height = 360, 60, 26, 140
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" '
        f'role="img" aria-label="open breaks by age">'
    ]
    for index, name in enumerate(AGE_BUCKETS):
        n = counts.get(name, 0)
        h = round(height * n / most)
        x = 20 + index * (bar + gap)
        parts.append(
            f'<rect x="{x}" y="{height - h + 10}" width="{bar}" height="{h}" fill="#4a78b5">'
            f"<title>{escape(name)} days: {n}</title></rect>"
            f'<text x="{x + bar / 2}" y="{height - h + 5}" font-size="12" '
            f'text-anchor="middle">{n}</text>'
            f'<text x="{x + bar / 2}" y="{height + 28}" font-size="12" text-anchor="middle">'
            f"{escape(name)} d</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def html_page(result: RunResult) -> str:
    """One self-contained page: summary grid (mismatches marked), breaks, aging chart."""
    open_breaks = result.open_breaks
    rows = []
    for c in result.cells:
        key = " ".join(x for x in (c.mt, c.tx_type, c.netting_date, c.netting_round) if x)
        rows.append(
            f'<tr class="{"bad" if c.differs else "ok"}"><td>{escape(c.kind)}</td>'
            f"<td>{escape(key)}</td>"
            f"<td>{escape(c.status)}</td>"
            f'<td class="n">{c.npc_sent_count}</td><td class="n">{c.our_sent_count}</td>'
            f'<td class="n">{c.npc_sent_amount}</td><td class="n">{c.our_sent_amount}</td>'
            f'<td class="n">{c.npc_recv_count}</td><td class="n">{c.our_recv_count}</td>'
            f'<td class="n">{c.npc_recv_amount}</td><td class="n">{c.our_recv_amount}</td>'
            f'<td class="flag">{"不一致 differs" if c.differs else "一致 agrees"}</td></tr>'
        )
    brows = []
    for b in result.breaks:
        brows.append(
            f'<tr class="{"bad" if b.open else "ok"}"><td>{b.id}</td>'
            f'<td><span class="pill {escape(b.status)}">{escape(b.status)}</span></td>'
            f"<td>{escape(b.kind)}</td><td>{escape(b.direction or '')}</td>"
            f"<td>{escape(b.mt or '')}</td><td>{escape(b.msg_id or '')}</td>"
            f'<td class="n">{escape(str(b.amount) if b.amount is not None else "")}</td>'
            f"<td>{b.age_days} ({escape(b.age_bucket)})</td>"
            f"<td>{escape(b.detail)}</td><td>{escape(b.note or '')}</td></tr>"
        )
    problems = "".join(f"<li>{escape(p)}</li>" for p in result.problems)
    notices = "".join(f"<li>{escape(n.text)}</li>" for n in result.notices)
    npc_as_of = result.npc_as_of.isoformat() if result.npc_as_of else "–"
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>对账 {escape(result.scope)} {result.check_date}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>对账报告 Reconciliation — {escape(result.scope)} {result.check_date}</h1>"
        f'<p class="meta">run {result.run_id} · {escape(result.kind)} · '
        f"NPC as of {escape(npc_as_of)} · "
        f"journal as of {escape(result.journal_as_of.isoformat())} · "
        f"{escape(', '.join(result.sources))}</p>"
        f'<p>Open breaks: <span class="count" id="open-breaks">{len(open_breaks)}</span> '
        f"of {len(result.breaks)} for the day</p>"
        + (f'<h2>Problems</h2><ul class="problems">{problems}</ul>' if problems else "")
        + (f'<h2>Notices</h2><ul class="notices">{notices}</ul>' if notices else "")
        + "<h2>Summary 汇总核对</h2><table><thead><tr><th>kind</th><th>cell</th><th>status</th>"
        "<th>NPC sent</th><th>our sent</th><th>NPC sent sum</th><th>our sent sum</th>"
        "<th>NPC recv</th><th>our recv</th><th>NPC recv sum</th><th>our recv sum</th>"
        f"<th>result</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<h2>Breaks 差错</h2><table id="breaks"><thead><tr><th>id</th><th>status</th><th>kind</th>'
        "<th>dir</th><th>MT</th><th>MsgId</th><th>amount</th><th>age (days)</th><th>detail</th>"
        f"<th>note</th></tr></thead><tbody>{''.join(brows)}</tbody></table>"
        f"<h2>Aging of open breaks 账龄</h2>{_aging_svg(result.breaks)}"
        "</body></html>\n"
    )
