"""The campaign report PDF an auditor signs, read back with pdfium on each store: the
audit's codes and columns in the report's language, numbered pages, headings kept with
what follows them, long text wrapped (or ended with "…", never cut silently).

Estate (see ``audit_estate``): BJ-0001..6 in rack A01 of 北京总部/3楼机房, BJ-0007 in
北京总部/2楼办公室; the scan file of the inspection walk, a "seen here" on a phone.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pypdfium2
import pytest

from cmdb.model.records import Actor, Channel
from cmdb.services import Cmdb
from cmdb.services.audit.recording import scan_file_sightings
from cmdb.services.audit.report import (
    MAX_LINES,
    MAX_LISTED,
    Layout,
    close_fonts,
    gather,
    to_pdf,
    units,
)
from cmdb.services.audit.service import CampaignInput
from cmdb.services.audit.sightings import DiscoveryOutcome, SightingInput
from cmdb.services.audit.values import OpenFindings, Resolution
from tests.services.audit.estate import build_estate, write_scans

AUDITOR = Actor(name="陈七", channel=Channel.AUDIT)

CODES = re.compile(r"VERIFIED|MISPLACED|ATTRIBUTE_MISMATCH|UNREGISTERED|AMBIGUOUS|DUPLICATE"
                   r"|MISSING|ACCEPT_OBSERVED|KEEP_REGISTERED|REGISTER_NEW|MARK_LOST"
                   r"|MERGE_DUPLICATES|asset_tag|registered_place|seen_place|resolved_by"
                   r"|os_version|\bcondition\b|\b(?:ok|open|resolved|carried)\b")


def pages(pdf: bytes) -> list[str]:
    """Each page's text, white space folded (pdfium breaks lines where cells wrap)."""
    doc = pypdfium2.PdfDocument(pdf)
    return [re.sub(r"\s+", " ", doc[i].get_textpage().get_text_range())
            for i in range(len(doc))]


def joined(page: str) -> str:
    return re.sub(r"\s+", "", page)


async def audited(cmdb: Cmdb, tmp_path: Path) -> str:
    """An audit of every kind of finding: the scan walk (MISPLACED, a condition, an
    unregistered tag), a phone's "seen here" in English ("damaged"), an agent reporting
    another OS version, close (MISSING), one resolution."""
    estate = await build_estate(cmdb, AUDITOR)
    a = estate.assets
    doc = await cmdb.campaigns.create(AUDITOR, CampaignInput(
        "2026 H2 北京", [estate.places["bj"].id], ["Server", "Laptop"]))
    await cmdb.campaigns.open(AUDITOR, doc.id)
    await cmdb.campaigns.record_sightings(
        AUDITOR, scan_file_sightings(write_scans(tmp_path)), "scan")
    await cmdb.campaigns.record_sightings(AUDITOR, [SightingInput(
        "BJ-0004", estate.places["a01"].id, condition="damaged")], "page")
    await cmdb.campaigns.record_discovery(AUDITOR, "run-1", [DiscoveryOutcome(
        "MATCHED_WITH_DIFFERENCES", "serial SN-BJ-3", [a["BJ-0003"].id],
        [("os_version", "CentOS 7.9", "Rocky Linux 9.4")])])
    await cmdb.campaigns.close(AUDITOR, doc.id, OpenFindings.LEAVE_OPEN)
    misplaced, _ = await cmdb.campaigns.findings(doc.id, "MISPLACED")
    await cmdb.resolutions.resolve(AUDITOR, misplaced[0].id, Resolution.ACCEPT_OBSERVED,
                                   "五月搬迁")
    return doc.id


