"""Fields only the CMDB sets (``system: true``): refused from callers and sheet imports,
still set by the services that own them (audits, label printing, discovery)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmdb.errors import ImportRejectedError, ReservedFieldError
from cmdb.model.records import Actor
from cmdb.services import Cmdb
from cmdb.services.imports.service import ImportRequest

STAMPS = ["last_audited_at", "last_audited_campaign", "label_printed_at", "label_printed_by",
          "last_seen_nmap"]


def test_the_schema_marks_the_stamps_as_system_owned(cmdb: Cmdb) -> None:
    assert set(STAMPS) <= cmdb.registry.system_attributes
    assert "note" not in cmdb.registry.system_attributes


@pytest.mark.parametrize("field", STAMPS)
async def test_create_and_update_refuse_a_system_field(cmdb: Cmdb, actor: Actor,
                                                       field: str) -> None:
    value = "2026-01-01T00:00:00+00:00" if field.endswith("_at") or "seen" in field else "x"
    with pytest.raises(ReservedFieldError) as info:
        await cmdb.cis.create(actor, {"class_name": "Server", "name": "s1",
                                      "attributes": {field: value}})
    assert info.value.code == "RESERVED_FIELD"
    assert info.value.details["field"] == field
    assert f"{field} is kept by the CMDB itself" in info.value.message
    ci = await cmdb.cis.create(actor, {"class_name": "Server", "name": "s1"})
    with pytest.raises(ReservedFieldError, match=f"{field} .*updateCI"):
        await cmdb.cis.update(actor, ci.id, 1, {"attributes": {field: value}})
    assert (await cmdb.store.get_cis([ci.id]))[ci.id].version == 1


async def test_services_still_set_them(cmdb: Cmdb, actor: Actor) -> None:
    ci = await cmdb.cis.create(actor, {"class_name": "Server", "name": "s1"})
    (after,) = await cmdb.cis.set_system_attributes(
        actor, [ci.id], {"last_audited_at": "2026-07-06T14:30:00+08:00",
                         "last_audited_campaign": "2026 H2"})
    assert after.attributes["last_audited_campaign"] == "2026 H2"


async def test_a_sheet_cannot_set_them(cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    sheet = tmp_path / "forged.csv"
    sheet.write_text("资产编号,名称,类别,last_audited_at\n"
                     "ZC-0001,bj-srv-01,服务器,2026-07-06 14:30\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("unknown_headers: attributes\n", encoding="utf-8")
    from importers import ColumnMapping

    with pytest.raises(ImportRejectedError) as info:
        await cmdb.imports.run("importer", ImportRequest(
            "csv", sheet, mapping=ColumnMapping.load(mapping)))
    assert info.value.details["field"] == "last_audited_at"
    assert info.value.details["line"] == 2
    assert "last_audited_at is kept by the CMDB itself" in info.value.message
    assert await cmdb.store.find_ci_by_asset_tag("ZC-0001") is None
