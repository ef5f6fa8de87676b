"""GraphQL in a CMDB in Beijing, on both stores: DateTime inputs without an offset are
Beijing time, those with one keep it; answers are ISO 8601 with the offset."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from cmdb.api.pages.audit import form_time
from cmdb.errors import ValidationError
from cmdb.model.records import Actor, Channel
from cmdb.root import connect
from cmdb.services.audit.service import CampaignInput
from cmdb.settings import Settings
from tests.api.conftest import LiveServer, run_server, store_settings
from tests.services.audit.estate import build_estate

SEEN = """mutation($in: RecordSightingInput!) { recordSighting(input: $in) {
  sighting { seenAt } findings { type evidence { at } } } }"""
PLAN = """mutation($in: PlanChangeInput!) { planChange(input: $in) {
  windowStart windowEnd } }"""


def seed(settings: Settings) -> str:
    async def work() -> str:
        cmdb = connect(settings)
        await cmdb.open()
        try:
            actor = Actor(name="陈七", channel=Channel.AUDIT)
            estate = await build_estate(cmdb, actor)
            doc = await cmdb.campaigns.create(actor, CampaignInput(
                "2026 H2 北京", [estate.places["bj"].id], ["Server"]))
            await cmdb.campaigns.open(actor, doc.id)
            return estate.assets["BJ-0003"].id
        finally:
            await cmdb.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


@pytest.fixture(params=["sqlite", "neo4j"])
def beijing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    settings = store_settings(request, tmp_path, time_zone="Asia/Shanghai")
    host = seed(settings)
    for live in run_server(settings):
        yield live, host


def test_datetime_inputs_without_an_offset_are_beijing_time(
        beijing: tuple[LiveServer, str]) -> None:
    live, host = beijing
    place = "北京总部/3楼机房/A01机柜"
    naive = live.ok(SEEN, {"in": {"assetTag": "BJ-0001", "place": place,
                                  "seenAt": "2026-07-10T10:03:00"}})["recordSighting"]
    assert naive["sighting"]["seenAt"] == "2026-07-10T02:03:00+00:00"
    assert [f["evidence"][-1]["at"] for f in naive["findings"]] == [
        "2026-07-10T02:03:00+00:00"]
    tokyo = live.ok(SEEN, {"in": {"assetTag": "BJ-0004", "place": place,
                                  "seenAt": "2026-07-10T10:03:00+09:00"}})["recordSighting"]
    assert tokyo["sighting"]["seenAt"] == "2026-07-10T01:03:00+00:00"
    change = live.ok(PLAN, {"in": {"title": "数据库扩容", "ciIds": [host],
                                   "windowStart": "2026-07-10T22:00:00",
                                   "windowEnd": "2026-07-11T02:00:00Z"}})["planChange"]
    assert (change["windowStart"], change["windowEnd"]) == (
        "2026-07-10T14:00:00+00:00", "2026-07-11T02:00:00+00:00")


def test_the_seen_here_forms_time() -> None:
    """What a browser's datetime-local input sends: local time, no offset; blank is now."""
    assert form_time("2026-07-10T10:03") == datetime(2026, 7, 10, 10, 3)
    assert form_time("  ") is None
    with pytest.raises(ValidationError, match="'yesterday' is not a date and time") as caught:
        form_time("yesterday")
    assert caught.value.details["field"] == "seen_at"
