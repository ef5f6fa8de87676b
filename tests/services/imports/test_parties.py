"""People and teams a register names (责任人, 使用部门, 管理部门) become OWNED_BY / MANAGED_BY
relationships to Person and Team CIs, through the real sheet importers (GBK CSV and
XLSX written as people write them), on both stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from cmdb.model.records import CI, Actor, Relationship
from cmdb.model.registry import DEFAULT_SCHEMA_DIR
from cmdb.services import Cmdb
from cmdb.services.imports.records import ImportRun
from cmdb.services.imports.service import ImportRequest, ImportService
from cmdb.services.imports.sources import load_sources
from tests.services.cis.test_cis import snapshot

HEADER = "资产编号,名称,类别,责任人,使用部门,管理部门,状态"
#: A register as a department keeps it: stray spaces, a login in capitals, a nickname,
#: a full-width login, a name two people share, two people nobody registered, "无".
REGISTER = [
    "BJ-1001,财务服务器,服务器, ZHANGSAN ,财务部,IT部,在用",
    "BJ-1002,研发服务器,服务器,李 四,研发部, 信息技术部 ,在用",
    "BJ-1003,测试服务器,服务器,老王,研发部,,在用",
    "BJ-1004,财务部打印机,打印机,王伟,财务部,,在用",
    "BJ-1005,研发笔记本,笔记本,赵六,研发部,,在用",
    "BJ-1006,行政台式机,台式机,赵六 ,行政部,,在用",
    "BJ-1007,备用笔记本,笔记本,ｚｈａｎｇｓａｎ,,,闲置",
    "BJ-1008,会议室交换机,网络设备,无,,,在用",
]


def gbk_sheet(path: Path, rows: list[str]) -> Path:
    """A CSV as Excel on Chinese Windows saves it: GBK, CRLF."""
    path.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode("gbk"))
    return path


async def people(cmdb: Cmdb, actor: Actor) -> dict[str, CI]:
    """The people and teams already registered."""
    made: dict[str, CI] = {}
    for key, cls, name, attrs in [
        ("张三", "Person", "张三", {"login": "zhangsan", "employee_id": "E001"}),
        ("李四", "Person", "李四", {"employee_id": "E002"}),
        ("王五", "Person", "王五", {"aliases": ["老王", "Wang Wu"]}),
        ("王伟1", "Person", "王伟", {"employee_id": "E101"}),
        ("王伟2", "Person", "王伟", {"employee_id": "E102"}),
        ("财务部", "Team", "财务部", {}),
        ("信息技术部", "Team", "信息技术部", {"aliases": ["IT部", "信息中心"]}),
        ("行政部", "Team", "行政部", {}),
    ]:
        made[key] = await cmdb.cis.create(actor, {"class_name": cls, "name": name,
                                                  "state": "deployed", "attributes": attrs})
    return made


def importing(cmdb: Cmdb, folder: Path, old: str, new: str) -> ImportService:
    """Imports under the packaged sources.yaml with ``old`` replaced by ``new``."""
    text = (DEFAULT_SCHEMA_DIR / "sources.yaml").read_text(encoding="utf-8")
    assert old in text
    (folder / "sources.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return ImportService(cmdb.store, cmdb.registry, cmdb.cis,
                         load_sources(folder, cmdb.registry))


async def run(cmdb: Cmdb, path: Path, source: str = "csv", **kw: Any) -> ImportRun:
    return await cmdb.imports.run("importer", ImportRequest(source, path, **kw))


async def rows(cmdb: Cmdb, run: ImportRun) -> dict[str, dict[str, Any]]:
    """The run's outcomes by asset tag."""
    docs, _ = await cmdb.imports.outcomes(run.id, first=500)
    return {d.as_json()["observation"]["asset_tag"]: d.as_json() for d in docs}


