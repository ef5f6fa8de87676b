"""Import runs on both stores: atomic, idempotent, previewable, attributed to the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cmdb.errors import CmdbError, ImportRejectedError
from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.records import CI, Actor
from cmdb.services import Cmdb
from cmdb.services.imports.records import ImportRun
from cmdb.services.imports.service import ImportRequest
from tests.services.cis.test_cis import snapshot

FIXTURES = Path(__file__).resolve().parents[2] / "importers" / "fixtures"
HOSTILE = FIXTURES / "hostile"
VM_MAC = "02:fc:00:00:00:01"  # the MAC the real agents reported for the test VM
#: A universally administered MAC (a Dell NIC's OUI), for the variant of the real agent
#: file that plays a physical server: the VM's own MAC is locally administered and never
#: identifies.
PHYSICAL_MAC = "b8:ca:3a:6e:41:02"


def physical_variant(tmp_path: Path, name: str = "glpi-vm.xml") -> Path:
    """The real agent file with its NIC's MAC replaced by a physical NIC's."""
    text = (FIXTURES / name).read_text(encoding="utf-8").replace(VM_MAC, PHYSICAL_MAC)
    path = tmp_path / f"physical-{name}"
    path.write_text(text, encoding="utf-8")
    return path


async def run(cmdb: Cmdb, source: str, path: Path, **kw: Any) -> ImportRun:
    return await cmdb.imports.run("importer", ImportRequest(source, path, **kw))


async def outcomes(cmdb: Cmdb, run: ImportRun) -> list[dict[str, Any]]:
    docs, _ = await cmdb.imports.outcomes(run.id, first=500)
    return [d.as_json() for d in docs]


async def by_tag(cmdb: Cmdb, tag: str) -> CI:
    ci = await cmdb.store.find_ci_by_asset_tag(tag)
    assert ci is not None, tag
    return ci


async def place_path(cmdb: Cmdb, ci: CI) -> list[tuple[str, str]]:
    """``[(class, name), ...]`` from the CI's place up to the site."""
    out: list[tuple[str, str]] = []
    current = ci.id
    while True:
        rels = (await cmdb.store.relationships_of([current], "out", ["LOCATED_IN"]))[current]
        if not rels:
            return out
        current = rels[0].target_id
        place = (await cmdb.store.get_cis([current]))[current]
        out.append((place.class_name, place.name))


async def data_snapshot(cmdb: Cmdb) -> Any:
    """The store without the import run records themselves."""
    docs = [d.model_dump() async for d in cmdb.store.iter_all("docs")
            if d.kind not in ("import_run", "import_outcome", "import_outcomes")]
    return (*await snapshot(cmdb), docs)


async def vm_server(cmdb: Cmdb, actor: Actor, **attrs: Any) -> CI:
    """The CI of the VM the real agent files describe: its MAC is locally administered
    (never identifies), so the agents find it by its host name."""
    return await cmdb.cis.create(actor, {"class_name": "Server", "name": "bj-vm-01",
                                         "attributes": {"mac_addresses": [VM_MAC],
                                                        "hostnames": ["vm"], **attrs}})


