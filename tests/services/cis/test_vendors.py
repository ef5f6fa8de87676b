"""Manufacturer names, on both stores: a register in Chinese and agents reporting the
vendors' English legal names find the same CIs by serial number.

The register is written the way people write it (戴尔 with stray spaces, 惠普, 联想 ...);
the agent files are the real FusionInventory inventory with the BIOS section a
physical server's dmidecode gives (``Dell Inc.``, ``Hewlett Packard Enterprise`` ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cmdb.errors import DuplicateError
from cmdb.model.records import CI, Actor, Channel
from cmdb.root import connect
from cmdb.services import Cmdb
from cmdb.services.cis.records import last_alignment
from cmdb.services.cis.vendors import align_manufacturers
from cmdb.settings import Settings
from cmdb.store.base import StoreTx
from tests.services.imports.test_imports import FIXTURES, by_tag, outcomes, run

REGISTER = """资产编号,名称,类别,品牌,型号,序列号,位置,状态
BJ-0101, bj-db-01 ,服务器, 戴尔 ,PowerEdge R740,7XK2M53,北京总部/3楼机房/A01机柜,在用
BJ-0102,bj-web-02,服务器,惠普,ProLiant DL380 Gen10,CZJ12345AB,北京总部/3楼机房/A01机柜,在用
BJ-0103,bj-app-03,服务器,联想 ,ThinkSystem SR650,J30A1B2C,北京总部/3楼机房/A01机柜,在用
BJ-0104,bj-hw-04,服务器,华为,FusionServer 2288H V5,2102311XYZ10,北京总部/3楼机房/A02机柜,在用
BJ-0105,bj-nf-05,服务器,浪潮,NF5280M5,219012345,北京总部/3楼机房/A02机柜,在用
BJ-0106,bj-h3c-06,服务器,新华三,UniServer R4900 G3,210235A2CT,北京总部/3楼机房/A02机柜,在用
BJ-0107,bj-sg-07,服务器,曙光,I620-G30,SG2019001,北京总部/3楼机房/A02机柜,在用
BJ-0108,bj-zx-08,服务器,中兴,R5300 G4,ZTE0001234,北京总部/3楼机房/A02机柜,在用
"""

#: What each register row's server reports through its agent (SMANUFACTURER).
AGENT_SAYS = {
    "7XK2M53": ("Dell Inc.", "PowerEdge R740"),
    "CZJ12345AB": ("Hewlett Packard Enterprise", "ProLiant DL380 Gen10"),
    "J30A1B2C": ("LENOVO", "ThinkSystem SR650 -[7X06CTO1WW]-"),
    "2102311XYZ10": ("Huawei Technologies Co., Ltd.", "2288H V5"),
    "219012345": ("Inspur", "NF5280M5"),
    "210235A2CT": ("New H3C Technologies Co., Ltd.", "UniServer R4900 G3"),
    "SG2019001": ("Sugon", "I620-G30"),
    "ZTE0001234": ("ZTE", "R5300 G4"),
}


def agent_file(tmp_path: Path, maker: str, serial: str, model: str = "PowerEdge R740") -> Path:
    """The real agent inventory, with the BIOS section of a physical server."""
    text = (FIXTURES / "glpi-vm.xml").read_text(encoding="utf-8")
    bios = (f"<BIOS>\n      <BMANUFACTURER>{maker}</BMANUFACTURER>\n"
            f"      <SMANUFACTURER>{maker}</SMANUFACTURER>\n"
            f"      <SMODEL>{model}</SMODEL>\n      <SSN>{serial}</SSN>\n    </BIOS>")
    text = text.replace("<BIOS>\n      <SSN></SSN>\n    </BIOS>", bios)
    path = tmp_path / f"glpi-{serial}.xml"
    path.write_text(text, encoding="utf-8")
    return path


async def register(cmdb: Cmdb, tmp_path: Path, text: str = REGISTER) -> Any:
    sheet = tmp_path / "资产登记表.csv"
    sheet.write_bytes(text.encode("gb18030"))  # as Excel saves a CSV in China
    return await run(cmdb, "csv", sheet, create_places=True)


async def test_chinese_register_and_agents_find_the_same_servers(
    cmdb: Cmdb, tmp_path: Path
) -> None:
    """戴尔 in the register, "Dell Inc." from the agent, same serial: the same CI."""
    first = await register(cmdb, tmp_path)
    assert first.counts["NEW"] == 8
    dell = await by_tag(cmdb, "BJ-0101")
    assert dell.attributes["manufacturer"] == "Dell"
    assert dell.provenance["manufacturer"].observed == "戴尔"  # what the register said
    assert dell.provenance["manufacturer"].source == "csv"
    for serial, (maker, model) in AGENT_SAYS.items():
        result = await run(cmdb, "glpi", agent_file(tmp_path, maker, serial, model))
        [out] = await outcomes(cmdb, result)
        registered = next(t for t, s in ((f"BJ-010{i}", line.split(",")[5]) for i, line in
                                         enumerate(REGISTER.splitlines()[1:], start=1))
                          if s == serial)
        ci = await by_tag(cmdb, registered)
        assert out["outcome"] in ("MATCHED", "MATCHED_WITH_DIFFERENCES"), maker
        assert (out["ci_id"], out["matched_by"]) == (ci.id, "serial_number"), maker
        assert not any(d["field"] == "manufacturer" for d in out["differences"]), maker
        # The register's spelling set the value; the agent's agreed and changed nothing.
        assert ci.provenance["manufacturer"].source == "csv", maker
    again = await register(cmdb, tmp_path)
    assert again.counts["NEW"] == 0


async def test_an_agent_sets_the_canonical_name_and_keeps_what_it_wrote(
    cmdb: Cmdb, actor: Actor, tmp_path: Path
) -> None:
    """A hand edit stores the canonical name; a register row without a brand gets the
    agent's, as ``HP``, and its provenance keeps "Hewlett Packard Enterprise"."""
    await register(cmdb, tmp_path, "资产编号,名称,类别,序列号\nBJ-0201,bj-db-21,服务器,7XK2M53\n")
    # Without a manufacturer the serial is held as the maker-less key: the agent's
    # (Dell, 7XK2M53) is another key, so it would be NEW; the hand fills in the brand.
    ci = await by_tag(cmdb, "BJ-0201")
    ci = await cmdb.cis.update(actor, ci.id, ci.version,
                               {"attributes": {"manufacturer": "Ｄｅｌｌ "}})
    assert ci.attributes["manufacturer"] == "Dell"  # a hand edit is stored canonical too
    result = await run(cmdb, "glpi", agent_file(tmp_path, "Dell Inc.", "7XK2M53"))
    [out] = await outcomes(cmdb, result)
    assert (out["ci_id"], out["matched_by"]) == (ci.id, "serial_number")
    assert out["observation"]["manufacturer"] == "Dell Inc."  # the outcome: as the file said
    assert not any(d["field"] == "manufacturer" for d in out["differences"])
    # A maker-less CI the agent fills in: the value is set, its provenance keeps the text.
    sheet = tmp_path / "maker.csv"
    sheet.write_text("资产编号,名称,类别,序列号\nBJ-0202,bj-x,服务器,CZJ99999ZY\n",
                     encoding="utf-8")
    await run(cmdb, "csv", sheet)
    x = await by_tag(cmdb, "BJ-0202")
    agent = agent_file(tmp_path, "Hewlett Packard Enterprise", "CZJ99999ZY")
    text = agent.read_text(encoding="utf-8").replace("<NAME>vm</NAME>", "<NAME>bj-x</NAME>")
    agent.write_text(text, encoding="utf-8")
    # No serial match (maker-less key), no MAC (the VM's is local): found by host name.
    await cmdb.cis.update(actor, x.id, x.version, {"attributes": {"hostnames": ["bj-x"]}})
    result = await run(cmdb, "glpi", agent)
    [out] = await outcomes(cmdb, result)
    assert (out["ci_id"], out["matched_by"]) == (x.id, "hostnames")
    x = await by_tag(cmdb, "BJ-0202")
    assert x.attributes["manufacturer"] == "HP"
    assert x.provenance["manufacturer"].source == "glpi"
    assert x.provenance["manufacturer"].observed == "Hewlett Packard Enterprise"


