"""The store contract, continued: the query box (``CISelection.search``). Every adapter
passes these same tests.

The values are written the way the CMDB stores them (attributes normalised on entry:
MACs lower case with colons, IPv6 compressed); the queries are typed the way people
copy them: from ``ipconfig /all`` (``00-1A-2B-3C-4D-5E``), a Cisco ``show mac
address-table`` (``001a.2b3c.4d5e``), ``ip link`` (``00:1a:2b:3c:4d:5e``), a log line.
"""

from __future__ import annotations

from typing import Any

from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.records import CI
from cmdb.model.search import parse_search
from cmdb.store.base import Store, StoreTx
from tests.store.test_contract import add, ci


async def found(store: Store, query: str, **kw: Any) -> set[str]:
    selection = CISelection(search=parse_search(query), **kw)
    page = await store.list_cis(selection, CIOrder(), 100, None)
    assert await store.count_cis(selection) == len(page.items)
    return {c.name for c in page.items}


def estate() -> list[CI]:
    return [
        ci("北京财务数据库服务器", asset_tag="ZC-2024-0012", serial_number="7XK2M53",
           attributes={"manufacturer": "戴尔", "ip_addresses": ["10.20.1.15", "2001:db8::15"],
                       "mac_addresses": ["00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d:5f"],
                       "hostnames": ["bj-fin-db01"], "fqdn": "bj-fin-db01.corp.example.cn"}),
        ci("上海办公网核心交换机", "Switch", asset_tag="SH-NET-0003",
           serial_number="FOC2231X0AB",
           attributes={"ip_addresses": ["10.20.1.150"], "mac_addresses": ["70:1f:53:aa:01:02"],
                       "hostnames": ["sh-core-sw01"]}),
        ci("打印机 HP-M479", "Workstation", serial_number="001A2B3C4D5E00"),
        ci("财务部_档案柜", "Rack"),
    ]


async def test_an_ip_address_matches_exactly(store: Store) -> None:
    await add(store, *estate())
    assert await found(store, "10.20.1.15") == {"北京财务数据库服务器"}
    assert await found(store, " 10.20.1.150 ") == {"上海办公网核心交换机"}
    assert await found(store, "10.20.1.1") == set()
    assert await found(store, "2001:DB8:0:0::15") == {"北京财务数据库服务器"}
    assert await found(store, "[2001:db8::15]") == {"北京财务数据库服务器"}


async def test_a_mac_matches_in_every_notation(store: Store) -> None:
    await add(store, *estate())
    for typed in ("00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e", "00:1a:2b:3c:4d:5e",
                  "0:1a:2b:3c:4d:5e", "00:1A:2B:3C:4D:5F"):
        assert await found(store, typed) == {"北京财务数据库服务器"}, typed
    assert await found(store, "00-1A-2B-3C-4D-60") == set()
    assert await found(store, "701F.53AA.0102") == {"上海办公网核心交换机"}


async def test_twelve_hex_digits_match_a_mac_or_a_serial(store: Store) -> None:
    await add(store, *estate())
    # Both a MAC of the database server and part of the printer's serial number.
    assert await found(store, "001A2B3C4D5E") == {"北京财务数据库服务器", "打印机 HP-M479"}


async def test_text_is_part_of_name_tag_serial_host_name_or_fqdn(store: Store) -> None:
    await add(store, *estate())
    assert await found(store, "财务") == {"北京财务数据库服务器", "财务部_档案柜"}
    assert await found(store, "数据库服务器") == {"北京财务数据库服务器"}
    assert await found(store, "zc-2024") == {"北京财务数据库服务器"}
    assert await found(store, "xk2m") == {"北京财务数据库服务器"}
    assert await found(store, "SH-CORE") == {"上海办公网核心交换机"}
    assert await found(store, "fin-db01") == {"北京财务数据库服务器"}
    assert await found(store, "corp.example.cn") == {"北京财务数据库服务器"}
    assert await found(store, "hp-m479") == {"打印机 HP-M479"}
    # Wildcards are characters like any other; an IP's part is not an address.
    assert await found(store, "%") == set()
    assert await found(store, "部_") == {"财务部_档案柜"}
    assert await found(store, "戴尔") == set()


async def test_search_narrows_with_the_other_filters_and_pages(store: Store) -> None:
    await add(store, *estate(), *[ci(f"bj-fin-app{i:02d}", "VirtualMachine") for i in range(7)])
    assert await found(store, "bj-fin", classes=("Server",)) == {"北京财务数据库服务器"}
    assert len(await found(store, "bj-fin")) == 8
    selection = CISelection(search=parse_search("BJ-FIN"))
    first = await store.list_cis(selection, CIOrder(), 5, None)
    rest = await store.list_cis(selection, CIOrder(), 5, first.cursors[-1])
    assert first.has_next
    assert not rest.has_next
    assert [c.name for c in first.items + rest.items] == sorted(
        [f"bj-fin-app{i:02d}" for i in range(7)] + ["北京财务数据库服务器"])


async def test_search_follows_every_write(store: Store) -> None:
    server, switch, *_ = estate()
    await add(store, server, switch)
    moved = server.model_copy(update={
        "version": 2, "attributes": {**server.attributes, "ip_addresses": ["10.30.0.7"],
                                     "hostnames": ["bj-fin-db02"], "fqdn": None}})

    async def work(tx: StoreTx) -> None:
        await tx.update_ci(moved, 1)

    await store.write(work)
    assert await found(store, "10.20.1.15") == set()
    assert await found(store, "10.30.0.7") == {"北京财务数据库服务器"}
    assert await found(store, "db01") == set()
    assert await found(store, "fin-db02") == {"北京财务数据库服务器"}
    assert await found(store, "00:1a:2b:3c:4d:5e") == {"北京财务数据库服务器"}

    async def clear(tx: StoreTx) -> None:
        await tx.delete_all()

    await store.write(clear)
    assert await found(store, "10.30.0.7") == set()
    await add(store, switch.model_copy(update={"id": "again"}))
    assert await found(store, "10.20.1.150") == {"上海办公网核心交换机"}
