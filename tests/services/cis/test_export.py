"""The register export: what it writes imports back unchanged, on both stores; formula
text is neutralised; GB18030 and XLSX read back; memory stays a page's worth."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bench.generate import build_estate, load
from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.records import Actor
from cmdb.services import Cmdb
from cmdb.services.cis.export import (
    COLUMNS,
    CIExport,
    Encoding,
    Format,
    Lang,
    chunks,
    config_list_chunks,
    csv_chunks,
    csv_lines,
    safe_cell,
)
from cmdb.services.cis.inputs import CIFilterInput
from cmdb.services.imports.records import ImportRun
from cmdb.services.imports.service import ImportRequest
from cmdb.store.base import Store

HEADER = ("资产编号,名称,类别,品牌,型号,序列号,MAC地址,IP地址,主机名,位置,责任人,部门,"
          "购置日期,保修到期,状态,备注")
#: A register as people keep it: GBK, stray spaces, a name and notes that a spreadsheet
#: would run as formulas (a pasted HYPERLINK, a phone number, a reading, a mention).
ROWS = [
    " BJ-0001 ,财务部打印机 ,打印机,惠普,LaserJet M404n,CNB1234567,3C-D9-2B-11-22-33,"
    "10.1.2.3,bj-prn-01,北京总部/3楼机房/A01机柜, 张三,财务部,2023/5/6,2026年5月5日,在用,"
    "+86 10 6552 8000 转 8012",
    "BJ-0002,研发服务器,服务器,华为,RH2288H V5,2102311XYZ10K8000123,3cd9.2b11.2234,"
    '"10.1.2.4, fd00::4",BJ-SRV-02,北京总部 / 3楼机房 / A02机柜,李四,研发部,2022.12.1,'
    "2025-12-01,维修中,RAID 卡已更换",
    'BJ-0003,"=HYPERLINK(""http://evil.example/"",""接入交换机"")",网络设备,H3C,S5130-28S,'
    "219801A0ABC,,10.1.2.5,,上海分部/2F/B03,王五,网络部,2021年3月15日,,闲置,-3 dBm 光衰",
    "BJ-0004,张伟的笔记本,笔记本电脑,联想,ThinkPad T14,PF3ABCDE,a4:bb:6d:01:02:03,,"
    "zhangwei-pc,北京总部,张伟,行政部,2023-06-01,,在用,@张伟 领用",
]
REGISTERED = CIFilterInput(classes=["Printer", "Server", "NetworkDevice", "Laptop"])


async def _estate(cmdb: Cmdb, tmp_path: Path, actor: Actor) -> None:
    sheet = tmp_path / "资产台账.csv"
    sheet.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("gbk"))
    done = await cmdb.imports.run("importer", ImportRequest("csv", sheet,
                                                            create_places=True))
    assert counts(done) == {"NEW": 4}
    server = await cmdb.store.find_ci_by_asset_tag("BJ-0002")
    assert server is not None
    # Set by hand: attributes a register has no built-in column for.
    await cmdb.cis.update(actor, server.id, server.version,
                          {"attributes": {"cpu_cores": 32, "memory_gb": 256.5,
                                          "description": "  双路 2U  "}})


def counts(run: ImportRun) -> dict[str, int]:
    return {k: n for k, n in run.counts.items() if n}


async def _differences(cmdb: Cmdb, run: ImportRun) -> list[Any]:
    found, _ = await cmdb.imports.outcomes(run.id, "MATCHED_WITH_DIFFERENCES")
    return [(o.line, o.differences, o.parties) for o in found]


async def _snapshot(store: Store) -> dict[str, Any]:
    cis = {ci.id: (ci.version, ci.name, ci.state, ci.asset_tag, ci.serial_number,
                   ci.attributes) async for ci in store.iter_all("cis")}
    rels = {(r.type, r.source_id, r.target_id, r.version)
            async for r in store.iter_all("relationships") if r.ended_at is None}
    return {"cis": cis, "rels": rels}


async def _bytes(stream: AsyncIterator[bytes]) -> bytes:
    return b"".join([b async for b in stream])


async def _reimport(cmdb: Cmdb, path: Path, source: str, dry_run: bool) -> ImportRun:
    return await cmdb.imports.run("importer", ImportRequest(source, path, dry_run=dry_run))


@pytest.mark.parametrize(("fmt", "lang", "encoding"), [
    ("csv", "zh-CN", "utf-8-sig"), ("csv", "en", "gb18030"), ("xlsx", "zh-CN", "utf-8-sig"),
    ("xlsx", "en", "utf-8-sig")])
async def test_an_export_imports_back_and_changes_nothing(
        cmdb: Cmdb, tmp_path: Path, actor: Actor, fmt: Format, lang: Lang,
        encoding: Encoding) -> None:
    await _estate(cmdb, tmp_path, actor)
    before = await _snapshot(cmdb.store)
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(await _bytes(chunks(export, None, fmt, lang=lang, encoding=encoding)))
    total = len(before["cis"])
    preview = await _reimport(cmdb, path, fmt, dry_run=True)
    assert counts(preview) == {"MATCHED": total}, await _differences(cmdb, preview)
    applied = await _reimport(cmdb, path, fmt, dry_run=False)
    assert counts(applied) == {"MATCHED": total}
    assert await _snapshot(cmdb.store) == before


async def test_the_rows_say_what_the_register_holds(cmdb: Cmdb, tmp_path: Path,
                                                    actor: Actor) -> None:
    await _estate(cmdb, tmp_path, actor)
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
    data = await _bytes(csv_chunks(export, REGISTERED, lang="zh-CN"))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    by_tag = {r["资产编号"]: r for r in rows}
    assert [r["资产编号"] for r in rows] == sorted(by_tag, key=lambda t: by_tag[t]["名称"])
    server = by_tag["BJ-0002"]
    assert (server["名称"], server["类别"], server["状态"], server["品牌"]) == \
        ("研发服务器", "服务器", "维修中", "华为")
    assert server["位置"] == "北京总部/3楼机房/A02机柜"
    assert (server["责任人"], server["部门"]) == ("李四", "研发部")
    assert server["IP地址"] == "10.1.2.4, fd00::4"
    assert server["MAC地址"] == "3c:d9:2b:11:22:34"
    assert (server["attributes.cpu_cores"], server["attributes.memory_gb"]) == ("32", "256.5")
    assert by_tag["BJ-0001"]["责任人"] == "张三"
    english = await _bytes(csv_chunks(export, REGISTERED, lang="en"))
    first = next(csv.DictReader(io.StringIO(english.decode("utf-8-sig"))))
    assert list(first)[:5] == ["Asset tag", "Name", "Class", "State", "Location"]
    assert {r["Manufacturer"] for r in
            csv.DictReader(io.StringIO(english.decode("utf-8-sig")))} == \
        {"HP", "Huawei", "H3C", "Lenovo"}


async def test_formula_text_is_neutralised_in_csv_and_xlsx(cmdb: Cmdb, tmp_path: Path,
                                                           actor: Actor) -> None:
    await _estate(cmdb, tmp_path, actor)
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
    text = (await _bytes(csv_chunks(export, REGISTERED))).decode("utf-8-sig")
    cells = {c for row in csv.reader(io.StringIO(text)) for c in row}
    assert "'=HYPERLINK(\"http://evil.example/\",\"接入交换机\")" in cells
    assert {"'+86 10 6552 8000 转 8012", "'-3 dBm 光衰", "'@张伟 领用"} <= cells
    assert not any(c[:1] in "=+-@" for c in cells if c)
    path = tmp_path / "x.xlsx"
    path.write_bytes(await _bytes(chunks(export, REGISTERED, "xlsx")))
    ws = openpyxl.load_workbook(path).active
    assert ws is not None
    values = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in values if c.data_type == "f"]
    assert "'=HYPERLINK(\"http://evil.example/\",\"接入交换机\")" in {c.value for c in values}


def test_a_value_starting_with_a_quote_survives() -> None:
    """Text that already starts with ' before a formula character gets one more ',
    which the importer takes off: what was stored comes back."""
    from importers.normalise import restore_cell

    for stored in ["=1+1", "'=1+1", "''@x", "plain", "'quoted", "-", "＝全角"]:
        assert restore_cell(safe_cell(stored)) == stored
    assert csv_lines([["=1+1", None, 3.0, 2.5]]) == "'=1+1,,3,2.5\r\n"


async def test_gb18030_is_read_by_the_csv_module_and_xlsx_by_openpyxl(
        cmdb: Cmdb, tmp_path: Path, actor: Actor) -> None:
    await _estate(cmdb, tmp_path, actor)
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
    data = await _bytes(csv_chunks(export, REGISTERED, encoding="gb18030"))
    assert not data.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(data.decode("gb18030"))))
    assert rows[0][:4] == ["资产编号", "名称", "类别", "状态"]
    assert {r[1] for r in rows[1:]} >= {"财务部打印机", "张伟的笔记本"}
    path = tmp_path / "x.xlsx"
    path.write_bytes(await _bytes(chunks(export, REGISTERED, "xlsx", lang="zh-CN")))
    wb = openpyxl.load_workbook(path, read_only=True)
    sheet = wb.active
    assert sheet is not None
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[0][:3] == ["资产编号", "名称", "类别"]
    server = next(r for r in got if r[0] == "BJ-0002")
    assert server[got[0].index("attributes.cpu_cores")] == 32
    wb.close()


async def test_the_config_list_has_a_sheet_per_class_with_relationships(
        cmdb: Cmdb, tmp_path: Path, actor: Actor) -> None:
    await _estate(cmdb, tmp_path, actor)
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
    path = tmp_path / "配置清单.xlsx"
    path.write_bytes(await _bytes(config_list_chunks(export, lang="zh-CN")))
    wb = openpyxl.load_workbook(path)
    # The register's four classes, the places it made and the people and teams it named.
    assert {"打印机", "服务器", "网络设备", "笔记本电脑", "人员", "团队"} <= set(wb.sheetnames)
    servers = [list(r) for r in wb["服务器"].iter_rows(values_only=True)]
    head = servers[0]
    assert head[-2:] == ["关系(出)", "关系(入)"]
    row = servers[1]
    out = row[head.index("关系(出)")]
    assert {"位于: A02机柜", "归属于: 李四", "管理者: 研发部"} <= set(out.split("\n")), out
    people = [list(r) for r in wb["人员"].iter_rows(values_only=True)]
    assert any("研发服务器 (BJ-0002)" in (r[-1] or "") for r in people[1:])
    counts = {name: wb[name].max_row - 1 for name in wb.sheetnames}
    total = sum([await export.count(CISelection(classes=(c,)))
                 for c in cmdb.registry.classes if not cmdb.registry.classes[c].abstract])
    assert sum(counts.values()) == total


async def _big(store: Store, n: int) -> int:
    estate = build_estate(n)
    await load(store, estate, progress=False)
    return len(estate.cis)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
async def test_memory_stays_a_page_and_the_first_rows_come_at_once(cmdb: Cmdb) -> None:
    """5,000 CIs exported 100 at a time: tracemalloc's peak stays far below reading
    them all at once, and rows arrive after a few pages, not after the whole set."""
    total = await _big(cmdb.store, 5000)
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries, page_size=100)
    selection = CISelection()
    sheet = export.sheet(selection)

    tracemalloc.start()
    page = await cmdb.store.list_cis(selection, CIOrder(), total, None)
    whole = csv_lines(await export.rows(page.items, sheet, "en"))
    _size, all_at_once = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del page, whole

    cmdb.store.calls.clear()
    tracemalloc.start()
    seen, reads_at_first_rows = 0, None
    async for block in csv_chunks(export, None, lang="en"):
        seen += block.count(b"\r\n")
        if seen > 1 and reads_at_first_rows is None:
            reads_at_first_rows = cmdb.store.calls["list_cis"]
    _size, streamed = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seen == total + 1
    assert streamed < all_at_once / 4, (streamed, all_at_once)
    pages = -(-total // 100)
    assert reads_at_first_rows is not None
    assert reads_at_first_rows < pages / 4
    assert cmdb.store.calls["list_cis"] == pages


async def test_an_export_of_nothing_still_has_its_headers(cmdb: Cmdb) -> None:
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
    data = await _bytes(csv_chunks(export, CIFilterInput(text="没有这样的设备"), lang="zh-CN"))
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[:len(COLUMNS)] == [c.zh for c in COLUMNS]


async def test_an_edited_export_changes_what_was_edited_and_nothing_else(
        cmdb: Cmdb, tmp_path: Path, actor: Actor) -> None:
    """The id column finds the CI whatever else was edited: a new asset tag is the same
    CI's new tag, a renamed room is the same room."""
    await _estate(cmdb, tmp_path, actor)
    before = await _snapshot(cmdb.store)
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
    text = (await _bytes(csv_chunks(export, None, lang="zh-CN"))).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    head = rows[0]
    tag, name = head.index("资产编号"), head.index("名称")
    laptop = next(r for r in rows if r[tag] == "BJ-0004")
    laptop[tag] = "BJ-0104"
    room = next(r for r in rows if r[name] == "3楼机房")
    room[name] = "三楼机房"
    path = tmp_path / "edited.csv"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode("utf-8-sig"))
    done = await _reimport(cmdb, path, "csv", dry_run=False)
    assert counts(done) == {"MATCHED": len(before["cis"]) - 2,
                            "MATCHED_WITH_DIFFERENCES": 2}, await _differences(cmdb, done)
    after = await _snapshot(cmdb.store)
    assert set(after["cis"]) == set(before["cis"])  # nobody new, nobody lost
    changed = {i for i in before["cis"] if before["cis"][i] != after["cis"][i]}
    assert {after["cis"][i][3] or after["cis"][i][1] for i in changed} == {"BJ-0104",
                                                                         "三楼机房"}


