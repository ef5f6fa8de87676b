"""Fixtures of the service tests: graphs built from the drawings in test docstrings."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from cmdb.model.records import CI, Actor
from cmdb.services import Cmdb

CLASSES = {"APP": "Application", "SVC": "BusinessService", "VM": "VirtualMachine",
           "HOST": "Server", "SW": "Switch", "DB": "Database", "CL": "Cluster",
           "PDU": "Pdu", "ROOM": "Room", "ANN": "Person", "OPS": "Team", "LIC": "Licence"}
EDGE = re.compile(r"\[(\w+)\]\s*-(\w+)->\s*(?=\[(\w+)\])")

Build = Callable[[str], Coroutine[Any, Any, dict[str, CI]]]


@pytest.fixture
def build(cmdb: Cmdb, actor: Actor) -> Build:
    """Create the CIs and relationships drawn as ``[A] -TYPE-> [B]``; ``CLk`` is a cluster
    needing k members, ``SVC*`` business services, ``HOST*`` servers, and so on."""

    async def make(drawing: str) -> dict[str, CI]:
        cis: dict[str, CI] = {}
        edges = EDGE.findall(drawing)
        for name in [n for a, _t, b in edges for n in (a, b)]:
            if name in cis:
                continue
            prefix = re.match(r"[A-Z]+", name)
            assert prefix is not None
            cls = CLASSES[prefix.group()]
            attrs = {"min_members": int(name[2:] or 1)} if cls == "Cluster" else {}
            cis[name] = await cmdb.cis.create(actor, {"class_name": cls, "name": name,
                                                      "attributes": attrs})
        for a, t, b in edges:
            await cmdb.cis.relate(actor, cis[a].id, t, cis[b].id)
        return cis

    return make


