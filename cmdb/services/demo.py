"""A realistic demo organisation: two sites, racks and power, a network, a redundant
cluster, VMs, databases, applications, business services, people and teams.

Names are in Chinese and English, as in a company with offices in Beijing and
Shanghai. The data is deterministic, so the README's examples always work.
The impact story: the Beijing core switch ``BJ-CORE-SW1`` carries the ESXi
hosts of the ``BJ-VMWARE`` cluster (2 of 3 hosts needed); take one host down
and the cluster is DEGRADED, take the switch down and online banking stops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cmdb.model.records import CI, Actor, Channel
from cmdb.services import Cmdb

DEMO_ACTOR = Actor(name="demo", channel=Channel.DEMO)

TEAMS = [
    ("基础架构组 Infrastructure", "infra@example.cn"),
    ("数据库组 Database team", "dba@example.cn"),
    ("应用开发组 Applications", "apps@example.cn"),
    ("桌面支持组 Desktop support", "desk@example.cn"),
]
PEOPLE = [
    ("张伟 Zhang Wei", "E1001", 0), ("王芳 Wang Fang", "E1002", 0), ("李娜 Li Na", "E1003", 1),
    ("刘洋 Liu Yang", "E1004", 1), ("陈静 Chen Jing", "E1005", 2), ("杨磊 Yang Lei", "E1006", 2),
    ("赵敏 Zhao Min", "E1007", 2), ("黄强 Huang Qiang", "E1008", 3), ("Alice Martin", "E2001", 0),
    ("Bob Smith", "E2002", 2), ("Carol Jones", "E2003", 3), ("周杰 Zhou Jie", "E1009", 3),
]
SURNAMES = "孙吴郑冯钱褚卫蒋沈韩朱秦尤许何吕施孔曹严华金魏陶姜"
GIVEN = ["明", "丽", "军", "霞", "勇", "艳", "杰", "娟", "涛", "超", "秀英", "建华"]
PEOPLE += [(f"{SURNAMES[i]}{GIVEN[i % len(GIVEN)]}", f"E3{i:03d}", i % 4)
           for i in range(len(SURNAMES))]


class DemoBuilder:
    """Creates the demo CIs through the services, so every one has its history."""

    def __init__(self, cmdb: Cmdb, progress: Callable[[int], None] | None = None) -> None:
        self.cmdb = cmdb
        self.progress = progress or (lambda _n: None)
        self.count = 0
        self.tags = 0

    def tag(self, prefix: str) -> str:
        self.tags += 1
        return f"{prefix}-{self.tags:05d}"

    async def ci(self, cls: str, name: str, *, state: str = "deployed",
                 location: CI | None = None, owner: CI | None = None, tag: str | None = None,
                 serial: str | None = None, **attributes: Any) -> CI:
        ci = await self.cmdb.cis.create(DEMO_ACTOR, {
            "class_name": cls, "name": name, "state": state, "asset_tag": tag,
            "serial_number": serial, "attributes": attributes,
            "location_id": location.id if location else None,
            "owner_id": owner.id if owner else None,
        })
        self.count += 1
        self.progress(1)
        return ci

    async def rel(self, source: CI, rel_type: str, target: CI) -> None:
        await self.cmdb.cis.relate(DEMO_ACTOR, source.id, rel_type, target.id)

    async def build(self) -> int:
        teams = [await self.ci("Team", n, email=e) for n, e in TEAMS]
        people = [await self.ci("Person", n, employee_id=i, department=teams[t].name)
                  for n, i, t in PEOPLE]
        for person, (_n, _i, t) in zip(people, PEOPLE, strict=True):
            await self.rel(person, "MANAGED_BY", teams[t])
        infra, dba, apps, desk = teams

        bj = await self.ci("Site", "北京总部", address="北京市海淀区中关村大街1号")
        sh = await self.ci("Site", "Shanghai Data Centre 上海数据中心", address="上海市浦东新区")
        bj_b = await self.ci("Building", "A座 3楼", location=bj)
        sh_b = await self.ci("Building", "Building 2", location=sh)
        bj_room = await self.ci("Room", "3楼机房", location=bj_b)
        bj_office = await self.ci("Room", "3楼办公区", location=bj_b)
        sh_room = await self.ci("Room", "Hall B", location=sh_b)

        hosts: list[CI] = []
        tors: list[CI] = []
        for site_code, room, racks in (("BJ", bj_room, 6), ("SH", sh_room, 4)):
            ups = await self.ci("Ups", f"{site_code}-UPS-1", location=room, owner=infra,
                                tag=self.tag("ZC"), serial=f"UPS{site_code}001",
                                manufacturer="APC", model="Symmetra PX 40kW")
            core = await self.ci("Switch", f"{site_code}-CORE-SW1", location=room, owner=infra,
                                 tag=self.tag("ZC"), serial=f"FDO{site_code}1234",
                                 manufacturer="Cisco", model="Nexus 9336C",
                                 ip_addresses=[f"10.{1 if site_code == 'BJ' else 2}.0.1"])
            await self.rel(core, "POWERED_BY", ups)
            for r in range(1, racks + 1):
                rack = await self.ci("Rack", f"{site_code}-R{r:02d}", location=room,
                                     tag=self.tag("ZC"), units=42, manufacturer="APC",
                                     model="NetShelter SX")
                pdu = await self.ci("Pdu", f"{site_code}-R{r:02d}-PDU-A", location=rack,
                                    tag=self.tag("ZC"), serial=f"PDU{site_code}{r:02d}A",
                                    manufacturer="APC", model="AP8941")
                await self.rel(pdu, "POWERED_BY", ups)
                tor = await self.ci("Switch", f"{site_code}-R{r:02d}-TOR", location=rack,
                                    owner=infra, tag=self.tag("ZC"),
                                    serial=f"FDO{site_code}{r:02d}77", manufacturer="Cisco",
                                    model="Nexus 93180YC")
                await self.rel(tor, "CONNECTS_TO", core)
                tors.append(tor)
                await self.rel(tor, "POWERED_BY", pdu)
                for s in range(1, 6):
                    name = f"{site_code.lower()}-srv-{r:02d}{s:02d}"
                    host = await self.ci(
                        "Server", name, location=rack, owner=infra, tag=self.tag("ZC"),
                        serial=f"CN7{site_code}{r:02d}{s:02d}X", manufacturer="Dell",
                        model="PowerEdge R750", cpu_cores=32, memory_gb=256,
                        hostnames=[name], os_name="VMware ESXi", os_version="8.0",
                        ip_addresses=[f"10.{1 if site_code == 'BJ' else 2}.{r}.{10 + s}"],
                        mac_addresses=[f"3c:d9:2b:{r:02x}:{s:02x}:{len(site_code):02x}"
                                       if site_code == "BJ" else f"3c:d9:2c:{r:02x}:{s:02x}:02"],
                        purchase_date="2023-05-06", warranty_end="2028-05-05", cost=98000,
                    )
                    await self.rel(host, "CONNECTS_TO", tor)
                    await self.rel(host, "POWERED_BY", pdu)
                    hosts.append(host)

        cluster = await self.ci("Cluster", "BJ-VMWARE 虚拟化集群", owner=infra, min_members=2,
                                description="vSphere cluster; needs 2 of its 3 hosts")
        for host in hosts[:3]:
            await self.rel(host, "MEMBER_OF", cluster)
        sh_cluster = await self.ci("Cluster", "SH-VMWARE", owner=infra, min_members=1)
        for host in hosts[30:32]:
            await self.rel(host, "MEMBER_OF", sh_cluster)

        vms: list[CI] = []
        for i in range(1, 61):
            target = cluster if i <= 40 else sh_cluster
            vm = await self.ci("VirtualMachine", f"vm-{'bj' if i <= 40 else 'sh'}-{i:03d}",
                               owner=infra, cpu_cores=4, memory_gb=16, os_name="Rocky Linux",
                               os_version="9.4", hostnames=[f"vm{i:03d}.corp.example.cn"])
            await self.rel(vm, "HOSTED_ON", target)
            vms.append(vm)

        oracle = await self.ci("SoftwareProduct", "Oracle Database 19c", vendor="Oracle")
        lic = await self.ci("Licence", "Oracle EE 处理器许可", seats=8, expires_on="2027-12-31")
        dbs: list[CI] = []
        for i, (name, engine) in enumerate([("核心账务库 core-ledger-db", "Oracle"),
                                            ("crm-db", "PostgreSQL"), ("hr-db", "MySQL"),
                                            ("mail-db", "PostgreSQL")]):
            db = await self.ci("Database", name, owner=dba, engine=engine)
            await self.rel(db, "RUNS_ON", vms[i])
            if engine == "Oracle":
                await self.rel(db, "LICENSED_BY", lic)
            dbs.append(db)
        await self.rel(dbs[0], "MANAGED_BY", dba)

        app_specs = [
            ("网银前端 ebank-web", [4, 5], [0]), ("网银核心 ebank-core", [6, 7], [0]),
            ("CRM", [8], [1]), ("HR 自助门户 hr-portal", [9], [2]),
            ("Exchange 邮件", [10, 45], [3]), ("OA 办公系统", [11], [2]),
        ]
        app_cis: list[CI] = []
        for name, vm_ix, db_ix in app_specs:
            app = await self.ci("Application", name, owner=apps)
            for ix in vm_ix:
                await self.rel(app, "RUNS_ON", vms[ix])
            for ix in db_ix:
                await self.rel(app, "DEPENDS_ON", dbs[ix])
            app_cis.append(app)
        await self.rel(app_cis[0], "DEPENDS_ON", app_cis[1])

        for name, crit, deps in [("网上银行 Online banking", "critical", [0, 1]),
                                 ("客户关系管理 CRM", "high", [2]),
                                 ("人力资源 HR services", "medium", [3, 5]),
                                 ("邮件服务 E-mail", "high", [4])]:
            svc = await self.ci("BusinessService", name, owner=people[4], criticality=crit)
            for ix in deps:
                await self.rel(svc, "DEPENDS_ON", app_cis[ix])
            await self.rel(svc, "MANAGED_BY", apps)

        inst = await self.ci("SoftwareInstallation", "Oracle 19c on vm-bj-001",
                             install_date="2024-03-01")
        await self.rel(inst, "INSTALLED_ON", vms[0])
        await self.rel(inst, "INSTANCE_OF", oracle)
        await self.rel(inst, "LICENSED_BY", lic)

        for i, person in enumerate(people):
            cls = "Laptop" if i % 3 else "Workstation"
            model = "ThinkPad X1 Carbon" if cls == "Laptop" else "OptiPlex 7010"
            maker = "Lenovo" if cls == "Laptop" else "Dell"
            await self.ci(cls, f"{person.name.split()[0]}的电脑", location=bj_office,
                          owner=person, tag=self.tag("ZC"), serial=f"PC{i:04d}SN",
                          manufacturer=maker, model=model, custodian=person.name)
        printer = await self.ci("Printer", "3楼打印机 HP M479", location=bj_office, owner=desk,
                                tag=self.tag("ZC"), serial="VNB3K12345", manufacturer="HP",
                                model="Color LaserJet Pro M479fdw")
        await self.rel(printer, "CONNECTS_TO", tors[0])
        await self.ci("Laptop", "备用笔记本 spare-01", state="in_stock", location=bj_office,
                      tag=self.tag("ZC"), serial="PC9999SN", manufacturer="Lenovo",
                      model="ThinkPad T14")
        await self.ci("Server", "bj-old-db01", state="retired", location=bj_room,
                      tag=self.tag("ZC"), serial="CN7OLD0001", manufacturer="HP",
                      model="ProLiant DL380 Gen9")
        return self.count


async def load_demo(cmdb: Cmdb, progress: Callable[[int], None] | None = None) -> int:
    """Create the demo organisation; returns how many CIs it created."""
    return await DemoBuilder(cmdb, progress).build()
