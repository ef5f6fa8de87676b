"""The campaign report a manager signs: counts per finding type and per place, the open
findings, the resolutions with who and why; as CSV (formula-looking cells neutralised)
and as PDF (Chinese embedded with the labels' font discovery, fpdf2)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from cmdb.importers import neutralise_cell
from cmdb.model.clock import Clock
from cmdb.model.records import CI, Doc
from cmdb.services import Cmdb
from cmdb.services import findings as fd
from cmdb.services.campaigns import ProgressRow

MAX_ROWS = 5000


@dataclass
class ReportData:
    campaign: Doc
    counts: dict[str, dict[str, int]]
    places: list[ProgressRow]
    findings: list[Doc]
    cis: dict[str, CI]
    #: Times are shown in its zone, which the report names once.
    clock: Clock = field(default_factory=Clock)


async def gather(cmdb: Cmdb, ref: str) -> ReportData:
    """Everything the report says, read once."""
    campaign = await cmdb.campaigns.get(ref)
    counts: dict[str, dict[str, int]] = {}
    for t in fd.FindingType:
        counts[t.value] = {s.value: await cmdb.store.count_docs(
            fd.KIND, parent=campaign.id, key=fd.doc_key(s, t)) for s in fd.FindingStatus}
    docs: list[Doc] = []
    for status in ("open", "carried", "resolved"):
        found, _ = await cmdb.campaigns.findings(campaign.id, status=status, first=MAX_ROWS)
        docs += found
    ids = {str(i) for d in docs for i in (d.data.get("ci_id"), d.data.get("place_id"),
                                           d.data.get("seen_place_id")) if i}
    cis = await cmdb.store.get_cis(sorted(ids)) if ids else {}
    return ReportData(campaign, counts, await cmdb.campaigns.progress(campaign.id), docs, cis,
                      cmdb.clock)


def describe(data: ReportData, f: Doc) -> dict[str, str]:
    """One finding as report columns."""
    d, cis = f.data, data.cis
    ci = cis.get(d.get("ci_id") or "")
    place = cis.get(d.get("place_id") or "")
    seen = cis.get(d.get("seen_place_id") or "")
    ev = (d.get("evidence") or [{}])[-1]
    r = d.get("resolution") or {}
    what = d.get("field") and (f"{d['field']}: {d.get('registered') or '—'} -> "
                               f"{d.get('observed') or '—'}")
    return {"type": d["type"], "status": d["status"],
            "asset_tag": d.get("asset_tag") or (ci.asset_tag if ci else "") or
            str(d.get("identity") or ""), "name": ci.name if ci else "",
            "registered_place": place.name if place else "",
            "seen_place": seen.name if seen else str(d.get("seen_place") or ""),
            "detail": what or "", "seen_by": str(ev.get("by") or ""),
            "seen_at": data.clock.text(ev.get("at")) or "",
            "resolution": str(r.get("how") or ""), "resolved_by": str(r.get("by") or ""),
            "reason": str(r.get("reason") or "")}


COLUMNS = ["type", "status", "asset_tag", "name", "registered_place", "seen_place", "detail",
           "seen_by", "seen_at", "resolution", "resolved_by", "reason"]


def to_csv(data: ReportData) -> str:
    """Summary lines, then one row per finding needing or having had a decision."""
    out = io.StringIO()
    w = csv.writer(out)
    name = neutralise_cell(str(data.campaign.data["name"]))
    w.writerow(["campaign", name, "status", data.campaign.key, "time_zone",
                data.clock.label])
    for t, by in data.counts.items():
        w.writerow(["count", t, *(f"{s}={n}" for s, n in by.items() if n)])
    for p in data.places:
        w.writerow(["place", neutralise_cell(p.name), f"registered={p.registered}",
                    f"seen={p.seen}", f"verified={p.verified}", f"open={p.open}"])
    w.writerow([])
    w.writerow(COLUMNS)
    for f in data.findings:
        row = describe(data, f)
        w.writerow([neutralise_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


TEXT = {
    "title": "盘点报告 Audit report", "status": "状态 Status", "period": "周期 Period",
    "counts": "发现汇总 Findings by type", "places": "按位置 By place",
    "place": "位置 Place", "registered": "登记 Registered", "seen": "已见 Seen",
    "verified": "核实 Verified", "open": "未决 Open",
    "open_list": "未决发现 Open findings", "resolved": "处理记录 Resolutions",
    "sign": "签字 Signatures", "auditor": "盘点人 Auditor", "manager": "负责人 Manager",
    "date": "日期 Date", "none": "无 None", "zone": "时区 Time zone",
}


def to_pdf(data: ReportData) -> bytes:
    """An A4 report with the Chinese embedded (a subset of the labels' CJK font)."""
    from fpdf import FPDF

    from cmdb.labels.fonts import font_for_text, subset_font_file

    rows = [describe(data, f) for f in data.findings]
    texts = [*TEXT.values(), str(data.campaign.data["name"]), data.clock.label,
             *(p.name for p in data.places),
             *(v for r in rows for v in r.values()), *data.counts, *COLUMNS,
             *(x.value for x in fd.FindingStatus), "0123456789:-/ ()|=>.—–_"]
    chars = "".join(sorted(set("".join(texts))))
    font = font_for_text(chars)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("cjk", fname=str(subset_font_file(font, chars)))
    pdf.set_title(f"Audit report {data.campaign.data['name']}")
    pdf.add_page()
    c = data.campaign.data
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 10, f"{TEXT['title']}: {c['name']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)
    period = f"{c.get('period_start') or '—'} – {c.get('period_end') or '—'}"
    pdf.cell(0, 6, f"{TEXT['status']}: {data.campaign.key}    {TEXT['period']}: {period}"
             f"    {TEXT['zone']}: {data.clock.label}", new_x="LMARGIN", new_y="NEXT")
    heading(pdf, TEXT["counts"])
    table(pdf, [["", *(s.value for s in fd.FindingStatus)],
                *([t, *(str(by[s.value]) for s in fd.FindingStatus)]
                  for t, by in data.counts.items())], [60, 30, 30, 30, 30])
    heading(pdf, TEXT["places"])
    table(pdf, [[TEXT["place"], TEXT["registered"], TEXT["seen"], TEXT["verified"],
                 TEXT["open"]], *([p.name, str(p.registered), str(p.seen), str(p.verified),
                                   str(p.open)] for p in data.places[:200])],
          [60, 30, 30, 30, 30])
    for title, keep in ((TEXT["open_list"], ("open", "carried")), (TEXT["resolved"],
                                                                  ("resolved",))):
        heading(pdf, title)
        chosen = [r for r in rows if r["status"] in keep][:500]
        if not chosen:
            pdf.cell(0, 6, TEXT["none"], new_x="LMARGIN", new_y="NEXT")
            continue
        cols = (["type", "asset_tag", "name", "registered_place", "seen_place", "detail"]
                if keep[0] == "open" else ["type", "asset_tag", "resolution", "resolved_by",
                                           "reason"])
        widths = [34, 22, 30, 28, 28, 48] if keep[0] == "open" else [34, 26, 36, 26, 68]
        table(pdf, [cols, *([r[k] or (seen(r) if k == "detail" else "") for k in cols]
                            for r in chosen)], widths, size=8)
    heading(pdf, TEXT["sign"])
    for who in (TEXT["auditor"], TEXT["manager"]):
        pdf.ln(8)
        pdf.cell(70, 6, f"{who}: ____________________")
        pdf.cell(0, 6, f"{TEXT['date']}: ______________", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def seen(row: dict[str, str]) -> str:
    """A finding's last sighting, when it has no other detail: local time and auditor."""
    return f"{row['seen_at']} {row['seen_by']}".strip()


def heading(pdf: Any, text: str) -> None:
    pdf.ln(4)
    pdf.set_font("cjk", size=13)
    pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)


MAX_CELL_CHARS = 300
"""More characters than any column of the report can show (70 mm at 8 pt is ~90 narrow
glyphs): text is cut to this before it is measured."""


def fit(pdf: Any, text: str, room: float) -> str:
    """The longest beginning of ``text`` that fits ``room`` mm: a binary search over
    lengths, each measured once, on text first cut to ``MAX_CELL_CHARS``. Cutting one
    character at a time and measuring again was quadratic: a 24,000-character reason
    took a quarter of a minute."""
    text = text[:MAX_CELL_CHARS]
    if pdf.get_string_width(text) <= room:
        return text
    fits, too_long = 0, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if pdf.get_string_width(text[:middle]) <= room:
            fits = middle
        else:
            too_long = middle
    return text[:fits]


def table(pdf: Any, rows: list[list[str]], widths: list[int], size: int = 9) -> None:
    """A plain table: a shaded header row, thin borders, text cut to its column."""
    pdf.set_font("cjk", size=size)
    for i, row in enumerate(rows):
        pdf.set_fill_color(232, 237, 243)
        for text, width in zip(row, widths, strict=False):
            pdf.cell(width, 6, fit(pdf, text, width - 2), border=1, fill=i == 0)
        pdf.ln(6)