async def test_gbk_sheet_lands_in_classes_states_and_places(cmdb: Cmdb) -> None:
    run = await run_gbk(cmdb)
    assert run.counts["NEW"] == 3
    assert run.counts["INVALID"] == 1
    assert [(r.line, r.field) for r in run.rejected] == [(5, "mac_addresses")]
    printer, server, switch = [await by_tag(cmdb, t) for t in ("BJ-0001", "BJ-0002", "BJ-0003")]
    assert (printer.class_name, printer.name, printer.state) == ("Printer", "财务部打印机",
                                                                 "deployed")
    assert (server.class_name, server.state) == ("Server", "maintenance")
    assert (switch.class_name, switch.state) == ("NetworkDevice", "in_stock")
    assert server.attributes["mac_addresses"] == ["3c:d9:2b:11:22:34"]
    assert server.attributes["ip_addresses"] == ["10.1.2.4", "fd00::4"]
    # kept as the vendor table names it; what the register wrote stays in provenance
    assert server.attributes["manufacturer"] == "Huawei"
    assert server.provenance["manufacturer"].observed == "华为"
    assert server.attributes["custodian"] == "李四"
    assert server.attributes["purchase_date"] == "2022-12-01"
    assert "serial_number" not in switch.model_dump(exclude_none=True)  # a placeholder
    assert await place_path(cmdb, printer) == [
        ("Rack", "A01机柜"), ("Room", "3楼机房"), ("Site", "北京总部")]
    assert await place_path(cmdb, server) == [
        ("Rack", "A02机柜"), ("Room", "3楼机房"), ("Site", "北京总部")]
    assert await place_path(cmdb, switch) == [
        ("Room", "B03"), ("Building", "2F"), ("Site", "上海分部")]
    sites = await cmdb.store.count_cis(CISelection(classes=("Site",)))
    assert sites == 2  # the second row reused 北京总部 and 3楼机房
    assert server.provenance["state"].source == "csv"
    assert server.provenance["state"].run_id == run.id
    history = (await cmdb.store.history(run_id=run.id, first=500)).items
    assert history
    assert {h.channel.value for h in history} == {"import"}


async def run_gbk(cmdb: Cmdb, **kw: Any) -> ImportRun:
    options: dict[str, Any] = {"create_places": True, "apply_valid_only": True, **kw}
    return await run(cmdb, "csv", FIXTURES / "inventory-gbk.csv", **options)


async def test_same_sheet_twice_changes_nothing(cmdb: Cmdb) -> None:
    await run_gbk(cmdb)
    before = await data_snapshot(cmdb)
    second = await run_gbk(cmdb)
    assert second.counts["MATCHED"] == 3
    assert second.counts["MATCHED_WITH_DIFFERENCES"] == 0
    assert await data_snapshot(cmdb) == before
    assert (await cmdb.store.history(run_id=second.id)).items == []


async def test_same_agent_inventory_twice_changes_nothing(cmdb: Cmdb, actor: Actor) -> None:
    server = await vm_server(cmdb, actor)
    first = await run(cmdb, "glpi", FIXTURES / "glpi-vm.xml")
    [out] = await outcomes(cmdb, first)
    assert (out["outcome"], out["ci_id"], out["matched_by"]) == (
        "MATCHED_WITH_DIFFERENCES", server.id, "hostnames")
    installed = (await cmdb.store.relationships_of([server.id], "in", ["INSTALLED_ON"]))
    assert len(installed[server.id]) == 20
    products = await cmdb.store.count_cis(CISelection(classes=("SoftwareProduct",)))
    assert products == 20
    after = (await cmdb.store.get_cis([server.id]))[server.id]
    assert after.attributes["os_name"] == "Debian GNU/Linux 12 (bookworm)"
    assert after.attributes["last_seen_glpi"] == "2026-11-25T04:10:46+00:00"
    assert after.provenance["os_name"].source == "glpi"
    before = await data_snapshot(cmdb)
    second = await run(cmdb, "glpi", FIXTURES / "glpi-vm.xml")
    assert second.counts["MATCHED"] == 1
    assert await data_snapshot(cmdb) == before


