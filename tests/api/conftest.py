"""A real CMDB server on a free loopback port, and a client that speaks GraphQL to it."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from cmdb.api.app import create_app
from cmdb.api.serving import server_config
from cmdb.model.access import Role
from cmdb.model.records import Actor
from cmdb.root import connect
from cmdb.settings import Settings
from tests.api.browser import browser  # noqa: F401 - a fixture shared by the page tests
from tests.support.neo4j_server import Neo4jServer, wipe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A uvicorn server running the app in a thread, reachable over real HTTP.

    ``client`` sends ``token``, an admin API token (None in demo mode without auth).
    """

    url: str
    app: Any
    client: httpx.Client
    token: str | None = None

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def gql(self, query: str, variables: dict[str, Any] | None = None,
            **headers: str) -> dict[str, Any]:
        r = self.client.post("/graphql", json={"query": query, "variables": variables},
                             headers=headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.gql(query, variables)
        assert body.get("errors"), body
        first: dict[str, Any] = body["errors"][0]
        return first


def make_token(settings: Settings, role: Role = Role.ADMIN, name: str = "tests-admin") -> str:
    """An API token made in the store before the server starts (as `cmdb token create`)."""

    async def make() -> str:
        cmdb = connect(settings)
        await cmdb.open()
        try:
            secret, _ = await cmdb.auth.create_token(Actor(name="tests"), name, role)
            return secret
        finally:
            await cmdb.close()

    # In a thread of its own: Playwright's sync API keeps an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def make_user(settings: Settings, login: str, password: str, role: Role) -> None:
    """A user made in the store before the server starts (as `cmdb user create`)."""

    async def make() -> None:
        cmdb = connect(settings)
        await cmdb.open()
        try:
            await cmdb.auth.create_user(Actor(name="tests"), login, password, role)
        finally:
            await cmdb.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(make())).result()


def run_server(settings: Settings) -> Iterator[LiveServer]:
    """Serve ``settings`` with an admin token on the client; tests get no rate limit
    unless their settings set one, and UTC unless they set a zone."""
    if "rate_limit" not in settings.model_fields_set:
        settings = settings.model_copy(update={"rate_limit": 0.0})
    if "time_zone" not in settings.model_fields_set:
        settings = settings.model_copy(update={"time_zone": "UTC"})
    token = make_token(settings) if settings.auth == "token" else None
    port = free_port()
    app = create_app(settings)
    # As `cmdb serve` runs it: forwarded headers believed from CMDB_TRUSTED_PROXIES only.
    config = server_config(app, settings, "127.0.0.1", port, log_level="warning",
                           lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the CMDB server did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
        try:
            yield LiveServer(url, app, client, token)
        finally:
            server.should_exit = True
            thread.join(timeout=20)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """A server on a fresh SQLite file."""
    yield from run_server(Settings(store_url=f"sqlite:///{tmp_path / 'api.sqlite3'}",
                                   max_body_bytes=200_000))


@pytest.fixture(params=["sqlite", "neo4j"])
def live_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server on a fresh store of each adapter kind (SQLite file, wiped Neo4j)."""
    yield from run_server(store_settings(request, tmp_path))


def store_settings(request: pytest.FixtureRequest, tmp_path: Path, file: str = "api.sqlite3",
                   **extra: Any) -> Settings:
    """Settings for a fresh store of the kind ``request.param`` names: a SQLite file in
    ``tmp_path``, or the session's Neo4j wiped; ``extra`` settings on top."""
    if request.param == "sqlite":
        return Settings(store_url=f"sqlite:///{tmp_path / file}", **extra)
    server: Neo4jServer = request.getfixturevalue("neo4j_server")
    wipe(server.uri, server.auth)
    return Settings(store_url=server.uri, store_user=server.auth[0],
                    store_password=SecretStr(server.auth[1]), **extra)
