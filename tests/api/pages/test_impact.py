"""The impact pages over HTTP, authentication on, on both stores, with the demo estate:
a reader signs in through /login as a browser does and reads the picture and the list."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from cmdb.api.web.headers import PAGE_CSP
from cmdb.model.access import Role
from cmdb.root import connect
from cmdb.services.demo import load_demo
from cmdb.settings import Settings
from tests.api.conftest import LiveServer, make_user, run_server, store_settings
from tests.api.signin import HTML, sign_in

READER, PASSWORD = "li.na", "只读 password 3"
HOSTILE = '<script>alert("x")</script> 机房"\'<img src=x onerror=alert(1)>'
NODE = re.compile(r'<a href="(/cis/[^"]+)" class="node ([^"]*)"\s+data-key="([^"]*)">\s*'
                  r'<title>([^<]*)</title>')
ROW = re.compile(r'<tr><td class="st (DOWN|DEGRADED)">[^<]*</td>\s*<td>(\d+)</td>\s*'
                 r'<td>(?:★ )?<a href="/cis/([^"]+)">([^<]*)</a>')
IMPACT = """query($ids: [ID!]!, $depth: Int!) { impact(ciIds: $ids, maxDepth: $depth) {
  impacted { ci { id name } status depth } services { ci { id } } } }"""


def demo(settings: Settings) -> None:
    async def load() -> None:
        async with connect(settings) as cmdb:
            await load_demo(cmdb)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(load())).result()


@pytest.fixture(params=["sqlite", "neo4j"])
def estate(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """The demo estate on each store, a reader who may sign in, the server running."""
    settings = store_settings(request, tmp_path)
    demo(settings)
    make_user(settings, READER, PASSWORD, Role.READER)
    yield from run_server(settings)


def ci_id(live: LiveServer, name: str) -> str:
    found = live.ok('query($t: String!) { cis(filter: {text: $t}) { edges { node { id name } '
                    '} } }', {"t": name})
    [one] = [e["node"]["id"] for e in found["cis"]["edges"] if e["node"]["name"] == name]
    return str(one)


@contextmanager
def reader(live: LiveServer) -> Iterator[httpx.Client]:
    """A browser-like client signed in as the reader through the sign-in form."""
    with httpx.Client(base_url=live.url, timeout=30, headers=HTML) as client:
        assert sign_in(client, READER, PASSWORD, "/").status_code == 303
        yield client


def test_a_reader_sees_the_core_switch_drawn_and_listed(estate: LiveServer) -> None:
    live = estate
    switch = ci_id(live, "BJ-CORE-SW1")
    expected = live.ok(IMPACT, {"ids": [switch], "depth": 10})["impact"]
    with reader(live) as client:
        page = client.get(f"/cis/{switch}/impact", params={"lang": "en"})
        assert page.status_code == 200, page.text
        assert page.headers["content-security-policy"] == PAGE_CSP
        assert "<script" not in page.text
        text = page.text
        # the list: every impacted CI with its status and depth, as the GraphQL query says
        rows = {(cid, status, int(depth)) for status, depth, cid, _ in ROW.findall(text)}
        assert rows == {(i["ci"]["id"], i["status"], i["depth"])
                        for i in expected["impacted"]}
        # the picture: more than 60 CIs, so grouped by class; the switch and the
        # services are nodes linking to their CI pages; groups link to their expansion
        nodes = NODE.findall(text)
        by_key = {key: (href, kinds, html.unescape(title)) for href, kinds, key, title in nodes}
        assert by_key[switch][0] == f"/cis/{switch}"
        assert "changed" in by_key[switch][1]
        for service in expected["services"]:
            assert "service" in by_key[service["ci"]["id"]][1]
        assert 'id="grouped-note"' in text
        servers = next(k for k, (_, kinds, title) in by_key.items()
                       if "group" in kinds and title.startswith("Server:"))
        expand = html.unescape(by_key[servers][0])
        assert "网上银行 Online banking" in text
        assert "基础架构组 Infrastructure" in text  # whom to notify

        # open the servers' group: the servers are drawn one by one
        opened = client.get(expand)
        assert opened.status_code == 200
        servers_hit = {i["ci"]["id"] for i in expected["impacted"]
                       if i["ci"]["name"].startswith("bj-srv-")}
        drawn = {key for _, _, key, _ in NODE.findall(opened.text)}
        assert servers_hit
        assert servers_hit <= drawn
        assert servers not in drawn

        # grouped by location: the racks the servers are in (BJ-R01...), and the CIs
        # placed nowhere (VMs, software) apart
        located = client.get(f"/cis/{switch}/impact", params={"group": "location"})
        titles = {html.unescape(t) for _, kinds, _, t in NODE.findall(located.text)
                  if "group" in kinds}
        assert "BJ-R01: 5 CIs" in titles, titles
        assert any(t.startswith("(no location)") for t in titles), titles


def test_the_depth_control_and_its_refusals(estate: LiveServer) -> None:
    live = estate
    switch = ci_id(live, "BJ-CORE-SW1")
    with reader(live) as client:
        one = client.get(f"/cis/{switch}/impact", params={"depth": "1", "lang": "en"})
        assert one.status_code == 200
        depths = {int(d) for _, d, _, _ in ROW.findall(one.text)}
        assert depths == {1}
        assert 'id="truncated-note"' in one.text
        assert 'name="depth" min="0" max="25" value="1"' in one.text
        for bad in ("abc", "26", "-1"):
            refused = client.get(f"/cis/{switch}/impact", params={"depth": bad})
            assert refused.status_code == 400
            assert "depth" in refused.text
        assert client.get("/cis/no-such-ci/impact").status_code == 404
        assert client.get("/impact", params={"group": "colour", "ids": switch}
                          ).status_code == 400
        assert client.get("/healthz").status_code == 200


def test_a_set_a_change_and_a_hostile_name(estate: LiveServer) -> None:
    live = estate
    host, vm = ci_id(live, "bj-srv-0101"), ci_id(live, "vm-bj-005")
    hostile = live.ok('mutation($n: String!) { createCI(input: {class: "Server", name: $n}) '
                      '{ id } }', {"n": HOSTILE})["createCI"]["id"]
    change = live.ok("""mutation($i: PlanChangeInput!) { planChange(input: $i) { id } }""",
                     {"i": {"title": "ESXi 补丁 <b>", "requester": "张伟",
                            "responsible": "Alice Martin", "ciIds": [vm],
                            "windowStart": "2026-11-28T22:00:00+00:00",
                            "windowEnd": "2026-11-29T01:00:00+00:00"}})["planChange"]["id"]
    both = live.ok(IMPACT, {"ids": [host, vm], "depth": 10})["impact"]
    alone = live.ok(IMPACT, {"ids": [vm], "depth": 10})["impact"]
    with reader(live) as client:
        page = client.get("/impact", params={"ids": f"{host}, {vm},", "lang": "en"})
        assert page.status_code == 200
        assert {c for _, _, c, _ in ROW.findall(page.text)} == {
            i["ci"]["id"] for i in both["impacted"]}
        assert f'name="ids" value="{host},{vm}"' in page.text  # the depth form keeps the set
        planned = client.get(f"/changes/{change}/impact", params={"lang": "en"})
        assert planned.status_code == 200
        assert "planned maintenance" in planned.text
        assert "ESXi 补丁 &lt;b&gt;" in planned.text
        assert {c for _, _, c, _ in ROW.findall(planned.text)} == {
            i["ci"]["id"] for i in alone["impacted"]}
        assert client.get("/changes/nope/impact").status_code == 404
        drawn = client.get(f"/cis/{hostile}/impact")
        assert drawn.status_code == 200
        assert "<script>alert" not in drawn.text
        assert "<img src=x" not in drawn.text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; 机房" in drawn.text


def test_signed_out_browsers_are_sent_to_sign_in(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url, headers=HTML) as anonymous:
        page = anonymous.get("/cis/anything/impact?depth=2")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=")
        assert anonymous.get("/impact?ids=a").status_code == 303


def test_what_a_service_depends_on(estate: LiveServer) -> None:
    """The dependencies page of the online-banking service lists, nearest first, what
    it needs: its applications, then (deeper) the core switch whose loss alone stops it,
    as the GraphQL ``dependencies`` query says."""
    live = estate
    bank = ci_id(live, "网上银行 Online banking")
    expected = live.ok('query($id: ID!) { dependencies(ciIds: [$id]) { dependencies { '
                       'ci { id } depth } } }', {"id": bank})["dependencies"]["dependencies"]
    with reader(live) as client:
        page = client.get(f"/cis/{bank}/dependencies", params={"lang": "zh-CN"})
    assert page.status_code == 200, page.text
    linked = re.findall(r'<a href="/cis/([^"?]+)\?lang=zh-CN">', page.text)
    assert set(linked) == {d["ci"]["id"] for d in expected}
    assert "BJ-CORE-SW1" in page.text
    assert "网银核心 ebank-core" in page.text