async def test_vanished_software_is_retired_and_none_duplicated(
    cmdb: Cmdb, actor: Actor, tmp_path: Path
) -> None:
    server = await vm_server(cmdb, actor)
    await run(cmdb, "glpi", FIXTURES / "glpi-vm.xml")
    text = (FIXTURES / "glpi-vm.xml").read_text(encoding="utf-8")
    start = text.index("<SOFTWARES>")
    end = text.index("</SOFTWARES>", start) + len("</SOFTWARES>")
    smaller = tmp_path / "glpi-vm.xml"
    smaller.write_text(text[:start] + text[end:], encoding="utf-8")
    run2 = await run(cmdb, "glpi", smaller)
    [out] = await outcomes(cmdb, run2)
    removed = [d for d in out["differences"] if d["field"] == "software"]
    assert len(removed) == 1
    assert removed[0]["observed"] is None
    installed = (await cmdb.store.relationships_of([server.id], "in", ["INSTALLED_ON"]))
    assert len(installed[server.id]) == 19
    retired = await cmdb.store.count_cis(CISelection(classes=("SoftwareInstallation",),
                                                     states=("retired",)))
    assert retired == 1
    await run(cmdb, "glpi", FIXTURES / "glpi-vm.xml")  # it came back: a new installation
    installed = (await cmdb.store.relationships_of([server.id], "in", ["INSTALLED_ON"]))
    assert len(installed[server.id]) == 20
    assert await cmdb.store.count_cis(CISelection(classes=("SoftwareProduct",))) == 20


async def test_vm_with_empty_bios_serial_matches_by_mac_only(
    cmdb: Cmdb, actor: Actor, tmp_path: Path
) -> None:
    """The agent reports an empty BIOS serial: it must never match a CI by serial."""
    server = await cmdb.cis.create(actor, {"class_name": "Server", "name": "bj-vm-01",
                                           "attributes": {"mac_addresses": [PHYSICAL_MAC]}})
    await cmdb.cis.create(actor, {"class_name": "Server", "name": "no-serial"})
    for source, name in (("glpi", "glpi-vm.xml"), ("ocs", "ocs-vm.ocs"),
                         ("lshw", "lshw-vm.json")):
        path = physical_variant(tmp_path, name)
        [out] = await outcomes(cmdb, await run(cmdb, source, path, dry_run=True))
        assert out["ci_id"] == server.id, source
        assert out["matched_by"] == "mac_addresses", source
        assert out["observation"].get("serial_number") is None


async def test_a_locally_administered_mac_never_identifies(cmdb: Cmdb, actor: Actor) -> None:
    """The real VM's MAC (02:fc:..) is locally administered: held by a CI, it finds
    nothing; the agent file is NEW (by its host name, once a CI has it: MATCHED)."""
    await cmdb.cis.create(actor, {"class_name": "Server", "name": "bj-vm-01",
                                  "attributes": {"mac_addresses": [VM_MAC]}})
    for source, name in (("glpi", "glpi-vm.xml"), ("ocs", "ocs-vm.ocs"),
                         ("lshw", "lshw-vm.json")):
        [out] = await outcomes(cmdb, await run(cmdb, source, FIXTURES / name, dry_run=True))
        assert (out["outcome"], out["ci_id"]) == ("NEW", None), source
    server = await vm_server(cmdb, actor)
    [out] = await outcomes(cmdb, await run(cmdb, "glpi", FIXTURES / "glpi-vm.xml",
                                           dry_run=True))
    assert (out["ci_id"], out["matched_by"]) == (server.id, "hostnames")


async def test_two_cis_sharing_a_mac_make_it_ambiguous(
    cmdb: Cmdb, actor: Actor, tmp_path: Path
) -> None:
    a = await cmdb.cis.create(actor, {"class_name": "Server", "name": "bj-srv-01",
                                      "attributes": {"mac_addresses": [PHYSICAL_MAC]}})
    b = await cmdb.cis.create(actor, {"class_name": "VirtualMachine", "name": "clone",
                                      "attributes": {"mac_addresses": [PHYSICAL_MAC]}})
    before = await snapshot(cmdb)
    result = await run(cmdb, "glpi", physical_variant(tmp_path))
    [out] = await outcomes(cmdb, result)
    assert out["outcome"] == "AMBIGUOUS"
    assert sorted(out["candidates"]) == sorted([a.id, b.id])
    assert await snapshot(cmdb) == before


