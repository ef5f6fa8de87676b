"""Nothing blocks the server: /healthz answers in well under 100 ms while a CLI import
writes to the same SQLite file, and while a large campaign report PDF is built.

Before, a server write waited on the loop for the CLI's write lock (`BEGIN IMMEDIATE`,
10 s busy timeout: the server froze 16 s), and the report PDF was built on the loop.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from cmdb.model.records import Actor
from cmdb.root import connect
from cmdb.services.audit.service import CampaignInput
from cmdb.services.audit.sightings import SightingInput
from cmdb.services.audit.values import Resolution
from cmdb.settings import Settings
from tests.api.conftest import LiveServer, run_server
from tests.api.responsive import Probe, probing

CMDB = [str(Path(sys.executable).with_name("cmdb"))]
BOUND = 0.100
"""/healthz must answer within this at the 99th percentile of 100 probes or more..."""
ALLOWANCE = 1.0
"""...and every probe within this: a busy 2-core machine shared with other work may
deschedule a thread for a few hundred milliseconds; a blocked event loop shows up as
seconds (2.7 s during the CLI import, over 30 s during the PDF, before)."""


def assert_fast(probe: Probe, at_least: int = 100) -> None:
    probe.assert_responsive(bound=ALLOWANCE, at_least=at_least)
    ordered = sorted(probe.latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"/healthz over {len(ordered)} probes: median {statistics.median(ordered) * 1000:.1f}"
          f" ms, p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms")
    assert p99 < BOUND, f"/healthz p99 {p99 * 1000:.0f} ms (median " \
        f"{statistics.median(ordered) * 1000:.1f} ms, {len(ordered)} probes)"


def in_thread(work: Any) -> Any:
    """Run a coroutine function on a loop of its own, as tools beside the server do."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


@pytest.fixture
def sqlite_server(tmp_path: Path) -> Iterator[LiveServer]:
    yield from run_server(Settings(store_url=f"sqlite:///{tmp_path / 'live.sqlite3'}"))


def test_healthz_stays_fast_while_a_cli_import_writes_the_same_file(
        sqlite_server: LiveServer, tmp_path: Path) -> None:
    from bench.gen_inventory_csv import write

    live = sqlite_server
    sheet = tmp_path / "inventory.csv"
    with sheet.open("wb") as out:
        write(out, 6000, "utf-8", "cn", 7)
    db = tmp_path / "live.sqlite3"
    create = ('mutation($n: String!) { createCI(input: {class: "Room", name: $n}) '
              "{ id } }")
    with probing(live.url, every=0.005) as probe:
        cli = subprocess.Popen(
            [*CMDB, "import", "csv", str(sheet), "--db", str(db), "--create-places",
             "--apply-valid-only"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        writes = 0
        started = time.monotonic()
        # Server writes and reads wait for the CLI's write lock on their own threads.
        while cli.poll() is None and time.monotonic() - started < 120:
            assert "errors" not in live.gql(create, {"n": f"room-{writes}"})
            assert live.ok("{ cis(first: 5) { totalCount } }")
            writes += 1
        _, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err.decode()
    print(f"CLI import took {time.monotonic() - started:.1f} s; {writes} server writes")
    assert writes >= 3
    assert_fast(probe)
    total = live.ok("{ cis { totalCount } }")["cis"]["totalCount"]
    assert total > 6000


def test_healthz_stays_fast_while_a_large_report_pdf_is_built(tmp_path: Path) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'audit.sqlite3'}")

    async def estate() -> str:
        cmdb = connect(settings)
        await cmdb.open()
        try:
            actor = Actor(name="tests")
            site = await cmdb.cis.create(actor, {"class_name": "Site", "name": "北京总部"})
            campaign = await cmdb.campaigns.create(actor, CampaignInput("2026 H2", [site.id]))
            await cmdb.campaigns.open(actor, campaign.id)
            await cmdb.campaigns.record_sightings(actor, [
                SightingInput(f"UNREG-{i:04d}", "北京总部", note="未登记资产 " * 50)
                for i in range(1000)], "scan")
            found, _ = await cmdb.campaigns.findings(campaign.id, first=500)
            await cmdb.resolutions.resolve_many(
                actor, [d.id for d in found], Resolution.KEEP_REGISTERED,
                "核对后保留登记记录 kept after checking the register " * 30)
            return campaign.id
        finally:
            await cmdb.close()

    campaign_id = in_thread(estate)
    for live in run_server(settings):
        with probing(live.url, every=0.002) as probe:
            started = time.perf_counter()
            r = live.client.get(f"/campaigns/{campaign_id}/report.pdf")
            built = time.perf_counter() - started
        assert r.status_code == 200, r.text[:300]
        assert r.content.startswith(b"%PDF")
        print(f"report PDF built in {built:.2f} s")
        assert built > 0.5, "the report must take long enough to prove anything"
        assert_fast(probe)


def test_healthz_stays_fast_while_a_large_import_runs_over_http(
        sqlite_server: LiveServer, tmp_path: Path) -> None:
    from bench.gen_inventory_csv import write

    live = sqlite_server
    sheet = tmp_path / "inventory.csv"
    with sheet.open("wb") as out:
        write(out, 6000, "utf-8", "cn", 11)
    with probing(live.url, every=0.005) as probe:
        started = time.perf_counter()
        r = live.client.post("/imports/csv", data={"createPlaces": "true",
                                                   "applyValidOnly": "true"},
                             files={"file": ("inventory.csv", sheet.read_bytes())},
                             timeout=300)
        took = time.perf_counter() - started
    assert r.status_code == 200, r.text[:300]
    assert r.json()["counts"]["NEW"] == 6000
    print(f"HTTP import of 6,000 rows took {took:.1f} s")
    assert_fast(probe)
