"""The store contract, continued: active and ended relationships, their ends, one page
of each CI's. Every adapter passes these same tests."""

from __future__ import annotations

import pytest

from cmdb.errors import DuplicateError, NotFoundError
from cmdb.model.queries import RelationshipEnds
from cmdb.model.records import now
from cmdb.store.base import Store, StoreTx
from tests.store.test_contract import add, ci, link


async def test_relationships_active_and_ended(store: Store) -> None:
    a, b, c = ci("a"), ci("b"), ci("c")
    await add(store, a, b, c)
    r1 = await link(store, a, "DEPENDS_ON", b)
    r2 = await link(store, a, "RUNS_ON", c)
    out = await store.relationships_of([a.id, b.id], "out")
    assert {r.id for r in out[a.id]} == {r1.id, r2.id}
    assert out[b.id] == []
    only = await store.relationships_of([a.id], "out", ["RUNS_ON"])
    assert [r.id for r in only[a.id]] == [r2.id]
    assert [r.id for r in (await store.relationships_of([b.id], "in"))[b.id]] == [r1.id]

    ended = r1.model_copy(update={"ended_at": now(), "version": 2})

    async def end(tx: StoreTx) -> None:
        await tx.update_relationship(ended, 1)
        assert [r.id for r in await tx.active_relationships(a.id, "out")] == [r2.id]

    await store.write(end)
    assert {r.id for r in (await store.relationships_of([a.id], "out"))[a.id]} == {r2.id}
    kept = (await store.get_relationships([r1.id]))[r1.id]
    assert kept.ended_at is not None
    assert kept.version == 2
    with pytest.raises(NotFoundError):
        await link(store, a, "DEPENDS_ON", ci("never stored"))
    # the same link may be made again once the old one has ended
    await link(store, a, "DEPENDS_ON", b)
    with pytest.raises(DuplicateError):
        await link(store, a, "DEPENDS_ON", b)


async def test_relationship_ends_say_what_relationships_of_says_without_stamps(
        store: Store) -> None:
    a, b, c, d = ci("a"), ci("b"), ci("c"), ci("d")
    await add(store, a, b, c, d)
    owned = await link(store, a, "OWNED_BY", b, {"source": "csv", "field": "owner"})
    managed = await link(store, a, "MANAGED_BY", c)
    await link(store, a, "DEPENDS_ON", d)
    ended = await link(store, d, "OWNED_BY", b)

    async def end(tx: StoreTx) -> None:
        await tx.update_relationship(ended.model_copy(update={"ended_at": now(),
                                                              "version": 2}), 1)

    await store.write(end)
    out = await store.relationship_ends([a.id, d.id], "out", ["OWNED_BY", "MANAGED_BY"])
    assert out[d.id] == []
    assert sorted(out[a.id]) == sorted([
        RelationshipEnds(owned.id, "OWNED_BY", a.id, b.id, {"source": "csv",
                                                           "field": "owner"}),
        RelationshipEnds(managed.id, "MANAGED_BY", a.id, c.id, {})])
    into = await store.relationship_ends([b.id], "in")
    assert [(r.id, r.source_id) for r in into[b.id]] == [(owned.id, a.id)]
    targets = await store.linked_targets([a.id, d.id], "out", ["OWNED_BY", "MANAGED_BY"])
    assert sorted(targets[a.id]) == [("MANAGED_BY", c.id), ("OWNED_BY", b.id)]
    assert targets[d.id] == []
    assert (await store.linked_targets([b.id], "in", ["OWNED_BY"]))[b.id] == [
        ("OWNED_BY", a.id)]


async def test_relationship_pages_read_one_page_of_each_ci(store: Store) -> None:
    hub, lone = ci("hub"), ci("lone")
    spokes = [ci(f"spoke{i}") for i in range(7)]
    await add(store, hub, lone, *spokes)
    made = [await link(store, s, "CONNECTS_TO" if i % 3 else "POWERED_BY", hub)
            for i, s in enumerate(spokes)]
    every = (await store.relationships_of([hub.id], "in"))[hub.id]
    assert {r.id for r in every} == {r.id for r in made}
    pages = await store.relationship_pages([hub.id, lone.id], "in", None, 3)
    assert [r.id for r in pages[hub.id].items] == [r.id for r in every[:3]]
    assert (pages[hub.id].start, pages[hub.id].total, pages[hub.id].has_next) == (0, 7, True)
    assert (pages[lone.id].items, pages[lone.id].total) == ([], 0)
    rest = (await store.relationship_pages([hub.id], "in", None, 5, every[2].id))[hub.id]
    assert [r.id for r in rest.items] == [r.id for r in every[3:]]
    assert (rest.start, rest.has_next) == (3, False)
    assert rest.items[0] == every[3]
    gone = (await store.relationship_pages([hub.id], "in", None, 5, "no-such-id"))[hub.id]
    assert (gone.items, gone.total) == ([], 7)
    typed = (await store.relationship_pages([hub.id], "in", ["POWERED_BY"], 10))[hub.id]
    assert [r.id for r in typed.items] == [r.id for r in every if r.type == "POWERED_BY"]
    assert typed.total == 3
    out = (await store.relationship_pages([spokes[1].id], "out", None, 10))[spokes[1].id]
    assert [r.target_id for r in out.items] == [hub.id]