async def test_discovery_never_creates_and_never_sets_owner_or_state(
    cmdb: Cmdb, actor: Actor
) -> None:
    result = await run(cmdb, "nmap", FIXTURES / "nmap-localhost-v4.xml")
    assert result.counts["NEW"] == 1
    assert await cmdb.store.count_cis(CISelection()) == 0
    [out] = await outcomes(cmdb, result)
    assert "does not register" in out["reason"]


async def test_manual_edit_wins_over_discovery(cmdb: Cmdb, actor: Actor) -> None:
    server = await vm_server(cmdb, actor, os_name="Windows by hand")
    result = await run(cmdb, "glpi", FIXTURES / "glpi-vm.xml")
    [out] = await outcomes(cmdb, result)
    diff = next(d for d in out["differences"] if d["field"] == "os_name")
    assert diff == {"field": "os_name", "registered": "Windows by hand",
                    "observed": "Debian GNU/Linux 12 (bookworm)", "source": "glpi",
                    "applied": False, "note": "set by hand, which takes precedence"}
    after = (await cmdb.store.get_cis([server.id]))[server.id]
    assert after.attributes["os_name"] == "Windows by hand"
    assert after.attributes["os_version"] == "12.11"  # nobody had set it


async def test_dry_run_writes_nothing_but_shows_every_change(cmdb: Cmdb) -> None:
    before = await snapshot(cmdb)
    result = await run_gbk(cmdb, dry_run=True)
    assert await snapshot(cmdb) == before
    assert result.status == "dry_run"
    assert result.counts["NEW"] == 3
    found = await outcomes(cmdb, result)
    assert [o["outcome"] for o in found] == ["NEW", "NEW", "NEW", "INVALID"]
    assert found[0]["creates"]["class_name"] == "Printer"


async def test_a_bad_record_rejects_the_whole_file(cmdb: Cmdb) -> None:
    before = await snapshot(cmdb)
    with pytest.raises(ImportRejectedError) as info:
        await run(cmdb, "csv", FIXTURES / "inventory-gbk.csv", create_places=True)
    message = info.value.message
    assert "inventory-gbk.csv line 5 field mac_addresses" in message
    assert "nothing was imported" in message
    assert await snapshot(cmdb) == before
    run_doc = await cmdb.imports.get_run(info.value.details["runId"])
    assert run_doc.status == "rejected"


async def test_unregistered_place_is_invalid_without_create_places(cmdb: Cmdb) -> None:
    result = await run_gbk(cmdb, dry_run=True, create_places=False)
    reasons = [o["reason"] for o in await outcomes(cmdb, result)]
    assert "place '北京总部' is not registered" in (reasons[0] or "")


HOSTILE_CASES = [
    ("nmap", "billion-laughs.xml", "IMPORT_FORBIDDEN_XML"),
    ("nmap", "quadratic-blowup.xml", "IMPORT_FORBIDDEN_XML"),
    ("glpi", "external-entity.xml", "IMPORT_FORBIDDEN_XML"),
    ("ocs", "parameter-entity.xml", "IMPORT_FORBIDDEN_XML"),
    ("nmap", "dtd-url.xml", "IMPORT_FORBIDDEN_XML"),
    ("glpi", "truncated-glpi.xml", "IMPORT_BAD_FILE"),
    ("nmap", "deep.xml", "IMPORT_TOO_LARGE"),
    ("glpi", "gbk-declared.xml", "IMPORT_BAD_ENCODING"),
    ("nmap", "binary-junk.xml", "IMPORT_BAD_FILE"),
    ("csv", "binary-junk.csv", "IMPORT_NUL_BYTE"),
    ("lshw", "binary-junk.json", "IMPORT_NUL_BYTE"),
    ("xlsx", "binary-junk.xlsx", "IMPORT_BAD_FILE"),
    ("csv", "latin1.csv", "IMPORT_BAD_ENCODING"),
    ("csv", "nul-bytes.csv", "IMPORT_NUL_BYTE"),
    ("csv", "unknown-header.csv", "IMPORT_UNKNOWN_HEADER"),
    ("csv", "bad-quoting.csv", "IMPORT_BAD_FILE"),
]