async def test_one_serial_two_vendors_stays_two_cis(
    cmdb: Cmdb, actor: Actor, tmp_path: Path
) -> None:
    """A serial two different vendors hold is two CIs, each found by its own vendor's
    names; a second CI for the same vendor, however spelt, is a duplicate."""
    dell = await cmdb.cis.create(actor, {"class_name": "Server", "name": "dell-box",
                                         "serial_number": "ABC1234",
                                         "attributes": {"manufacturer": "戴尔"}})
    hp = await cmdb.cis.create(actor, {"class_name": "Server", "name": "hp-box",
                                       "serial_number": "ABC1234",
                                       "attributes": {"manufacturer": "惠普"}})
    assert (dell.attributes["manufacturer"], hp.attributes["manufacturer"]) == ("Dell", "HP")
    with pytest.raises(DuplicateError):
        await cmdb.cis.create(actor, {"class_name": "Server", "name": "again",
                                      "serial_number": "abc1234",
                                      "attributes": {"manufacturer": "Dell Inc."}})
    for maker, expected in (("Dell Inc.", dell.id), ("Hewlett Packard Enterprise", hp.id)):
        [out] = await outcomes(cmdb, await run(
            cmdb, "glpi", agent_file(tmp_path, maker, "ABC1234"), dry_run=True))
        assert (out["ci_id"], out["matched_by"]) == (expected, "serial_number"), maker
    # The health report lists them as possibly one machine, as it always did.
    report = await cmdb.health.report()
    assert any(g.reason == "serial" and sorted(g.ci_ids) == sorted([dell.id, hp.id])
               for g in report.duplicates)
    # One file naming the same server twice, in two spellings, is refused as such.
    sheet = tmp_path / "twice.csv"
    sheet.write_text("名称,类别,品牌,序列号\nx1,服务器,戴尔,NEW0001\nx2,服务器,DELL,NEW0001\n",
                     encoding="utf-8")
    result = await run(cmdb, "csv", sheet, dry_run=True)
    assert (result.counts["NEW"], result.counts["INVALID"]) == (1, 1)
    # An observation whose MACs name both CIs is AMBIGUOUS, as before.
    for ci, mac in ((dell, "b8:ca:3a:6e:41:02"), (hp, "b8:ca:3a:6e:41:02")):
        fresh = (await cmdb.store.get_cis([ci.id]))[ci.id]
        await cmdb.cis.update(actor, ci.id, fresh.version,
                              {"attributes": {"mac_addresses": [mac]}})
    agent = agent_file(tmp_path, "Fujitsu", "OTHER999")
    agent.write_text(agent.read_text(encoding="utf-8").replace(
        "02:fc:00:00:00:01", "b8:ca:3a:6e:41:02"), encoding="utf-8")
    [out] = await outcomes(cmdb, await run(cmdb, "glpi", agent, dry_run=True))
    assert out["outcome"] == "AMBIGUOUS"
    assert sorted(out["candidates"]) == sorted([dell.id, hp.id])


