"""Label printing over a real store: what labels say, which CIs print, who printed them."""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import pytest

from cmdb.errors import (
    LabelRenderError,
    LimitExceededError,
    NotFoundError,
    ValidationError,
)
from cmdb.model.records import CI, Actor, Channel, HistoryAction
from cmdb.model.registry import Registry
from cmdb.services import Cmdb
from cmdb.services.cis.inputs import CIFilterInput
from cmdb.services.labels.service import MAX_BATCH, LabelSelection, asset_page_url
from cmdb.settings import Settings
from cmdb.store.base import Store

BASE = "https://cmdb.example.cn"
ORG = "北京示例科技有限公司"


@dataclass
class Estate:
    """北京总部 / A座 3楼 / 3楼机房 / BJ-R01 holding a server; a laptop; an untagged VM."""

    rack: CI
    server: CI
    laptop: CI
    vm: CI


@pytest.fixture
async def lab(store: Store, registry: Registry) -> Cmdb:
    """The services configured with a public address and an organisation name."""
    return Cmdb.build(Settings(public_base_url=BASE, organisation_name=ORG), store=store,
                      registry=registry)


@pytest.fixture
async def estate(lab: Cmdb, actor: Actor) -> Estate:
    async def make(cls: str, name: str, **kw: object) -> CI:
        return await lab.cis.create(actor, {"class_name": cls, "name": name, **kw})

    site = await make("Site", "北京总部")
    floor = await make("Building", "A座 3楼", location_id=site.id)
    room = await make("Room", "3楼机房", location_id=floor.id)
    rack = await make("Rack", "BJ-R01", location_id=room.id, asset_tag="ZC-00010",
                      state="deployed")
    team = await make("Team", "基础架构组 Infrastructure")
    server = await make("Server", "bj-srv-0101", asset_tag="ZC-00011", state="deployed",
                        serial_number="CN7BJ0101X", location_id=rack.id, owner_id=team.id,
                        attributes={"manufacturer": "Dell", "model": "PowerEdge R750",
                                    "department": "ignored: the owner wins"})
    laptop = await make("Laptop", "张伟的笔记本", asset_tag="资产-0002", state="in_stock",
                        attributes={"model": "ThinkPad X1 Carbon", "department": "财务部"})
    vm = await make("VirtualMachine", "vm-untagged", state="deployed")
    return Estate(rack, server, laptop, vm)


async def test_label_data_says_name_model_serial_owner(lab: Cmdb, estate: Estate) -> None:
    server, laptop = await lab.labels.label_data([estate.server, estate.laptop])
    assert (server.asset_tag, server.name, server.model, server.serial_number, server.owner) == (
        "ZC-00011", "bj-srv-0101", "PowerEdge R750", "CN7BJ0101X", "基础架构组 Infrastructure")
    assert (laptop.asset_tag, laptop.model, laptop.serial_number, laptop.owner) == (
        "资产-0002", "ThinkPad X1 Carbon", "", "财务部")
    options = lab.labels.options()
    assert options.organisation == ORG
    assert options.public_base_url == BASE


async def test_location_path_goes_up_to_the_site(lab: Cmdb, estate: Estate) -> None:
    path = await lab.labels.location_path(estate.server)
    assert [p.name for p in path] == ["北京总部", "A座 3楼", "3楼机房", "BJ-R01"]
    assert await lab.labels.location_path(estate.vm) == []


async def test_select_by_tags_keeps_the_order_given(lab: Cmdb, estate: Estate) -> None:
    batch = await lab.labels.select(LabelSelection(asset_tags=("资产-0002", "ZC-00010")))
    assert [c.name for c in batch.cis] == ["张伟的笔记本", "BJ-R01"]
    with pytest.raises(NotFoundError) as caught:
        await lab.labels.select(LabelSelection(asset_tags=("ZC-00010", "NOPE-1", "NOPE-2")))
    assert caught.value.details["missing"] == ["NOPE-1", "NOPE-2"]


async def test_select_by_ids_refuses_a_ci_without_tag(lab: Cmdb, estate: Estate) -> None:
    batch = await lab.labels.select(LabelSelection(ids=(estate.server.id, estate.rack.id)))
    assert [c.id for c in batch.cis] == [estate.server.id, estate.rack.id]
    with pytest.raises(ValidationError, match="no asset tag"):
        await lab.labels.select(LabelSelection(ids=(estate.vm.id,)))
    with pytest.raises(NotFoundError):
        await lab.labels.select(LabelSelection(ids=("0" * 24,)))


async def test_select_by_filter_orders_by_tag_and_sets_untagged_aside(
    lab: Cmdb, estate: Estate
) -> None:
    batch = await lab.labels.select(LabelSelection(filter=CIFilterInput(class_name="Hardware")))
    assert [c.asset_tag for c in batch.cis] == ["ZC-00010", "ZC-00011", "资产-0002"]
    assert [c.name for c in batch.untagged] == ["vm-untagged"]
    deployed = await lab.labels.select(LabelSelection(
        filter=CIFilterInput(class_name="Hardware", states=["deployed"],
                             location_id=estate.rack.id)))
    assert [c.name for c in deployed.cis] == ["bj-srv-0101"]


