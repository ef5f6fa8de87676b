"""The campaign report a manager signs: counts per finding type and per place, the open
findings, the resolutions with who and why; as CSV (formula-looking cells neutralised)
and as PDF (Chinese embedded with the labels' font discovery, fpdf2)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from cmdb.model.clock import Clock
from cmdb.model.records import CI
from cmdb.model.registry import Registry
from cmdb.services import Cmdb
from cmdb.services.audit import records as rec
from cmdb.services.audit import words as aw
from cmdb.services.audit.records import Campaign, Finding
from cmdb.services.audit.service import ProgressRow
from cmdb.services.audit.values import FindingStatus, FindingType
from importers import neutralise_cell

MAX_ROWS = 5000


@dataclass
class ReportData:
    campaign: Campaign
    counts: dict[str, dict[str, int]]
    places: list[ProgressRow]
    findings: list[Finding]
    cis: dict[str, CI]
    registry: Registry | None = None
    """Names the attributes of ATTRIBUTE_MISMATCH findings (the schema's labels)."""
    #: Times are shown in its zone, which the report names once.
    clock: Clock = field(default_factory=Clock)


async def gather(cmdb: Cmdb, ref: str) -> ReportData:
    """Everything the report says, read once."""
    campaign = await cmdb.campaigns.get(ref)
    counts: dict[str, dict[str, int]] = {}
    for t in FindingType:
        counts[t.value] = {s.value: await rec.count_findings(cmdb.store, campaign.id, s, t)
                           for s in FindingStatus}
    findings: list[Finding] = []
    for status in ("open", "carried", "resolved"):
        found, _ = await cmdb.campaigns.findings(campaign.id, status=status, first=MAX_ROWS)
        findings += found
    ids = {i for f in findings for i in (f.ci_id, f.place_id, f.seen_place_id) if i}
    cis = await cmdb.store.get_cis(sorted(ids)) if ids else {}
    return ReportData(campaign, counts, await cmdb.campaigns.progress(campaign.id), findings,
                      cis, cmdb.registry, cmdb.clock)


def describe(data: ReportData, f: Finding) -> dict[str, str]:
    """One finding as report columns."""
    cis = data.cis
    ci = cis.get(f.ci_id or "")
    place = cis.get(f.place_id or "")
    seen = cis.get(f.seen_place_id or "")
    if f.type is FindingType.UNREGISTERED:
        place = None  # its place is where it was seen: nothing is registered
    ev = f.last_evidence
    r = f.resolution
    what = f.field and f"{f.field}: {f.registered or '—'} -> {f.observed or '—'}"
    return {"type": f.type.value, "status": f.status.value,
            "asset_tag": f.asset_tag or (ci.asset_tag if ci else "") or
            str(f.identity or ""), "name": ci.name if ci else "",
            "registered_place": place.name if place else "",
            "seen_place": seen.name if seen else str(f.seen_place or ""),
            "detail": what or "", "seen_by": str(ev.by or ""),
            "seen_at": data.clock.text(ev.at) or "",
            "resolution": r.how.value if r else "", "resolved_by": r.by if r else "",
            "reason": r.reason if r else ""}


COLUMNS = ["type", "status", "asset_tag", "name", "registered_place", "seen_place", "detail",
           "seen_by", "seen_at", "resolution", "resolved_by", "reason"]


def to_csv(data: ReportData) -> str:
    """Summary lines, then one row per finding needing or having had a decision."""
    out = io.StringIO()
    w = csv.writer(out)
    name = neutralise_cell(data.campaign.name)
    w.writerow(["campaign", name, "status", data.campaign.status, "time_zone",
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


TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "盘点报告", "status": "状态", "period": "周期", "counts": "发现汇总",
        "places": "各位置进度", "place": "位置", "registered": "登记", "seen": "已见",
        "verified": "核实", "open": "未决", "open_list": "未决发现", "resolved": "处理记录",
        "sign": "签字", "auditor": "盘点人", "manager": "负责人", "date": "日期", "none": "无",
        "colon": "：", "more": "另有 {n} 行未列出，详见 CSV 报告。",
        "page": "第 {page} 页 / 共 {pages} 页", "zone": "时区",
    },
    "en": {
        "title": "Audit report", "status": "Status", "period": "Period",
        "counts": "Findings by type", "places": "Progress by place", "place": "Place",
        "registered": "Registered", "seen": "Seen", "verified": "Verified", "open": "Open",
        "open_list": "Open findings", "resolved": "Resolutions", "sign": "Signatures",
        "auditor": "Auditor", "manager": "Manager", "date": "Date", "none": "None",
        "colon": ": ", "more": "{n} more rows not listed here: see the CSV report.",
        "page": "Page {page} of {pages}", "zone": "Time zone",
    },
}
"""The report's own words; the audit's codes and columns come from ``audit_words``."""

MAX_PLACES = 200
MAX_LISTED = 500


def present(data: ReportData, f: Finding, lang: str) -> dict[str, str]:
    """One finding as the report prints it in ``lang``: :func:`describe`'s columns with
    the codes in words and the difference named by the schema's label."""
    row = describe(data, f)
    field = f.field
    if field:
        ci = data.cis.get(f.ci_id or "")
        name = aw.field_label(data.registry, lang, field, ci.class_name if ci else None)
        before = aw.value_text(lang, field, f.registered)
        after = aw.value_text(lang, field, f.observed)
        row["detail"] = f"{name}{TEXT[lang]['colon']}{before} → {after}"
    elif not row.get("detail"):
        row["detail"] = seen(row)
    row["type"] = aw.word(lang, "type", row["type"])
    row["status"] = aw.word(lang, "status", row["status"])
    row["resolution"] = aw.word(lang, "resolution", row["resolution"])
    return row


OPEN_COLUMNS = (("type", 30), ("asset_tag", 24), ("name", 28), ("registered_place", 32),
                ("seen_place", 32), ("detail", 44))
RESOLVED_COLUMNS = (("type", 28), ("asset_tag", 24), ("resolution", 30), ("resolved_by", 26),
                    ("reason", 82))


def to_pdf(data: ReportData, lang: str = "zh-CN") -> bytes:
    """An A4 report in ``lang`` (``zh-CN`` or ``en``) with the Chinese embedded (a subset
    of the labels' CJK font): numbered pages ("第 2 页 / 共 3 页"), long text wrapped (a
    cell past :data:`MAX_LINES` lines ends with "…"), no heading left alone at a page's
    foot and the signatures on one page."""
    from fpdf import FPDF

    from labels.fonts import font_for_text, subset_font_file

    lang = aw.lang_of(lang)
    t = TEXT[lang]
    c = data.campaign
    period = f"{c.period_start or '—'} – {c.period_end or '—'}"
    chosen = {
        "open": [f for f in data.findings if f.is_open],
        "resolved": [f for f in data.findings if f.status is FindingStatus.RESOLVED]}
    rows = {k: [present(data, f, lang) for f in v[:MAX_LISTED]] for k, v in chosen.items()}
    types = [aw.word(lang, "type", x) for x in data.counts]
    statuses = [aw.word(lang, "status", s.value) for s in FindingStatus]
    texts = [*t.values(), *aw.WORDS[lang].values(), c.name, period, data.clock.label,
             *(p.name for p in data.places), *(v for r in rows.values() for x in r
                                               for v in x.values()),
             "0123456789:-/ ()|=>.—–_…→"]
    chars = "".join(sorted(set("".join(texts))))
    font = font_for_text(chars)

    class Numbered(FPDF):
        def footer(self) -> None:
            """The page number, and the count fpdf writes in place of its alias."""
            self.set_y(-BOTTOM + 4)
            self.set_font("cjk", size=8)
            self.cell(0, 5, t["page"].replace("{page}", str(self.page_no()))
                      .replace("{pages}", self.str_alias_nb_pages), align="C")

    pdf = Numbered(format="A4")
    pdf.set_margins(10, 12, 10)
    # Breaks are chosen here (rows whole, headings with what follows), not by fpdf.
    pdf.set_auto_page_break(False, margin=BOTTOM)
    pdf.add_font("cjk", fname=str(subset_font_file(font, chars)))
    pdf.set_title(f"{t['title']} {c.name}")
    pdf.add_page()
    out = Layout(pdf)
    pdf.set_font("cjk", size=16)
    out.lines(f"{t['title']}{t['colon']}{c.name}", 7.5, max_lines=3)
    pdf.set_font("cjk", size=10)
    status = aw.word(lang, "campaign", data.campaign.status)
    out.lines(f"{t['status']}{t['colon']}{status}    {t['period']}{t['colon']}{period}"
              f"    {t['zone']}{t['colon']}{data.clock.label}", 6)
    out.section(t["counts"], [["", *statuses],
                              *([x, *(str(by[s.value]) for s in FindingStatus)]
                                for x, by in zip(types, data.counts.values(), strict=True))],
                [50, 35, 35, 35, 35], numeric_from=1, size=9)
    out.section(t["places"], [[t["place"], t["registered"], t["seen"], t["verified"], t["open"]],
                              *([p.name, str(p.registered), str(p.seen), str(p.verified),
                                 str(p.open)] for p in data.places[:MAX_PLACES])],
                [90, 25, 25, 25, 25], numeric_from=1, size=9,
                more=max(0, len(data.places) - MAX_PLACES), more_text=t["more"])
    for key, title, columns in (("open", t["open_list"], OPEN_COLUMNS),
                                ("resolved", t["resolved"], RESOLVED_COLUMNS)):
        if not rows[key]:
            out.heading(title, 6)
            pdf.cell(0, 6, t["none"], new_x="LMARGIN", new_y="NEXT")
            continue
        out.section(title, [[aw.word(lang, "col", k) for k, _w in columns],
                            *([r[k] for k, _w in columns] for r in rows[key])],
                    [w for _k, w in columns], size=8,
                    more=len(chosen[key]) - len(rows[key]), more_text=t["more"])
    signatures = 2 * (8 + 6)
    out.heading(t["sign"], signatures)
    for who in (t["auditor"], t["manager"]):
        pdf.ln(8)
        pdf.cell(80, 6, f"{who}{t['colon']}____________________")
        pdf.cell(0, 6, f"{t['date']}{t['colon']}______________", new_x="LMARGIN", new_y="NEXT")
    try:
        return bytes(pdf.output())
    finally:
        close_fonts(pdf)


def close_fonts(pdf: Any) -> None:
    """Close the font files of a document: fpdf reads a font lazily and leaves its file
    open until the document is collected."""
    for used in pdf.fonts.values():
        reader = getattr(used, "ttfont", None)
        if reader is not None:
            reader.close()


def seen(row: dict[str, str]) -> str:
    """A finding's last sighting, when it has no other detail: local time and auditor."""
    return f"{row['seen_at']} {row['seen_by']}".strip()


BOTTOM = 14.0
"""The page's foot (mm) below the body: the page number is printed there."""
MAX_LINES = 12
"""Lines a table cell may take; past them the cell ends with "…" (the CSV has it all)."""
MAX_CELL_CHARS = 1500
"""More characters than :data:`MAX_LINES` lines of any column can show: text is cut to
this before it is measured (a 24,000-character reason once took a quarter of a minute)."""
ELLIPSIS = "…"
PAD = 1.0


def breakable(ch: str) -> bool:
    """Chinese, Japanese and Korean text (and full-width forms) may break after any
    character; other text breaks at spaces and after "/"."""
    return ord(ch) >= 0x2E80


class Layout:
    """Text set in lines by measured width, tables whose rows never split, and page
    breaks chosen so that a heading stays with what follows it."""

    def __init__(self, pdf: Any) -> None:
        self.pdf = pdf
        self._widths: dict[tuple[float, str], float] = {}

    @property
    def bottom(self) -> float:
        return float(self.pdf.h) - BOTTOM

    def room_for(self, height: float) -> None:
        """A new page unless ``height`` mm still fit on this one."""
        if self.pdf.get_y() + height > self.bottom:
            self.pdf.add_page()

    def width(self, text: str) -> float:
        size = float(self.pdf.font_size_pt)
        total = 0.0
        for ch in text:
            w = self._widths.get((size, ch))
            if w is None:
                w = self._widths[(size, ch)] = float(self.pdf.get_string_width(ch))
            total += w
        return total

    def wrap(self, text: str, room: float, max_lines: int = MAX_LINES) -> list[str]:
        """``text`` in lines at most ``room`` mm wide; past ``max_lines`` (or
        :data:`MAX_CELL_CHARS`) the last line ends with "…"."""
        flat = " ".join(text.split())
        cut = len(flat) > MAX_CELL_CHARS
        flat = flat[:MAX_CELL_CHARS]
        lines: list[str] = []
        line, used = "", 0.0
        for unit in units(flat):
            w = self.width(unit)
            if used + w <= room:
                line, used = line + unit, used + w
                continue
            if line.strip():
                lines.append(line.rstrip())
            line, used = "", 0.0
            if unit == " ":
                continue
            if w > room:  # a word wider than the column: cut it by characters
                for ch in unit:
                    cw = self.width(ch)
                    if used + cw > room and line:
                        lines.append(line)
                        line, used = "", 0.0
                    line, used = line + ch, used + cw
            else:
                line, used = unit, w
            if len(lines) > max_lines:
                break
        if line.strip():
            lines.append(line.rstrip())
        if len(lines) > max_lines or cut:
            lines = lines[:max_lines]
            last = lines[-1] if lines else ""
            while last and self.width(last + ELLIPSIS) > room:
                last = last[:-1]
            lines[-1:] = [last.rstrip() + ELLIPSIS]
        return lines or [""]

    def lines(self, text: str, height: float, max_lines: int = MAX_LINES) -> None:
        """A paragraph across the page."""
        pdf = self.pdf
        for line in self.wrap(text, pdf.epw, max_lines):
            self.room_for(height)
            pdf.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str, keep: float) -> None:
        """A section heading, on a new page unless ``keep`` mm of what follows it fit
        under it."""
        self.room_for(4 + 8 + keep)
        pdf = self.pdf
        pdf.ln(4)
        pdf.set_font("cjk", size=13)
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)

    def section(self, title: str, rows: list[list[str]], widths: list[int], size: int = 9,
                numeric_from: int | None = None, more: int = 0, more_text: str = "") -> None:
        """A heading and its table (header row repeated on each page it runs onto):
        the heading moves to the next page unless the header and first row fit under
        it; ``more`` rows left out are said after the table."""
        pdf = self.pdf
        pdf.set_font("cjk", size=size)
        line = size * 0.3528 * 1.3
        cells = [[self.wrap(text, w - 2 * PAD) for text, w in zip(row, widths, strict=True)]
                 for row in rows]
        heights = [max(len(x) for x in row) * line + 2 * PAD for row in cells]
        self.heading(title, sum(heights[:2]))
        pdf.set_font("cjk", size=size)
        for i, (row, height) in enumerate(zip(cells, heights, strict=True)):
            if i and pdf.get_y() + height > self.bottom:
                pdf.add_page()
                self.row(cells[0], widths, heights[0], line, numeric_from, header=True)
            self.row(row, widths, height, line, numeric_from, header=i == 0)
        if more:
            pdf.set_font("cjk", size=9)
            self.lines(more_text.format(n=more), 6)
        pdf.set_font("cjk", size=10)

    def row(self, cells: list[list[str]], widths: list[int], height: float, line: float,
            numeric_from: int | None, header: bool) -> None:
        """One table row, each cell's lines drawn together (so its text reads back whole)."""
        pdf = self.pdf
        pdf.set_fill_color(232, 237, 243)
        x, y = float(pdf.l_margin), float(pdf.get_y())
        for i, (lines, w) in enumerate(zip(cells, widths, strict=True)):
            pdf.rect(x, y, w, height, style="DF" if header else "D")
            align = "R" if numeric_from is not None and i >= numeric_from else "L"
            for k, text in enumerate(lines):
                pdf.set_xy(x + PAD, y + PAD + k * line)
                pdf.cell(w - 2 * PAD, line, text, align=align)
            x += w
        pdf.set_xy(pdf.l_margin, y + height)


def units(text: str) -> list[str]:
    """``text`` cut where a line may break: single CJK characters, spaces, and the other
    runs of characters (ending after a "/")."""
    out: list[str] = []
    word = ""
    for ch in text:
        if ch == " " or breakable(ch):
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        else:
            word += ch
            if ch == "/":
                out.append(word)
                word = ""
    if word:
        out.append(word)
    return out