async def test_report_names_codes_and_columns_in_its_language(cmdb: Cmdb,
                                                               tmp_path: Path) -> None:
    data = await gather(cmdb, await audited(cmdb, tmp_path))

    zh = " ".join(pages(to_pdf(data, "zh-CN")))
    for word in ("盘点报告：2026 H2 北京", "状态：已结束", "发现汇总", "各位置进度", "未决发现",
                 "处理记录", "签字", "发现类型", "资产编号", "登记位置", "所见位置", "差异",
                 "处理方式", "处理人", "原因", "位置不符", "属性不符", "未登记", "未找到",
                 "已核实", "采纳所见", "状况：— → 外观破损", "状况：— → 外壳破损",
                 "系统版本：CentOS 7.9 → Rocky Linux 9.4", "五月搬迁", "第 1 页 / 共 1 页"):
        assert word in zh, word
    assert not CODES.findall(zh), CODES.findall(zh)
    assert "Signatures" not in zh

    en = " ".join(pages(to_pdf(data, "en")))
    for word in ("Audit report: 2026 H2 北京", "Status: Closed", "Findings by type",
                 "Open findings", "Resolutions", "Signatures", "Finding", "Asset tag",
                 "Registered place", "Seen at", "Resolved by", "Misplaced",
                 "Attribute mismatch", "Unregistered", "Missing", "Verified",
                 "Accept what was seen", "Condition: — → Damaged",
                 "OS version: CentOS 7.9 → Rocky Linux 9.4", "Page 1 of 1"):
        assert word in en, word
    assert not CODES.findall(en), CODES.findall(en)
    assert "签字" not in en


async def unregistered(cmdb: Cmdb, campaign_id: str, place: str, tags: range) -> None:
    await cmdb.campaigns.record_sightings(AUDITOR, [
        SightingInput(f"ZC-{i:05d}", place, condition="完好") for i in tags], "scan")


async def walk(cmdb: Cmdb, racks: tuple[str, ...] = ()) -> tuple[str, str]:
    """A campaign over one machine room (and its ``racks``), where the auditors found
    unregistered assets: the campaign's id and the room's path."""
    site = await cmdb.cis.create(AUDITOR, {"class_name": "Site", "name": "北京总部"})
    room = await cmdb.cis.create(AUDITOR, {"class_name": "Room", "name": "3楼机房",
                                           "location_id": site.id})
    for name in racks:
        await cmdb.cis.create(AUDITOR, {"class_name": "Rack", "name": name,
                                        "location_id": room.id})
    doc = await cmdb.campaigns.create(AUDITOR, CampaignInput("2026 H2 北京", [site.id]))
    await cmdb.campaigns.open(AUDITOR, doc.id)
    return doc.id, "北京总部/3楼机房"


async def test_every_page_says_its_number_and_the_total(cmdb: Cmdb) -> None:
    campaign_id, room = await walk(cmdb)
    await unregistered(cmdb, campaign_id, room, range(120))
    data = await gather(cmdb, campaign_id)
    for lang, template in (("zh-CN", "第 {} 页 / 共 {} 页"), ("en", "Page {} of {}")):
        text = pages(to_pdf(data, lang))
        assert len(text) >= 3
        for number, page in enumerate(text, start=1):
            assert template.format(number, len(text)) in page, (lang, number, page[-80:])


async def test_a_list_cut_short_says_how_many_rows_it_leaves_out(cmdb: Cmdb) -> None:
    campaign_id, room = await walk(cmdb)
    await unregistered(cmdb, campaign_id, room, range(MAX_LISTED + 3))
    data = await gather(cmdb, campaign_id)
    zh = joined(" ".join(pages(to_pdf(data, "zh-CN"))))
    assert zh.count("未登记ZC-") == MAX_LISTED
    assert "另有3行未列出，详见CSV报告。" in zh
    en = " ".join(pages(to_pdf(data, "en")))
    assert "3 more rows not listed here: see the CSV report." in en


