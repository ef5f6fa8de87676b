"""The public GraphQL contract, over a real HTTP round trip."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.api.conftest import LiveServer

CREATE = """mutation($i: CreateCIInput!) {
  createCI(input: $i) { id class name state assetTag serialNumber attributes version
                        location { name } owner { name } }
}"""
UPDATE = """mutation($id: ID!, $v: Int!, $i: UpdateCIInput!) {
  updateCI(id: $id, expectedVersion: $v, input: $i) { id name version attributes assetTag }
}"""


def create(live: LiveServer, **fields: Any) -> dict[str, Any]:
    ci: dict[str, Any] = live.ok(CREATE, {"i": fields})["createCI"]
    return ci


def dump(live: LiveServer) -> Any:
    return live.ok("""{ cis(first: 100) { totalCount edges { node {
        id name state version attributes assetTag
        outgoing { edges { node { id type to { id } } } }
        history(first: 20) { nodes { id action } } } } } }""")


def test_create_relate_query_update_transition_history(live_store: LiveServer) -> None:
    room = create(live_store, **{"class": "Room", "name": "3楼机房"})
    team = create(live_store, **{"class": "Team", "name": "基础架构组"})
    host = create(live_store, **{"class": "Server", "name": "bj-srv-01", "assetTag": "ZC-00001",
                           "serialNumber": "CN7X", "locationId": room["id"], "ownerId": team["id"],
                           "attributes": {"manufacturer": "Dell", "cpu_cores": 32}})
    assert host["location"] == {"name": "3楼机房"}
    assert host["owner"] == {"name": "基础架构组"}
    vm = create(live_store, **{"class": "VirtualMachine", "name": "vm-001", "state": "deployed"})
    rel = live_store.ok("""mutation($a: ID!, $b: ID!) { relate(from: $a, type: "HOSTED_ON", to: $b,
                     attributes: {slot: 3}) { id type from { name } to { name } attributes } }""",
                  {"a": vm["id"], "b": host["id"]})["relate"]
    assert (rel["from"], rel["to"], rel["attributes"]) == (
        {"name": "vm-001"}, {"name": "bj-srv-01"}, {"slot": 3})

    by_tag = live_store.ok("""{ ci(assetTag: "ZC-00001") { name incoming(type: "HOSTED_ON") {
        totalCount edges { node { from { name } } } } } }""")["ci"]
    assert by_tag["incoming"]["edges"][0]["node"]["from"]["name"] == "vm-001"

    upd = live_store.ok(UPDATE, {"id": host["id"], "v": 1,
                           "i": {"name": "bj-srv-001", "attributes": {"cpu_cores": 64}}})
    assert upd["updateCI"]["version"] == 2
    assert upd["updateCI"]["attributes"] == {"manufacturer": "Dell", "cpu_cores": 64}
    moved = live_store.ok("""mutation($id: ID!) { transitionCI(id: $id, to: "deployed",
                       reason: "racked") { state stateLabel(language: "zh-CN") version } }""",
                    {"id": host["id"]})["transitionCI"]
    assert moved == {"state": "deployed", "stateLabel": "在用", "version": 3}

    hist = live_store.ok("""query($id: ID!) { ci(id: $id) { history { nodes { action actor channel
        reason changes { field before after } } } } }""", {"id": host["id"]})
    nodes = hist["ci"]["history"]["nodes"]
    assert [n["action"] for n in nodes] == [
        "transitioned", "updated", "related", "related", "related", "created"]
    assert nodes[0]["reason"] == "racked"
    assert nodes[0]["channel"] == "api"
    assert {"field": "name", "before": "bj-srv-01", "after": "bj-srv-001"} in nodes[1]["changes"]

    listed = live_store.ok("""{{ cis(filter: {{class: "Hardware", locationId: "{}"}}) {{
        totalCount edges {{ node {{ name }} }} }} }}""".format(room["id"]))["cis"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"]["name"] == "bj-srv-001"

    gone = live_store.ok(
        """mutation($id: ID!) { unrelate(id: $id, reason: "migrated") { endedAt } }""",
        {"id": rel["id"]})
    assert gone["unrelate"]["endedAt"] is not None


def test_filters_order_and_pages(live_store: LiveServer) -> None:
    for i in range(7):
        create(live_store, **{"class": "Laptop" if i % 2 else "Server", "name": f"pc-{i}",
                        "assetTag": f"T{6 - i}", "state": "in_stock" if i < 3 else "deployed",
                        "attributes": {"manufacturer": "Lenovo" if i % 2 else "Dell"}})
    q = """query($f: CIFilter, $after: String) { cis(filter: $f, first: 2, after: $after,
           orderBy: {field: ASSET_TAG, direction: DESC}) {
           totalCount pageInfo { hasNextPage endCursor } edges { node { assetTag } } } }"""
    tags: list[str] = []
    after = None
    while True:
        page = live_store.ok(q, {"f": {"class": "Hardware"}, "after": after})["cis"]
        tags += [e["node"]["assetTag"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert tags == [f"T{i}" for i in range(6, -1, -1)]

    def count(f: dict[str, Any]) -> int:
        return int(live_store.ok(q, {"f": f})["cis"]["totalCount"])

    assert count({"class": "Laptop"}) == 3
    assert count({"states": ["in_stock"]}) == 3
    assert count({"attributes": {"manufacturer": "Dell"}}) == 4
    assert count({"text": "pc-1"}) == 1


def test_schema_is_queryable_as_data(live: LiveServer) -> None:
    data = live.ok("""{ ciClasses(language: "zh-CN") { name label attributes { name } }
                       relationshipTypes { name propagation }
                       lifecycle { name allowedTransitions } }""")
    server = next(c for c in data["ciClasses"] if c["name"] == "Server")
    assert server["label"] == "服务器"
    assert {"name": "RUNS_ON", "propagation": "target_to_source"} in data["relationshipTypes"]
    assert {"name": "lost", "allowedTransitions": ["in_stock", "stolen"]} in data["lifecycle"]


def test_invalid_input_is_coded_and_changes_nothing(live_store: LiveServer) -> None:
    host = create(live_store, **{"class": "Server", "name": "h", "assetTag": "DUP",
                                 "state": "in_stock"})
    before = dump(live_store)
    cases: list[tuple[str, dict[str, Any] | None, str]] = [
        (CREATE, {"i": {"class": "Starship", "name": "x"}}, "UNKNOWN_CLASS"),
        (CREATE, {"i": {"class": "Server", "name": "x", "attributes": {"cpu_cores": "many"}}},
         "VALIDATION_ERROR"),
        (CREATE, {"i": {"class": "Server", "name": "x", "assetTag": "DUP"}}, "DUPLICATE"),
        (CREATE, {"i": {"class": "Server", "name": "x", "attributes": [1, 2]}},
         "VALIDATION_ERROR"),
        (UPDATE, {"id": host["id"], "v": 7, "i": {"name": "y"}}, "VERSION_CONFLICT"),
        (UPDATE, {"id": "nope", "v": 1, "i": {"name": "y"}}, "NOT_FOUND"),
        ("""mutation($id: ID!) { transitionCI(id: $id, to: "disposed") { id } }""",
         {"id": host["id"]}, "INVALID_TRANSITION"),
        ("""mutation($id: ID!) { relate(from: $id, type: "RUNS_ON", to: $id) { id } }""",
         {"id": host["id"]}, "RELATIONSHIP_NOT_ALLOWED"),
        ("""{ cis(first: 100000) { totalCount } }""", None, "LIMIT_EXCEEDED"),
        ("""{ cis(after: "garbage") { totalCount } }""", None, "VALIDATION_ERROR"),
    ]
    for query, variables, code in cases:
        err = live_store.error(query, variables)
        assert err["extensions"]["code"] == code, (code, err)
        assert err["message"]
        assert "Traceback" not in err["message"]
    err = live_store.error(CREATE, {"i": {"class": "Server", "name": "x", "assetTag": "DUP"}})
    assert "DUP" in err["message"]
    assert err["extensions"]["field"] == "assetTag"
    assert dump(live_store) == before


def test_concurrent_updates_over_http_exactly_one_wins(live_store: LiveServer) -> None:
    host = create(live_store, **{"class": "Server", "name": "race"})

    def attempt(i: int) -> dict[str, Any]:
        return live_store.gql(UPDATE, {"id": host["id"], "v": 1, "i": {"name": f"winner-{i}"}})

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(10)))
    wins = [r for r in results if "errors" not in r]
    losses = [r for r in results if "errors" in r]
    assert len(wins) == 1
    assert {r["errors"][0]["extensions"]["code"] for r in losses} == {"VERSION_CONFLICT"}
    final = live_store.ok("""query($id: ID!) { ci(id: $id) { name version history { nodes {
        action changes { after } } } } }""", {"id": host["id"]})["ci"]
    assert final["name"] == wins[0]["data"]["updateCI"]["name"]
    assert final["version"] == 2
    updates = [n for n in final["history"]["nodes"] if n["action"] == "updated"]
    assert len(updates) == 1
    assert updates[0]["changes"][0]["after"] == final["name"]


def test_internal_errors_are_masked(live: LiveServer) -> None:
    store = live.app.state.cmdb.store

    async def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("secret database detail")

    original = store.list_cis
    store.list_cis = broken
    try:
        err = live.error("{ cis { totalCount } }")
    finally:
        store.list_cis = original
    assert err == {"message": "Internal server error", "extensions": {"code": "INTERNAL"},
                   "locations": [{"line": 1, "column": 3}], "path": ["cis"]}


def test_chinese_names_of_classes_states_and_types(live: LiveServer) -> None:
    """What the CLI and the importers accept, GraphQL accepts too: 服务器, 在用, 运行于."""
    host = create(live, **{"class": "服务器", "name": "bj-srv-02", "state": "在用"})
    assert (host["class"], host["state"]) == ("Server", "deployed")
    app = create(live, **{"class": "应用", "name": "网上银行"})
    rel = live.ok("""mutation($a: ID!, $b: ID!) { relate(from: $a, type: "运行于", to: $b) {
        type } }""", {"a": app["id"], "b": host["id"]})["relate"]
    assert rel["type"] == "RUNS_ON"
    moved = live.ok("""mutation($id: ID!) { transitionCI(id: $id, to: "维修中") { state } }""",
                    {"id": host["id"]})["transitionCI"]
    assert moved["state"] == "maintenance"
    found = live.ok("""{ cis(filter: {class: "硬件", states: ["维修中"]}) { totalCount } }""")
    assert found["cis"]["totalCount"] == 1
    bad = live.error("""mutation($id: ID!) { transitionCI(id: $id, to: "报废了") { state } }""",
                     {"id": host["id"]})
    assert bad["extensions"]["code"] == "VALIDATION_ERROR"
    assert "disposed (已处置)" in bad["message"]
    unknown = live.error(CREATE, {"i": {"class": "服务器", "name": "x", "state": "在用中"}})
    assert unknown["extensions"]["code"] == "VALIDATION_ERROR"
    assert "deployed (在用)" in unknown["message"]
