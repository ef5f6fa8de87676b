"""A small estate for the audit tests, drawn as places and the assets in them:

北京总部 (Site) > 3楼机房 (Room) > A01机柜, A03机柜 (Racks)
  A01机柜: BJ-0001 .. BJ-0006 (servers); 2楼办公室 (Room): BJ-0007 (laptop)
上海分部 (Site) > 机房 (Room) > B01机柜: SH-0001 (server, outside the campaign)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cmdb.model.records import CI, Actor
from cmdb.services import Cmdb

SCANS = """资产编号,位置,盘点人,盘点时间,状况,备注
BJ-0001,北京总部/3楼机房/A01机柜,陈七,2026-07-06 14:30,完好,
BJ-0002,北京总部/3楼机房/A03机柜,陈七,2026-07-06 14:35:10,外壳破损,位置变更
BJ-9999,北京总部/3楼机房/A01机柜,陈七,2026-07-06 14:40,完好,无此登记
SH-0001,上海分部/机房/B01机柜,王五,2026-07-06 15:00,完好,
BJ-0006,北京总部/3楼机房,陈七,2026-07-06 14:50,完好,机柜号看不清
"""


@dataclass
class AuditEstate:
    places: dict[str, CI]
    assets: dict[str, CI]


async def build_estate(cmdb: Cmdb, actor: Actor) -> AuditEstate:
    async def make(cls: str, name: str, parent: CI | None = None, **extra: object) -> CI:
        data: dict[str, object] = {"class_name": cls, "name": name, **extra}
        if parent is not None:
            data["location_id"] = parent.id
        return await cmdb.cis.create(actor, data)

    p: dict[str, CI] = {}
    p["bj"] = await make("Site", "北京总部")
    p["room"] = await make("Room", "3楼机房", p["bj"])
    p["office"] = await make("Room", "2楼办公室", p["bj"])
    p["a01"] = await make("Rack", "A01机柜", p["room"], asset_tag="RK-A01")
    p["a03"] = await make("Rack", "A03机柜", p["room"], asset_tag="RK-A03")
    p["sh"] = await make("Site", "上海分部")
    p["shroom"] = await make("Room", "机房", p["sh"])
    p["b01"] = await make("Rack", "B01机柜", p["shroom"], asset_tag="RK-B01")
    a: dict[str, CI] = {}
    for i in range(1, 7):
        tag = f"BJ-000{i}"
        a[tag] = await make("Server", f"bj-srv-0{i}", p["a01"], asset_tag=tag,
                            serial_number=f"SN-BJ-{i}", state="deployed")
    a["BJ-0007"] = await make("Laptop", "财务部笔记本", p["office"], asset_tag="BJ-0007",
                              state="deployed")
    a["SH-0001"] = await make("Server", "sh-srv-01", p["b01"], asset_tag="SH-0001",
                              state="deployed")
    return AuditEstate(p, a)


def write_scans(tmp_path: Path) -> Path:
    path = tmp_path / "scans.csv"
    path.write_text(SCANS, encoding="utf-8")
    return path
