"""Listing CIs with their relationships costs a constant number of store calls (no N+1)."""

from __future__ import annotations

from cmdb.model.records import Actor
from tests.api.conftest import LiveServer

QUERY = """query($n: Int!) { cis(first: $n, filter: {class: "Server"}) { totalCount edges { node {
  name location { name } owner { name }
  outgoing { edges { node { type to { name location { name } } } } }
  incoming { edges { node { type from { name } } } } } } } }"""


async def build(live: LiveServer, servers: int) -> None:
    cmdb = live.app.state.cmdb
    actor = Actor(name="test")
    room = await cmdb.cis.create(actor, {"class_name": "Room", "name": "room"})
    team = await cmdb.cis.create(actor, {"class_name": "Team", "name": "team"})
    switch = await cmdb.cis.create(actor, {"class_name": "Switch", "name": "sw",
                                           "location_id": room.id})
    for i in range(servers):
        srv = await cmdb.cis.create(actor, {"class_name": "Server", "name": f"s{i:03d}",
                                            "location_id": room.id, "owner_id": team.id})
        await cmdb.cis.relate(actor, srv.id, "CONNECTS_TO", switch.id)
        vm = await cmdb.cis.create(actor, {"class_name": "VirtualMachine", "name": f"vm{i}"})
        await cmdb.cis.relate(actor, vm.id, "HOSTED_ON", srv.id)


def calls(live: LiveServer, n: int) -> int:
    store = live.app.state.cmdb.store
    before = sum(store.calls.values())
    data = live.ok(QUERY, {"n": n})
    assert len(data["cis"]["edges"]) == n
    return int(sum(store.calls.values()) - before)


async def test_store_calls_do_not_grow_with_the_page(live: LiveServer) -> None:
    await build(live, 100)
    live.ok("{ __typename }")  # the token is looked up once, then cached for a few seconds
    small, large = calls(live, 5), calls(live, 100)
    # Store calls answer on their own threads, so the loaders' batches can split by when
    # the answers arrive (a few more calls on one run than another): what must hold is a
    # bound that does not depend on the page. One list, one count, a relationship lookup
    # per relationship field and a CI lookup per level at most: 12. An N+1 would be 100s.
    assert small <= 12, small
    assert large <= 12, large