def links(row: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {p["field"]: (p["outcome"], p.get("party_name")) for p in row["parties"]}


async def targets(cmdb: Cmdb, tag: str, rel_type: str) -> list[str]:
    ci = await cmdb.store.find_ci_by_asset_tag(tag)
    assert ci is not None, tag
    rels = (await cmdb.store.relationships_of([ci.id], "out", [rel_type]))[ci.id]
    found = await cmdb.store.get_cis([r.target_id for r in rels])
    return sorted(found[r.target_id].name for r in rels)


async def named(cmdb: Cmdb, cls: str, name: str) -> list[CI]:
    return [c async for c in cmdb.store.iter_all("cis")
            if c.class_name == cls and c.name == name]


async def test_a_register_links_people_and_teams_by_login_name_and_alias(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    known = await people(cmdb, actor)
    run_ = await run(cmdb, gbk_sheet(tmp_path / "资产登记表.csv", REGISTER))
    by_tag = await rows(cmdb, run_)
    assert links(by_tag["BJ-1001"]) == {"owner": ("LINKED", "张三"),  # by login
                                        "department": ("LINKED", "财务部"),
                                        "managing_department": ("LINKED", "信息技术部")}
    assert links(by_tag["BJ-1002"]) == {"owner": ("LINKED", "李四"),  # name, stray space
                                        "department": ("CREATED", "研发部"),
                                        "managing_department": ("LINKED", "信息技术部")}
    assert links(by_tag["BJ-1003"])["owner"] == ("LINKED", "王五")  # by alias
    assert links(by_tag["BJ-1007"])["owner"] == ("LINKED", "张三")  # full-width login
    assert links(by_tag["BJ-1005"])["owner"] == ("CREATED", "赵六")
    assert links(by_tag["BJ-1006"])["owner"] == ("LINKED", "赵六")
    assert "parties" not in by_tag["BJ-1008"] or by_tag["BJ-1008"]["parties"] == []
    # A name two people share links nobody and names both.
    (ambiguous,) = [p for p in by_tag["BJ-1004"]["parties"] if p["field"] == "owner"]
    assert ambiguous["outcome"] == "AMBIGUOUS"
    assert sorted(ambiguous["candidates"]) == sorted([known["王伟1"].id, known["王伟2"].id])
    assert known["王伟1"].id in ambiguous["reason"]
    assert "2 Person CIs match '王伟' by name" in ambiguous["reason"]
    assert await targets(cmdb, "BJ-1004", "OWNED_BY") == []
    # The relationships, and each person or team nobody had registered made once.
    assert await targets(cmdb, "BJ-1001", "OWNED_BY") == ["张三"]
    assert await targets(cmdb, "BJ-1001", "MANAGED_BY") == ["信息技术部", "财务部"]
    assert await targets(cmdb, "BJ-1002", "OWNED_BY") == ["李四"]
    assert await targets(cmdb, "BJ-1003", "OWNED_BY") == ["王五"]
    assert await targets(cmdb, "BJ-1005", "OWNED_BY") == ["赵六"]
    assert await targets(cmdb, "BJ-1006", "OWNED_BY") == ["赵六"]
    assert await targets(cmdb, "BJ-1007", "OWNED_BY") == ["张三"]
    assert await targets(cmdb, "BJ-1008", "OWNED_BY") == []
    assert len(await named(cmdb, "Person", "赵六")) == 1
    assert len(await named(cmdb, "Team", "研发部")) == 1
    assert run_.parties == {"AMBIGUOUS": 1, "CREATED": 2, "LINKED": 12}
    # Each link is history of the run, attributed to it and to the column that made it.
    ci = await cmdb.store.find_ci_by_asset_tag("BJ-1001")
    assert ci is not None
    rels = (await cmdb.store.relationships_of([ci.id], "out", ["MANAGED_BY"]))[ci.id]
    assert sorted(r.attributes["field"] for r in rels) == ["department",
                                                           "managing_department"]
    assert {r.attributes["source"] for r in rels} == {"csv"}
    related = [h for h in (await cmdb.store.history(run_id=run_.id, first=500)).items
               if h.action.value == "related" and h.entity_id in {r.id for r in rels}]
    assert len(related) == 2


async def test_importing_the_same_register_again_changes_nothing(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    await people(cmdb, actor)
    sheet = gbk_sheet(tmp_path / "资产登记表.csv", REGISTER)
    await run(cmdb, sheet)
    before = await snapshot(cmdb)
    again = await run(cmdb, sheet)
    assert (await cmdb.store.history(run_id=again.id)).items == []
    assert await snapshot(cmdb) == before
    by_tag = await rows(cmdb, again)
    # Linked rows are plain matches; the shared name stays ambiguous, and says so.
    assert {t: r["outcome"] for t, r in by_tag.items() if t != "BJ-1004"} == dict.fromkeys(
        ["BJ-1001", "BJ-1002", "BJ-1003", "BJ-1005", "BJ-1006", "BJ-1007", "BJ-1008"],
        "MATCHED")
    # Unchanged links are counted, not listed: a plain MATCHED row says nothing more.
    assert by_tag["BJ-1002"]["parties"] == []
    assert by_tag["BJ-1004"]["outcome"] == "MATCHED_WITH_DIFFERENCES"
    assert again.parties == {"AMBIGUOUS": 1, "UNCHANGED": 14}


async def test_a_new_owner_ends_the_old_link_and_keeps_links_made_by_hand(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    known = await people(cmdb, actor)
    security = await cmdb.cis.create(actor, {"class_name": "Team", "name": "安全组"})
    sheet = gbk_sheet(tmp_path / "资产登记表.csv", REGISTER[:1])
    await run(cmdb, sheet)
    ci = await cmdb.store.find_ci_by_asset_tag("BJ-1001")
    assert ci is not None
    await cmdb.cis.relate(actor, ci.id, "MANAGED_BY", security.id)
    old: list[Relationship] = [
        r for r in (await cmdb.store.relationships_of([ci.id], "out"))[ci.id]
        if r.type in ("OWNED_BY", "MANAGED_BY")]
    # 张三 hands the server to 李四, and it moves from 财务部 to 行政部.
    gbk_sheet(sheet, ["BJ-1001,财务服务器,服务器,李四,行政部,IT部,在用"])
    change = await run(cmdb, sheet)
    assert await targets(cmdb, "BJ-1001", "OWNED_BY") == ["李四"]
    assert await targets(cmdb, "BJ-1001", "MANAGED_BY") == ["信息技术部", "安全组", "行政部"]
    ended = {r.id: r for r in (await cmdb.store.get_relationships([r.id for r in old]))
             .values() if r.ended_at is not None}
    assert sorted(r.target_id for r in ended.values()) == sorted(
        [known["张三"].id, known["财务部"].id])
    history = (await cmdb.store.history(run_id=change.id, first=50)).items
    assert sorted((h.action.value, h.entity_id) for h in history
                  if h.entity_id in ended) == sorted(("unrelated", i) for i in ended)
    assert sorted(h.action.value for h in history) == [
        "related", "related", "unrelated", "unrelated", "updated"]  # + custodian text
    row = (await rows(cmdb, change))["BJ-1001"]
    assert row["outcome"] == "MATCHED_WITH_DIFFERENCES"
    owner = next(d for d in row["differences"] if d["field"] == "OWNED_BY:owner")
    assert (owner["registered"], owner["observed"], owner["applied"]) == ("张三", "李四", True)
    assert links(row)["owner"] == ("LINKED", "李四")


async def test_a_dry_run_reports_links_and_creations_and_writes_nothing(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    await people(cmdb, actor)
    before = await snapshot(cmdb)
    preview = await run(cmdb, gbk_sheet(tmp_path / "资产登记表.csv", REGISTER), dry_run=True)
    assert await snapshot(cmdb) == before
    assert preview.parties == {"AMBIGUOUS": 1, "CREATED": 2, "LINKED": 12}
    by_tag = await rows(cmdb, preview)
    assert links(by_tag["BJ-1005"])["owner"] == ("CREATED", "赵六")
    assert links(by_tag["BJ-1001"])["owner"] == ("LINKED", "张三")


async def test_a_name_nobody_has_is_unresolved_when_the_run_may_not_create_people(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    await people(cmdb, actor)
    imports = importing(cmdb, tmp_path, "    class: Person\n    relationship: OWNED_BY\n",
                        "    class: Person\n    relationship: OWNED_BY\n    create: false\n")
    sheet = gbk_sheet(tmp_path / "资产登记表.csv", REGISTER)
    done = await imports.run("importer", ImportRequest("csv", sheet))
    docs, _ = await imports.outcomes(done.id, first=50)
    by_tag = {d.as_json()["observation"]["asset_tag"]: d.as_json() for d in docs}
    (unresolved,) = [p for p in by_tag["BJ-1005"]["parties"] if p["field"] == "owner"]
    assert unresolved["outcome"] == "UNRESOLVED"
    assert unresolved["column"] == "责任人 (D)"
    assert unresolved["reason"].startswith("line 6, column 责任人 (D): no Person is named '赵六'")
    assert await named(cmdb, "Person", "赵六") == []
    assert await targets(cmdb, "BJ-1005", "OWNED_BY") == []
    # The team column may still create: 研发部 is registered once.
    assert len(await named(cmdb, "Team", "研发部")) == 1
    assert (done.parties or {})["UNRESOLVED"] == 2


async def test_a_link_set_by_a_stronger_source_is_kept(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    known = await people(cmdb, actor)
    imports = importing(cmdb, tmp_path, "  csv: &sheet\n    priority: 100\n",
                        "  csv: &sheet\n    priority: 50\n")
    server = await cmdb.cis.create(actor, {"class_name": "Server", "name": "财务服务器",
                                           "asset_tag": "BJ-1001"})
    await cmdb.cis.relate(actor, server.id, "OWNED_BY", known["李四"].id)  # by hand
    sheet = gbk_sheet(tmp_path / "资产登记表.csv", REGISTER[:1])
    done = await imports.run("importer", ImportRequest("csv", sheet))
    docs, _ = await imports.outcomes(done.id, first=50)
    owner = next(p for p in docs[0].as_json()["parties"] if p["field"] == "owner")
    assert owner["outcome"] == "REFUSED"
    assert "by hand" in owner["reason"]
    assert await targets(cmdb, "BJ-1001", "OWNED_BY") == ["李四"]


async def test_whom_to_notify_and_the_label_name_the_linked_owner(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    await people(cmdb, actor)
    await run(cmdb, gbk_sheet(tmp_path / "资产登记表.csv", REGISTER))
    server = await cmdb.store.find_ci_by_asset_tag("BJ-1001")
    assert server is not None
    app = await cmdb.cis.create(actor, {"class_name": "Application", "name": "总账系统"})
    await cmdb.cis.relate(actor, app.id, "RUNS_ON", server.id)
    report = await cmdb.impact.impact([server.id])
    notify = {n.party.name: (n.roles, [c.name for c in n.cis]) for n in report.notify}
    assert notify == {"张三": (["OWNED_BY"], ["财务服务器"]),
                      "财务部": (["MANAGED_BY"], ["财务服务器"]),
                      "信息技术部": (["MANAGED_BY"], ["财务服务器"])}
    (label,) = await cmdb.labels.label_data([server])
    assert label.owner == "张三"


async def test_an_xlsx_register_with_its_own_department_headers(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    await people(cmdb, actor)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "固定资产"
    ws.append(["资产编号*", "资产名称", "资产类别", "使用人", "归口管理部门", "使用状态"])
    ws.append(["SH-0001", "上海服务器", "服务器", "王五 ", "信息中心", "在用"])
    ws.append(["SH-0002", "上海笔记本", "笔记本", "Wang Wu", None, "在用"])
    ws.append(["SH-0003", "上海打印机", "打印机", " 王伟", "财务部", "在用"])
    wb.save(tmp_path / "上海资产.xlsx")
    done = await run(cmdb, tmp_path / "上海资产.xlsx", "xlsx")
    assert await targets(cmdb, "SH-0001", "OWNED_BY") == ["王五"]
    assert await targets(cmdb, "SH-0001", "MANAGED_BY") == ["信息技术部"]
    assert await targets(cmdb, "SH-0002", "OWNED_BY") == ["王五"]
    assert await targets(cmdb, "SH-0003", "MANAGED_BY") == ["财务部"]
    by_tag = await rows(cmdb, done)
    (shared,) = [p for p in by_tag["SH-0003"]["parties"] if p["field"] == "owner"]
    assert (shared["outcome"], shared["column"]) == ("AMBIGUOUS", "使用人 (D)")


async def test_a_team_linked_by_hand_or_named_by_two_columns_is_linked_once(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    known = await people(cmdb, actor)
    server = await cmdb.cis.create(actor, {"class_name": "Server", "name": "财务服务器",
                                           "asset_tag": "BJ-1001"})
    await cmdb.cis.relate(actor, server.id, "MANAGED_BY", known["财务部"].id)  # by hand
    sheet = gbk_sheet(tmp_path / "资产登记表.csv", [
        "BJ-1001,财务服务器,服务器,张三,财务部,财务部,在用",
        "BJ-1002,研发服务器,服务器,李四,信息技术部,信息中心,在用"])
    done = await run(cmdb, sheet)
    by_tag = await rows(cmdb, done)
    # Both team columns name the team the server is already managed by: unchanged.
    assert links(by_tag["BJ-1001"]) == {"owner": ("LINKED", "张三")}
    assert links(by_tag["BJ-1002"])["managing_department"] == ("LINKED", "信息技术部")
    assert done.parties == {"LINKED": 4, "UNCHANGED": 2}
    assert await targets(cmdb, "BJ-1001", "MANAGED_BY") == ["财务部"]
    assert await targets(cmdb, "BJ-1002", "MANAGED_BY") == ["信息技术部"]
    again = await run(cmdb, sheet)
    assert (await cmdb.store.history(run_id=again.id)).items == []
