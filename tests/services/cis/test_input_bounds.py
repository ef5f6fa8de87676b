"""Every road into the register checks asset tags and bounds free text: the services
(GraphQL, pages and the CLI call them) and the importers (through reconciliation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cmdb.errors import ImportRejectedError, ValidationError
from cmdb.model.records import Actor
from cmdb.model.text import DESCRIPTION, REASON
from cmdb.services import Cmdb
from cmdb.services.audit.service import CampaignInput
from cmdb.services.audit.sightings import SightingInput
from cmdb.services.audit.values import Resolution
from cmdb.services.changes.service import ChangeInput
from cmdb.services.imports.service import ImportRequest


async def test_a_tag_that_breaks_urls_is_refused_on_create_and_update(
        cmdb: Cmdb, actor: Actor) -> None:
    with pytest.raises(ValidationError, match=r"must not contain '\.\.'") as info:
        await cmdb.cis.create(actor, {"class_name": "Server", "name": "x",
                                      "asset_tag": "../../graphql"})
    assert info.value.details["field"] == "asset_tag"
    ci = await cmdb.cis.create(actor, {"class_name": "Server", "name": "x",
                                       "asset_tag": "资产-2019-0012"})
    with pytest.raises(ValidationError, match="not '/'"):
        await cmdb.cis.update(actor, ci.id, 1, {"asset_tag": "BJ/IT/7"})


async def test_imports_refuse_bad_tags_and_long_texts_by_line(
        cmdb: Cmdb, tmp_path: Path) -> None:
    sheet = tmp_path / "inventory.csv"
    sheet.write_text("资产编号,名称,类别\nZC-0001,ok,服务器\n../etc/passwd,bad,服务器\n",
                     encoding="utf-8")
    with pytest.raises(ImportRejectedError) as info:
        await cmdb.imports.run("importer", ImportRequest("csv", sheet))
    assert (info.value.details["line"], info.value.details["field"]) == (3, "asset_tag")
    assert "must not contain '..'" in info.value.message
    assert await cmdb.store.find_ci_by_asset_tag("ZC-0001") is None  # nothing written
    scans = tmp_path / "scans.csv"
    scans.write_text("资产编号,位置,盘点人,盘点时间,状况,备注\n"
                     f"ZC-0001,北京总部,陈七,2026-07-06 14:30,完好,{'长' * (REASON + 1)}\n",
                     encoding="utf-8")
    with pytest.raises(ImportRejectedError) as info:
        await cmdb.imports.run("importer", ImportRequest("scans", scans))
    assert info.value.details["field"] == "note"
    assert f"at most {REASON} characters" in info.value.message


async def test_reasons_notes_and_descriptions_are_bounded(cmdb: Cmdb, actor: Actor) -> None:
    site = await cmdb.cis.create(actor, {"class_name": "Site", "name": "北京总部"})
    server = await cmdb.cis.create(actor, {"class_name": "Server", "name": "s"})
    campaign = await cmdb.campaigns.create(actor, CampaignInput("2026 H2", [site.id]))
    await cmdb.campaigns.open(actor, campaign.id)
    huge = "理由" * 12_000  # the 24,000-character reason of the audit
    with pytest.raises(ValidationError, match=f"reason: at most {REASON} characters"):
        await cmdb.cis.transition(actor, server.id, "in_stock", huge)
    with pytest.raises(ValidationError, match=f"note: at most {REASON}"):
        await cmdb.campaigns.record_sightings(actor, [SightingInput(
            "ZC-1", "北京总部", note=huge)], "page")
    with pytest.raises(ValidationError, match=r"asset_tag: .*'\.\.'"):
        await cmdb.campaigns.record_sightings(actor, [SightingInput(
            "../../graphql/seen", "北京总部")], "page")
    assert await cmdb.store.count_docs("sighting") == 0
    await cmdb.campaigns.record_sightings(actor, [SightingInput("ZC-1", "北京总部")], "page")
    (finding,), _ = await cmdb.campaigns.findings(campaign.id)
    with pytest.raises(ValidationError, match=f"reason: at most {REASON}"):
        await cmdb.resolutions.resolve(actor, finding.id, Resolution.KEEP_REGISTERED, huge)
    start = datetime(2026, 11, 28, 22, tzinfo=UTC)
    with pytest.raises(ValidationError, match=f"description: at most {DESCRIPTION}"):
        await cmdb.changes.plan(actor, ChangeInput(
            "reboot", "x" * (DESCRIPTION + 1), "张伟", "Alice", start,
            start + timedelta(hours=1), [server.id]))
    with pytest.raises(ValidationError, match="lone UTF-16 surrogate"):
        await cmdb.auth.create_user(actor, "wang.fang", "password\ud800", "reader")