async def test_headings_and_signatures_stay_with_what_follows_them(cmdb: Cmdb) -> None:
    """Open findings grow one at a time past the first page's end, pushing the
    resolutions' heading and then the signature block over it: each heading is on the
    page of its table's header and first row, both signature lines on the page of
    their heading."""
    campaign_id, room = await walk(cmdb)
    await unregistered(cmdb, campaign_id, room, range(3))
    found, _ = await cmdb.campaigns.findings(campaign_id, first=10)
    await cmdb.resolutions.resolve_many(AUDITOR, [d.id for d in found],
                                        Resolution.KEEP_REGISTERED, "核对后保留登记记录")
    await unregistered(cmdb, campaign_id, room, range(100, 110))
    moved: dict[str, set[int]] = {"resolutions": set(), "signatures": set()}
    for n in range(110, 126):  # 11 to 26 open findings
        await unregistered(cmdb, campaign_id, room, range(n, n + 1))
        text = pages(to_pdf(await gather(cmdb, campaign_id), "zh-CN"))
        [resolutions] = [p for p in text if "处理记录" in p]
        assert "处理方式" in resolutions, n
        assert "核对后保留登记记录" in resolutions, n  # its first row
        [signatures] = [p for p in text if "签字" in p]
        assert signatures.count("日期：") == 2, n
        assert all("____" not in p for p in text if p is not signatures), n
        moved["resolutions"].add(text.index(resolutions))
        moved["signatures"].add(text.index(signatures))
    # both crossed the first page's end (else the sweep proved nothing)
    assert moved == {"resolutions": {0, 1}, "signatures": {0, 1}}


async def test_a_long_place_name_wraps_whole_and_a_longer_one_ends_with_an_ellipsis(
        cmdb: Cmdb) -> None:
    long = "A区第十二排冷通道封闭机柜组左侧第三个机柜（原财务系统专用，二〇一九年迁入）"
    longer = "B区" + "第十二排冷通道封闭机柜组" * 15
    campaign_id, room = await walk(cmdb, (long, longer))
    await cmdb.campaigns.record_sightings(AUDITOR, [
        SightingInput("ZC-LONG", f"{room}/{long}"),
        SightingInput("ZC-LONGER", f"{room}/{longer}")], "scan")
    text = joined(" ".join(pages(to_pdf(await gather(cmdb, campaign_id), "zh-CN"))))
    # the places' table (a wide column) has both whole, wrapped over lines
    assert long in text
    assert longer in text
    # the findings' 32 mm column: the long one whole, the longer one to the 12th line
    findings = text[text.index("未决发现"):text.index("处理记录")]
    assert f"ZC-LONG{long}" in findings
    assert longer not in findings
    cut = re.search(f"ZC-LONGER({longer[:40]}[^…]*)…", findings)
    assert cut is not None
    assert longer.startswith(cut.group(1))


@pytest.mark.parametrize("text", [
    "北京总部/3楼机房/A01机柜/上层第二个位置（靠近配电柜一侧）" * 3,
    "核对后保留登记记录 kept after checking the register " * 6,
    "supercalifragilisticexpialidocious-host-name-without-any-break " * 2])
def test_wrapping_fills_lines_by_character_width_and_loses_nothing(text: str) -> None:
    from fpdf import FPDF

    from labels.fonts import font_for_text, subset_font_file

    pdf = FPDF()
    pdf.add_font("cjk", fname=str(subset_font_file(font_for_text(text + "…"), text + "…")))
    pdf.add_page()
    pdf.set_font("cjk", size=8)
    try:
        wraps_fully(Layout(pdf), text)
    finally:
        close_fonts(pdf)


def wraps_fully(layout: Layout, text: str) -> None:
    room = 40.0
    lines = layout.wrap(text, room, max_lines=100)
    assert len(lines) > 2
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line, after in itertools.pairwise(lines):
        assert layout.width(line) <= room
        # full: the next line's first word (or CJK character) would not have fitted
        assert layout.width(f"{line} {units(after)[0]}") > room, (line, after)
    cut = layout.wrap(text * 10, room, max_lines=MAX_LINES)
    assert len(cut) == MAX_LINES
    assert cut[-1].endswith("…")
    assert layout.width(cut[-1]) <= room