async def test_never_printed_leaves_out_what_was_printed(
    lab: Cmdb, estate: Estate, actor: Actor
) -> None:
    never = LabelSelection(never_printed=True)
    assert {c.asset_tag for c in (await lab.labels.select(never)).cis} == {
        "ZC-00010", "ZC-00011", "资产-0002"}
    await lab.labels.record_printed(actor, [estate.server.id])
    assert {c.asset_tag for c in (await lab.labels.select(never)).cis} == {
        "ZC-00010", "资产-0002"}
    narrowed = LabelSelection(filter=CIFilterInput(class_name="Server"), never_printed=True)
    assert (await lab.labels.select(narrowed)).cis == []


@pytest.mark.parametrize("kwargs", [
    {}, {"ids": ("a",), "asset_tags": ("b",)}, {"ids": ("a",), "filter": CIFilterInput()},
    {"asset_tags": ("a",), "never_printed": True},
])
def test_a_selection_names_one_way_to_choose(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LabelSelection(**kwargs)  # type: ignore[arg-type]


async def test_too_many_labels_are_refused_before_any_work(lab: Cmdb) -> None:
    with pytest.raises(LimitExceededError):
        await lab.labels.select(LabelSelection(ids=tuple(str(i) for i in range(MAX_BATCH + 1))))


async def test_record_printed_sets_attributes_with_history(
    lab: Cmdb, estate: Estate
) -> None:
    clerk = Actor(name="王芳", channel=Channel.CLI)
    before = estate.server
    (after,) = await lab.labels.record_printed(clerk, [before.id])
    assert after.version == before.version + 1
    assert after.attributes["label_printed_by"] == "王芳"
    assert after.attributes["label_printed_at"].startswith(str(after.updated_at.date()))
    assert after.attributes["model"] == "PowerEdge R750"
    stored = (await lab.store.get_cis([before.id]))[before.id]
    assert stored.attributes == after.attributes
    entry = (await lab.store.history(ci_id=before.id, first=1)).items[0]
    assert (entry.action, entry.actor, entry.channel, entry.reason, entry.version) == (
        HistoryAction.UPDATED, "王芳", Channel.CLI, "label printed", after.version)
    assert {c.field for c in entry.changes} == {
        "attributes.label_printed_at", "attributes.label_printed_by"}
    again = (await lab.labels.record_printed(clerk, [before.id]))[0]
    assert again.version == after.version + 1, "a reprint is recorded too"


async def test_set_system_attributes_refuses_other_attributes(
    lab: Cmdb, estate: Estate, actor: Actor
) -> None:
    with pytest.raises(ValidationError, match="model"):
        await lab.cis.set_system_attributes(actor, [estate.server.id], {"model": "x"})
    with pytest.raises(NotFoundError):
        await lab.cis.set_system_attributes(
            actor, [estate.server.id, "0" * 24], {"last_audited_at": "2025-01-02T03:04:05Z"})
    stored = (await lab.store.get_cis([estate.server.id]))[estate.server.id]
    assert stored.version == estate.server.version, "a refused batch changes nothing"


async def test_render_batch_makes_sheets_and_zpl(lab: Cmdb, estate: Estate) -> None:
    cis = [estate.rack, estate.server, estate.laptop]
    seen: list[tuple[int, int]] = []
    pdf = await lab.labels.render_batch(cis, "pdf", "avery-l7160", start_offset=19,
                                        progress=lambda d, t: seen.append((d, t)))
    doc = pdfium.PdfDocument(pdf)
    try:
        assert len(doc) == 2, "offset 19 of 21 leaves two slots on the first sheet"
        text = doc[1].get_textpage().get_text_range()
    finally:
        doc.close()
    assert "资产-0002" in text
    assert seen[-1] == (3, 3)
    zpl = (await lab.labels.render_batch(cis, "zpl", dpi=300)).decode()
    assert zpl.count("^XA") == 3
    assert asset_page_url(BASE, "ZC-00011") in zpl


async def test_label_layer_errors_become_coded_cmdb_errors(lab: Cmdb, estate: Estate) -> None:
    with pytest.raises(LabelRenderError) as caught:
        await lab.labels.render_one(estate.server, "png", template="no-such-stock")
    assert caught.value.code == "TEMPLATE_NOT_FOUND"
    assert isinstance(caught.value, ValidationError)
    with pytest.raises(LabelRenderError) as bad_dpi:
        await lab.labels.render_one(estate.server, "zpl", dpi=600)
    assert bad_dpi.value.code == "LABEL_OPTION_INVALID"
    with pytest.raises(LabelRenderError) as bad_offset:
        await lab.labels.render_batch([estate.server], "pdf", start_offset=21)
    assert bad_offset.value.code == "LABEL_OPTION_INVALID"
    with pytest.raises(NotFoundError):
        await lab.labels.render_batch([], "pdf")
