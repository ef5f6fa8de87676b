"""The store contract, continued: pages of CIs (filters, every order, no gaps) and of
history. Every adapter passes these same tests."""

from __future__ import annotations

from typing import Any

from cmdb.model.queries import AttributeMatch, CIOrder, CIOrderField, CISelection
from cmdb.model.records import Channel, EntityKind, FieldChange, HistoryAction, HistoryEntry
from cmdb.store.base import Store, StoreTx
from tests.store.test_contract import add, ci, link


async def test_list_filters(store: Store) -> None:
    site, room = ci("Site", "Site"), ci("Room", "Room")
    sw = ci("sw", "Switch", attributes={"manufacturer": "Cisco"})
    srv = ci("srv", "Server", state="in_stock", asset_tag="ZC-9",
             attributes={"mac_addresses": ["3c:d9:2b:11:22:33"]})
    owner = ci("Ann", "Person")
    await add(store, site, room, sw, srv, owner)
    await link(store, room, "LOCATED_IN", site)
    await link(store, srv, "LOCATED_IN", room)
    await link(store, srv, "OWNED_BY", owner)

    async def names(**kw: Any) -> set[str]:
        page = await store.list_cis(CISelection(**kw), CIOrder(), 100, None)
        return {c.name for c in page.items}

    assert await names(classes=("Switch", "Server")) == {"sw", "srv"}
    assert await names(states=("in_stock",)) == {"srv"}
    assert await names(location_id=site.id) == {"Room", "srv"}
    assert await names(owner_id=owner.id) == {"srv"}
    assert await names(text="zc-9") == {"srv"}
    assert await names(text="%") == set()
    assert await names(attributes=(AttributeMatch("manufacturer", "Cisco"),)) == {"sw"}
    assert await names(attributes=(AttributeMatch("mac_addresses", "3c:d9:2b:11:22:33"),)) \
        == {"srv"}
    assert await names(ids=(sw.id, owner.id)) == {"sw", "Ann"}
    assert await names(classes=("Switch", "Server"), missing_attributes=("manufacturer",)) \
        == {"srv"}
    assert await store.count_cis(CISelection(classes=("Switch", "Server"))) == 2


async def test_list_pages_in_order_without_gaps(store: Store) -> None:
    cis = [ci(f"n{i:02d}", asset_tag=f"T{(7 * i) % 25:02d}") for i in range(25)]
    await add(store, *cis)
    for field in (CIOrderField.NAME, CIOrderField.ASSET_TAG, CIOrderField.CREATED_AT):
        for descending in (False, True):
            seen: list[str] = []
            after = None
            while True:
                page = await store.list_cis(CISelection(), CIOrder(field, descending), 7, after)
                seen += [c.id for c in page.items]
                if not page.has_next:
                    break
                after = page.cursors[-1]
            key = {CIOrderField.NAME: lambda c: (c.name, c.id),
                   CIOrderField.ASSET_TAG: lambda c: (c.asset_tag, c.id),
                   CIOrderField.CREATED_AT: lambda c: (c.created_at, c.id)}[field]
            expected = [c.id for c in sorted(cis, key=key, reverse=descending)]
            assert seen == expected, (field, descending)


# ---- history ------------------------------------------------------------------------
async def test_history_by_ci_actor_run_newest_first_paged(store: Store) -> None:
    a, b = ci("a"), ci("b")
    await add(store, a, b)
    entries = []
    for i in range(5):
        entries.append(HistoryEntry(
            actor="bob" if i % 2 else "ann", channel=Channel.IMPORT, run_id="run1" if i < 2
            else None, action=HistoryAction.UPDATED, entity_kind=EntityKind.CI,
            entity_id=a.id, ci_id=a.id, changes=[FieldChange(field="name", before=i,
                                                             after=i + 1)], version=i))
    rel_entry = HistoryEntry(actor="ann", channel=Channel.API, action=HistoryAction.RELATED,
                             entity_kind=EntityKind.RELATIONSHIP, entity_id="r1", ci_id=b.id,
                             peer_id=a.id)

    async def work(tx: StoreTx) -> None:
        await tx.add_history([*entries, rel_entry])

    await store.write(work)
    page = await store.history(ci_id=a.id, first=4)
    assert [e.id for e in page.items] == [rel_entry.id, *[e.id for e in entries[::-1][:3]]]
    assert page.has_next
    rest = await store.history(ci_id=a.id, first=4, after=page.items[-1].id)
    assert [e.id for e in rest.items] == [entries[1].id, entries[0].id]
    assert not rest.has_next
    assert rest.items[0].changes == [FieldChange(field="name", before=1, after=2)]
    assert {e.id for e in (await store.history(actor="bob")).items} == {
        entries[1].id, entries[3].id}
    assert {e.id for e in (await store.history(run_id="run1")).items} == {
        entries[0].id, entries[1].id}
    assert [e.id for e in (await store.history(ci_id=b.id)).items] == [rel_entry.id]
