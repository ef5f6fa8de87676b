"""A server configured for labels, and a small estate to print: Latin and Chinese assets.

::

    [BJ-R01] -LOCATED_IN-> [3楼机房] -LOCATED_IN-> [A座 3楼] -LOCATED_IN-> [北京总部]
    [bj-srv-0042 ZC-2024-0042] -LOCATED_IN-> [BJ-R01]
    [bj-srv-0042 ZC-2024-0042] -OWNED_BY-> [基础架构组 Infrastructure]
    [财务部笔记本 张伟 资产-0043] -LOCATED_IN-> [3楼机房]   (department 财务部, no owner)
    [vm-untagged]   (no asset tag)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cmdb.model.records import Actor
from cmdb.settings import Settings
from tests.api.conftest import LiveServer, run_server

BASE = "https://cmdb.example.cn"
ORG = "北京示例科技有限公司"
LATIN_TAG = "ZC-2024-0042"
CHINESE_TAG = "资产-0043"
PATH = ["北京总部", "A座 3楼", "3楼机房", "BJ-R01"]

CREATE = """mutation($input: CreateCIInput!) { createCI(input: $input) { id } }"""


def page_url(tag: str) -> str:
    """What a label's QR holds for ``tag``."""
    return f"{BASE}/a/{quote(tag, safe='')}"


def label_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose labels point to BASE and name ORG, in Beijing time."""
    yield from run_server(Settings(store_url=f"sqlite:///{tmp_path / 'labels.sqlite3'}",
                                   public_base_url=BASE, organisation_name=ORG,
                                   time_zone="Asia/Shanghai"))


@dataclass
class Estate:
    """The ids of what :func:`seed` created."""

    rack: str
    server: str
    laptop: str
    vm: str
    team: str


def create(live: LiveServer, cls: str, name: str, **fields: Any) -> str:
    data = live.ok(CREATE, {"input": {"class": cls, "name": name, **fields}})
    return str(data["createCI"]["id"])


def stamp(live: LiveServer, ci_id: str, values: dict[str, Any]) -> None:
    """Set attributes the CMDB keeps itself, as an audit or a label print would."""
    core = live.app.state.cmdb
    work = core.cis.set_system_attributes(Actor(name="2025 H1 audit"), [ci_id], values)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


def legacy(live: LiveServer, ci_id: str, asset_tag: str) -> None:
    """Give a CI an asset tag straight in the store, as a version that did not check the
    tag syntax could have: what pages and labels must still handle safely."""
    core = live.app.state.cmdb

    async def work() -> None:
        ci = (await core.store.get_cis([ci_id]))[ci_id]
        changed = ci.model_copy(update={"asset_tag": asset_tag, "version": ci.version + 1})
        await core.store.write(lambda tx: tx.update_ci(changed, ci.version))

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work()).result()


def seed(live: LiveServer) -> Estate:
    site = create(live, "Site", PATH[0])
    floor = create(live, "Building", PATH[1], locationId=site)
    room = create(live, "Room", PATH[2], locationId=floor)
    rack = create(live, "Rack", PATH[3], locationId=room, assetTag="ZC-2024-0001",
                  state="deployed")
    team = create(live, "Team", "基础架构组 Infrastructure")
    server = create(live, "Server", "bj-srv-0042", assetTag=LATIN_TAG, state="deployed",
                    serialNumber="CN7BJ0042X", locationId=rack, ownerId=team,
                    attributes={"manufacturer": "Dell", "model": "PowerEdge R750"})
    # An audit's stamp: only the CMDB sets it (createCI refuses it, RESERVED_FIELD).
    stamp(live, server, {"last_audited_at": "2025-03-01T01:30:00+00:00"})  # 09:30 in Beijing
    laptop = create(live, "Laptop", "财务部笔记本 张伟", assetTag=CHINESE_TAG,
                    state="in_stock", serialNumber="PF3ABC12", locationId=room,
                    attributes={"manufacturer": "联想", "model": "ThinkPad X1 Carbon",
                                "department": "财务部"})
    vm = create(live, "VirtualMachine", "vm-untagged", state="deployed")
    return Estate(rack, server, laptop, vm, team)