async def test_an_unknown_manufacturer_is_kept_as_written(cmdb: Cmdb, actor: Actor) -> None:
    ci = await cmdb.cis.create(actor, {"class_name": "Server", "name": "odd",
                                       "serial_number": "Q1",
                                       "attributes": {"manufacturer": "  宁畅信息  "}})
    assert ci.attributes["manufacturer"] == "宁畅信息"


async def older(cmdb: Cmdb, cis: list[CI]) -> None:
    """CIs as an older CMDB stored them: the manufacturer as typed."""
    async def work(tx: StoreTx) -> None:
        await tx.insert_cis(cis)

    await cmdb.store.write(work)


async def test_cis_stored_with_other_spellings_are_aligned(
    cmdb: Cmdb, tmp_path: Path
) -> None:
    """What an older CMDB stored (or a vendor table without these names): aligned with
    the table, each change in the history, the clash with another record of the same
    machine left for a person."""
    a = CI(class_name="Server", name="old-dell", state="deployed", serial_number="7XK2M53",
           attributes={"manufacturer": "戴尔"})
    b = CI(class_name="Server", name="old-hp", state="deployed", serial_number="CZJ12345AB",
           attributes={"manufacturer": "惠普"})
    c = CI(class_name="Server", name="other", state="deployed", serial_number="X9",
           attributes={"manufacturer": "Acme Widgets"})
    # A second record of a's machine, spelt another way: aligning it would clash.
    d = CI(class_name="Server", name="old-dell-again", state="deployed",
           serial_number="7xk2m53", attributes={"manufacturer": "DELL INC."})
    await older(cmdb, [a, d, b, c])
    # Before: the agent's "Hewlett-Packard" does not find 惠普's serial.
    probe = agent_file(tmp_path, "Hewlett-Packard", "CZJ12345AB")
    [out] = await outcomes(cmdb, await run(cmdb, "glpi", probe, dry_run=True))
    assert out["outcome"] == "NEW"
    done = await align_manufacturers(cmdb.store, cmdb.registry)
    assert (done.aligned, done.skipped) == (2, False)
    got = await cmdb.store.get_cis([a.id, b.id, c.id, d.id])
    assert got[b.id].attributes["manufacturer"] == "HP"
    assert got[c.id].attributes["manufacturer"] == "Acme Widgets"
    # a and d: one was aligned, the other clashes and is left as written.
    makers = sorted(got[i].attributes["manufacturer"] for i in (a.id, d.id))
    assert "Dell" in makers
    assert makers != ["Dell", "Dell"]
    entry = (await cmdb.store.history(ci_id=b.id)).items[0]
    assert entry.channel is Channel.SYSTEM
    assert [(c.field, c.before, c.after) for c in entry.changes] == [
        ("attributes.manufacturer", "惠普", "HP")]
    [out] = await outcomes(cmdb, await run(cmdb, "glpi", probe, dry_run=True))
    assert (out["ci_id"], out["matched_by"]) == (b.id, "serial_number")
    kept = await last_alignment(cmdb.store)
    assert kept is not None
    assert (kept.fingerprint, kept.aligned) == (cmdb.registry.vendors.fingerprint, 2)
    assert [c[0] for c in kept.conflicts] == [i for i in (a.id, d.id)
                                              if got[i].attributes["manufacturer"] != "Dell"]
    # Opened again with the same table: nothing to do.
    assert (await align_manufacturers(cmdb.store, cmdb.registry)).skipped


