"""Attribute values checked and normalised against their class."""

from __future__ import annotations

from typing import Any

import pytest

from cmdb.errors import ValidationError
from cmdb.model.attributes import check_attributes, normalise_mac
from cmdb.model.registry import Registry


@pytest.mark.parametrize(("raw", "mac"), [
    ("3C-D9-2B-11-22-33", "3c:d9:2b:11:22:33"), ("3cd9.2b11.2233", "3c:d9:2b:11:22:33"),
    ("3c:d9:2b:11:22:33", "3c:d9:2b:11:22:33"), ("3cd92b112233", "3c:d9:2b:11:22:33"),
    ("3c:d9:2b:11:22", None), ("zz:d9:2b:11:22:33", None),
])
def test_mac_forms(raw: str, mac: str | None) -> None:
    assert normalise_mac(raw) == mac


@pytest.mark.parametrize(("values", "expected"), [
    ({"ip_addresses": ["10.0.0.1", "::1", "10.0.0.1"]}, {"ip_addresses": ["10.0.0.1", "::1"]}),
    ({"hostnames": "WEB01.corp.example.cn"}, {"hostnames": ["web01.corp.example.cn"]}),
    ({"warranty_end": "2028-05-05"}, {"warranty_end": "2028-05-05"}),
    ({"cost": 12}, {"cost": 12}),
    ({"model": None}, {"model": None}),
])
def test_normalised(registry: Registry, values: dict[str, Any], expected: dict[str, Any]) -> None:
    assert check_attributes(registry.class_info("Server"), values, complete=False) == expected


@pytest.mark.parametrize("values", [
    {"ip_addresses": ["10.0.0.300"]}, {"cost": -1}, {"cost": True}, {"model": ["a", "b"]},
    {"model": "x" * 5000}, {"model": "nul\x00"}, {"hostnames": ["bad host"]},
])
def test_refused(registry: Registry, values: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as exc:
        check_attributes(registry.class_info("Server"), values, complete=False)
    assert exc.value.details["field"] == next(iter(values))
