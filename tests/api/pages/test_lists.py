"""The console's lists in Chromium, signed in as a reader: import runs and their
outcomes (a GBK register uploaded as an auditor would), changes with their impact, and
the landing page's latest imports and coming changes; in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.api.browser import screenshot
from tests.api.conftest import LiveServer
from tests.api.label_estate import Estate, label_server, seed
from tests.api.pages.test_cis import PASSWORD, READER, person
from tests.api.test_audit_end_to_end import upload

REGISTER = Path(__file__).resolve().parents[2] / "importers" / "fixtures" / "inventory-gbk.csv"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    yield from label_server(tmp_path)


@pytest.fixture
def estate(live: LiveServer) -> Estate:
    live.ok("mutation($p: String!) { createUser(login: \"zhou.min\", password: $p, "
            "role: READER) { login } }", {"p": PASSWORD})
    return seed(live)


def plan(live: LiveServer, title: str, ci_id: str, start: datetime) -> str:
    made = live.ok("""mutation($i: PlanChangeInput!) { planChange(input: $i) { id } }""",
                   {"i": {"title": title, "requester": "王工", "ciIds": [ci_id],
                          "windowStart": start.isoformat(),
                          "windowEnd": (start + timedelta(hours=2)).isoformat()}})
    return str(made["planChange"]["id"])


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_imports_changes_and_the_landing_page(live: LiveServer, estate: Estate,
                                              browser: Browser, language: str,
                                              tmp_path: Path) -> None:
    run = upload(live, "csv", REGISTER, createPlaces="true", applyValidOnly="true")
    soon = plan(live, "核心交换机升级", estate.rack, datetime.now(UTC) + timedelta(days=2))
    later = plan(live, "机房搬迁", estate.server, datetime.now(UTC) + timedelta(days=30))
    outside: list[str] = []
    page = person(browser, live, READER, PASSWORD, language, outside)

    page.goto(f"{live.url}/")
    assert REGISTER.name in page.inner_text("#latest-imports")
    coming = page.inner_text("#latest-changes")
    assert "核心交换机升级" in coming
    assert "机房搬迁" not in coming  # a month away: not in the next seven days
    screenshot(page, tmp_path, f"console-home-lists-{language}.png")

    page.goto(f"{live.url}/imports")
    with page.expect_navigation():
        page.click("#list a >> nth=0")
    assert f"/imports/{run['id']}" in page.url
    outcomes = page.inner_text("#list")
    assert "NEW" in outcomes
    page.select_option("#list-filter select[name=outcome]", "NEW")
    with page.expect_navigation():
        page.click("#list-filter [type=submit]")
    kinds = {c.strip() for c in page.locator("#list tbody tr td:nth-child(2)").all_inner_texts()}
    assert kinds == {"NEW"}
    with page.expect_navigation():
        page.click("#list tbody a >> nth=0")  # an outcome opens its CI
    assert "/cis/" in page.url

    page.goto(f"{live.url}/changes?state=draft")
    listed = page.inner_text("#list")
    assert "核心交换机升级" in listed
    assert "机房搬迁" in listed
    screenshot(page, tmp_path, f"console-changes-{language}.png")
    with page.expect_navigation():
        page.click("#list a >> text=核心交换机升级")
    assert f"/changes/{soon}/impact" in page.url
    assert later
    assert outside == []
    page.context.close()