async def test_users_add_their_own_aliases_and_old_cis_follow(
    cmdb: Cmdb, actor: Actor, tmp_path: Path
) -> None:
    """An alias added in CMDB_VENDORS_FILE: new writes use it, and the CIs stored
    before are aligned the next time the CMDB opens (the table's fingerprint changed)."""
    ci = await cmdb.cis.create(actor, {"class_name": "Server", "name": "nx", "serial_number":
                                       "NX0001", "attributes": {"manufacturer": "宁畅"}})
    await align_manufacturers(cmdb.store, cmdb.registry)
    assert (await cmdb.store.get_cis([ci.id]))[ci.id].attributes["manufacturer"] == "宁畅"
    extra = tmp_path / "my-vendors.yaml"
    extra.write_text("vendors:\n  Nettrix:\n    label: {en: Nettrix, zh-CN: 宁畅}\n"
                     "    aliases: [宁畅信息产业, Nettrix Information Industry]\n"
                     "  Dell:\n    aliases: [德尔]\n", encoding="utf-8")
    mine = Cmdb.build(Settings(vendors_file=extra), store=cmdb.store)
    assert (await align_manufacturers(mine.store, mine.registry)).aligned == 1
    after = (await mine.store.get_cis([ci.id]))[ci.id]
    assert after.attributes["manufacturer"] == "Nettrix"
    made = await mine.cis.create(actor, {"class_name": "Server", "name": "d",
                                         "serial_number": "D1",
                                         "attributes": {"manufacturer": "德尔"}})
    assert made.attributes["manufacturer"] == "Dell"
    result = await run(mine, "glpi", agent_file(
        tmp_path, "Nettrix Information Industry (Beijing) Co., Ltd.", "NX0001"), dry_run=True)
    [out] = await outcomes(mine, result)
    assert (out["ci_id"], out["matched_by"]) == (ci.id, "serial_number")


async def test_opening_the_cmdb_aligns_what_it_holds(tmp_path: Path) -> None:
    """The alignment runs when the CMDB opens (server start, every CLI command), and
    only when the vendor table has changed since the last one."""
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'old.sqlite3'}")
    cmdb = connect(settings)
    await cmdb.open()
    old = CI(class_name="Server", name="old", state="deployed", serial_number="S1",
             attributes={"manufacturer": "联想（北京）有限公司"})
    try:
        await older(cmdb, [old])
    finally:
        await cmdb.close()
    cmdb = connect(settings)
    await cmdb.open()
    try:
        ci = (await cmdb.store.get_cis([old.id]))[old.id]
        assert ci.attributes["manufacturer"] == "Lenovo"
        assert (await align_manufacturers(cmdb.store, cmdb.registry)).skipped
    finally:
        await cmdb.close()
