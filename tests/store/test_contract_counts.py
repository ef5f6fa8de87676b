"""The store contract, continued: counts by class and by state (the console's landing
page). Every adapter passes these same tests."""

from __future__ import annotations

from cmdb.store.base import Store
from tests.store.test_contract import add, ci


async def test_counts_by_class_and_state(store: Store) -> None:
    assert await store.ci_counts() == ({}, {})
    await add(store, ci("财务服务器"), ci("bj-srv-02", state="in_stock"),
              ci("财务部笔记本", "Laptop"), ci("3楼机房", "Room", state="in_stock"))
    classes, states = await store.ci_counts()
    assert classes == {"Server": 2, "Laptop": 1, "Room": 1}
    assert states == {"deployed": 2, "in_stock": 2}