async def test_xlsx_takes_text_xml_cannot_carry(cmdb: Cmdb, actor: Actor,
                                                tmp_path: Path) -> None:
    """A note pasted from a terminal with a vertical tab (openpyxl refuses the character:
    the export leaves it out instead of failing half-way), longer than Excel's cell."""
    await cmdb.cis.create(actor, {"class_name": "Server", "name": "bj-db-01",
                                  "asset_tag": "BJ-0100",
                                  "attributes": {"note": "=主库\x0b备库切换" + "日志" * 20000}})
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
    path = tmp_path / "x.xlsx"
    path.write_bytes(await _bytes(chunks(export, None, "xlsx", lang="en")))
    ws = openpyxl.load_workbook(path).active
    assert ws is not None
    head = [c.value for c in ws[1]]
    row = [c.value for c in ws[2]]
    note = row[head.index("Note")]
    assert note.startswith("'=主库备库切换日志")
    assert len(note) == 32767  # Excel's longest cell


async def test_a_crowded_ci_s_relationships_fit_their_cell(
        cmdb: Cmdb, actor: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rack with 30 servers in it: its incoming cell lists what fits, then how many more."""
    from cmdb.services.cis import export_rows as cis_export_rows

    monkeypatch.setattr(cis_export_rows, "RELATIONSHIP_CELL_CHARS", 200)
    rack = await cmdb.cis.create(actor, {"class_name": "Rack", "name": "A01机柜"})
    for n in range(30):
        await cmdb.cis.create(actor, {"class_name": "Server", "name": f"bj-srv-{n:02d}",
                                      "location_id": rack.id})
    export = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
    path = tmp_path / "config.xlsx"
    path.write_bytes(await _bytes(config_list_chunks(export, lang="zh-CN")))
    racks = [[c.value for c in row] for row in openpyxl.load_workbook(path)["机柜"].iter_rows()]
    cell = racks[1][-1]
    assert len(cell) <= 200 + len("\n… +30")
    shown = cell.split("\n")
    assert shown[0].startswith("位于: bj-srv-")
    assert shown[-1] == f"… +{30 - (len(shown) - 1)}"