async def test_hostile_files_change_nothing(cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    await vm_server(cmdb, actor)
    await run_gbk(cmdb)
    big = tmp_path / "big-field.csv"
    big.write_text("资产编号,名称\nZC-1," + "x" * 10_000_000 + "\n", encoding="utf-8")
    formulas = HOSTILE / "formulas.csv"
    cases = [*HOSTILE_CASES, ("csv", str(big), "IMPORT_TOO_LARGE")]
    before = await snapshot(cmdb)
    for source, name, code in cases:
        path = HOSTILE / name
        with pytest.raises(ImportRejectedError) as info:
            await run(cmdb, source, path, create_places=True)
        assert info.value.code == code, name
        assert info.value.details["file"] == path.name
        assert path.name in info.value.message or str(info.value.details.get("line"))
    # Formula-looking cells are kept as text, never evaluated, and applied only on request.
    result = await run(cmdb, "csv", formulas, dry_run=True)
    assert result.counts["INVALID"] + result.counts["NEW"] >= 1
    assert await snapshot(cmdb) == before


async def test_runs_are_listed_newest_first(cmdb: Cmdb) -> None:
    first = await run_gbk(cmdb, dry_run=True)
    second = await run_gbk(cmdb)
    runs, has_next = await cmdb.imports.runs(first=10)
    assert [r.id for r in runs] == [second.id, first.id]
    assert not has_next
    assert second.sha256 == first.sha256
    page, more = await cmdb.imports.outcomes(second.id, first=2)
    assert len(page) == 2
    assert more
    invalid, _ = await cmdb.imports.outcomes(second.id, outcome="INVALID")
    assert [d.line for d in invalid] == [5]
    places = await cmdb.store.list_cis(CISelection(classes=("Site",)), CIOrder(), 10, None)
    assert sorted(p.name for p in places.items) == ["上海分部", "北京总部"]


async def test_an_identifier_another_ci_holds_is_invalid(
    cmdb: Cmdb, actor: Actor, tmp_path: Path
) -> None:
    await cmdb.cis.create(actor, {"class_name": "Server", "name": "a", "asset_tag": "T1",
                                  "serial_number": "S1", "attributes": {"manufacturer": "Dell"}})
    await cmdb.cis.create(actor, {"class_name": "Server", "name": "b", "asset_tag": "T2",
                                  "attributes": {"manufacturer": "Dell"}})
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("资产编号,名称,类别,品牌,序列号\nT2,b,服务器,Dell,S1\n", encoding="utf-8")
    before = await snapshot(cmdb)
    with pytest.raises(ImportRejectedError, match="serial_number 'S1' is already CI"):
        await run(cmdb, "csv", sheet)
    assert await snapshot(cmdb) == before


async def test_a_sheet_disposing_an_asset_ends_its_relationships(
    cmdb: Cmdb, actor: Actor, tmp_path: Path
) -> None:
    await run_gbk(cmdb)
    server = await by_tag(cmdb, "BJ-0002")
    app = await cmdb.cis.create(actor, {"class_name": "Application", "name": "erp"})
    await cmdb.cis.relate(actor, app.id, "RUNS_ON", server.id)
    sheet = tmp_path / "retire.csv"
    sheet.write_text("资产编号,名称,类别,状态,位置\nBJ-0002,x,服务器,退役,北京总部/3楼机房/A01机柜\n",
                     encoding="utf-8")
    await run(cmdb, "csv", sheet, create_places=True)
    # Disposed and moved in one row: the new link is made and ended with the rest.
    sheet.write_text("资产编号,名称,类别,状态,位置\nBJ-0002,x,服务器,报废,北京总部/3楼机房/A02机柜\n",
                     encoding="utf-8")
    disposal = await run(cmdb, "csv", sheet)
    after = await by_tag(cmdb, "BJ-0002")
    assert after.state == "disposed"
    for direction in ("in", "out"):
        assert (await cmdb.store.relationships_of([after.id], direction))[after.id] == []
    actions = [h.action.value for h in
               (await cmdb.store.history(run_id=disposal.id, first=50)).items]
    # Ended: its rack, the application's RUNS_ON, the new rack, its owner 李四 and its
    # team 研发部 (linked by the first sheet's 责任人 and 部门 columns).
    assert sorted(actions) == ["disposed", "related", *["unrelated"] * 5]


async def test_bulk_writer_keeps_the_rules(cmdb: Cmdb, actor: Actor) -> None:
    from cmdb.errors import ConflictError, DuplicateError
    from cmdb.services.cis.bulk import BulkWriter
    from cmdb.services.cis.inputs import CIChanges, NewCI
    from cmdb.store.base import StoreTx

    rack_a = await cmdb.cis.create(actor, {"class_name": "Rack", "name": "A"})
    rack_b = await cmdb.cis.create(actor, {"class_name": "Rack", "name": "B"})
    server = await cmdb.cis.create(actor, {"class_name": "Server", "name": "s",
                                           "location_id": rack_a.id})
    before = await snapshot(cmdb)

    async def twice_the_same_tag(tx: StoreTx) -> None:
        bulk = BulkWriter(tx, cmdb.cis, actor, "test")
        await bulk.create(NewCI(class_name="Server", name="x", asset_tag="T-9"))
        await bulk.create(NewCI(class_name="Server", name="y", asset_tag="T-9"))

    with pytest.raises(DuplicateError, match="T-9"):
        await cmdb.store.write(twice_the_same_tag)

    async def stale_location(tx: StoreTx) -> None:
        # The caller read "not located anywhere"; the store knows better.
        bulk = BulkWriter(tx, cmdb.cis, actor, "test")
        await bulk.update(server, CIChanges(location_id=rack_b.id), None, located=[])
        await bulk.flush()

    with pytest.raises(ConflictError, match="LOCATED_IN"):
        await cmdb.store.write(stale_location)

    async def into_a_server(tx: StoreTx) -> None:
        bulk = BulkWriter(tx, cmdb.cis, actor, "test")
        await bulk.create(NewCI(class_name="Rack", name="C", location_id=server.id))
        await bulk.flush()

    with pytest.raises(CmdbError):
        await cmdb.store.write(into_a_server)
    assert await snapshot(cmdb) == before


async def test_many_macs_are_found_in_one_pass(cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    """Over 20 MACs in a chunk: identification reads the MACs of every CI once."""
    macs = [f"3c:d9:2b:00:00:{i:02x}" for i in range(30)]
    made = [await cmdb.cis.create(actor, {"class_name": "Server", "name": f"s{i}",
                                          "attributes": {"mac_addresses": [m]}})
            for i, m in enumerate(macs)]
    await cmdb.cis.create(actor, {"class_name": "Server", "name": "twin",
                                  "attributes": {"mac_addresses": [macs[0]]}})
    sheet = tmp_path / "macs.csv"
    sheet.write_text("名称,类别,MAC地址\n" + "".join(
        f"s{i},服务器,{m.upper().replace(':', '-')}\n" for i, m in enumerate(macs)),
        encoding="utf-8")
    calls = cmdb.store.calls["attribute_values"]
    done = await run(cmdb, "csv", sheet, dry_run=True)
    assert cmdb.store.calls["attribute_values"] == calls + 1
    assert done.counts["MATCHED"] == 29
    assert done.counts["AMBIGUOUS"] == 1
    found = {o["line"]: o for o in await outcomes(cmdb, done)}
    assert made[0].id in found[2]["candidates"]
    assert len(found[2]["candidates"]) == 2  # s0 and its twin share the MAC
    assert {o["ci_id"] for line, o in found.items() if line > 2} == {c.id for c in made[1:]}
    assert {o["matched_by"] for line, o in found.items() if line > 2} == {"mac_addresses"}
