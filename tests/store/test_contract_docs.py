"""The store contract, continued: documents (put, compare-and-set update, find by parent
and key, count). Every adapter passes these same tests."""

from __future__ import annotations

import pytest

from cmdb.errors import DuplicateError, VersionConflictError
from cmdb.model.records import Doc
from cmdb.store.base import Store, StoreTx


async def test_docs_put_update_find_count(store: Store) -> None:
    run = Doc(kind="import_run", key="applied", data={"file": "资产.csv", "counts": {"NEW": 2}})
    outcomes = [Doc(kind="outcome", parent=run.id, key="NEW" if i % 2 else "MATCHED",
                    data={"line": i}) for i in range(5)]

    async def put(tx: StoreTx) -> None:
        await tx.put_docs([run, *outcomes])

    await store.write(put)
    assert (await store.get_docs("import_run", [run.id]))[run.id].data["file"] == "资产.csv"
    assert await store.get_docs("outcome", [run.id]) == {}
    page = await store.find_docs("outcome", parent=run.id, first=3, newest_first=False)
    assert [d.data["line"] for d in page.items] == [0, 1, 2]
    assert page.has_next
    rest = await store.find_docs("outcome", parent=run.id, after=page.items[-1].id,
                                 newest_first=False)
    assert [d.data["line"] for d in rest.items] == [3, 4]
    assert not rest.has_next
    newest = await store.find_docs("outcome", parent=run.id, key="NEW")
    assert [d.data["line"] for d in newest.items] == [3, 1]
    assert await store.count_docs("outcome", parent=run.id) == 5
    assert await store.count_docs("outcome", key="MATCHED") == 3

    async def update(tx: StoreTx) -> None:
        current = (await tx.get_docs("import_run", [run.id]))[run.id]
        await tx.update_doc(current.model_copy(update={"key": "done", "version": 2}), 1)

    await store.write(update)
    with pytest.raises(VersionConflictError):
        await store.write(update)
    assert (await store.get_docs("import_run", [run.id]))[run.id].key == "done"
    with pytest.raises(DuplicateError):
        await store.write(put)
    assert len([d async for d in store.iter_all("docs")]) == 6
