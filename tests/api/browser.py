"""Headless Chromium for the page tests: the Debian build the project installs, offline."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if not found:
        raise RuntimeError("Chromium is missing: scripts/test installs it (apt package chromium)")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


def sign_in(page: Page, base_url: str, login: str, password: str, path: str = "/graphql",
            ) -> None:
    """Open ``path`` signed out, get sent to the sign-in page, sign in there as a person
    does, and land back on ``path``."""
    page.goto(f"{base_url}{path}")
    assert "/login?next=" in page.url, page.url
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url(lambda url: "/login" not in url)


def screenshot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot into ``folder`` (a test's ``tmp_path``, to be looked at),
    and into ``CMDB_SCREENSHOTS`` when set: ``CMDB_SCREENSHOTS=docs/screenshots
    scripts/test tests/api/pages`` makes the README's pictures."""
    page.screenshot(path=str(folder / name), full_page=True)
    docs = os.environ.get("CMDB_SCREENSHOTS")
    if docs:
        Path(docs).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(docs) / name), full_page=True)
