"""The headers a register export writes are read back without a mapping file."""

from __future__ import annotations

import pytest

from importers.columns import INVENTORY_TARGETS, resolve_headers
from importers.normalise import neutralise_cell, restore_cell


def test_attribute_and_id_headers_need_no_mapping() -> None:
    got = resolve_headers(["资产编号", "配置项ID", "attributes.cpu_cores"],
                          INVENTORY_TARGETS, None, frozenset())
    assert isinstance(got, list)
    assert [c.target for c in got] == ["asset_tag", "ci_id", "attributes.cpu_cores"]
    english = resolve_headers(["Asset tag", "CI id"], INVENTORY_TARGETS, None, frozenset())
    assert isinstance(english, list)
    assert [c.target for c in english] == ["asset_tag", "ci_id"]


@pytest.mark.parametrize("header", ["attributes.CPU", "attributes.", "attributes.a b",
                                    "attributes.x.y"])
def test_other_attribute_like_headers_stay_unknown(header: str) -> None:
    got = resolve_headers([header], INVENTORY_TARGETS, None, frozenset())
    assert not isinstance(got, list)
    assert got.unknown


@pytest.mark.parametrize(("cell", "read"), [
    ("'=1+1", "=1+1"), ("'+86 10 6552 8000", "+86 10 6552 8000"), ("''@x", "'@x"),
    ("'＝全角", "＝全角"), ("'quoted", "'quoted"), ("'", "'"), ("plain", "plain")])
def test_a_neutralised_cell_reads_back(cell: str, read: str) -> None:
    assert restore_cell(cell) == read


def test_restore_undoes_neutralise() -> None:
    for text in ["=SUM(A1:A2)", "-3 dBm", "@张伟", "\tx", "财务部"]:
        assert restore_cell(neutralise_cell(text)) == text
