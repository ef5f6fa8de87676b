"""``cmdb token`` and ``cmdb user`` from a terminal, and ``cmdb serve``'s demo-mode guard
and forwarded headers."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from cmdb.cli.main import main
from cmdb.root import connect
from cmdb.settings import Settings
from tests.api.conftest import free_port


def test_token_create_list_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite3")
    runner = CliRunner()
    made = runner.invoke(main, ["token", "create", "--name", "ops", "--role", "admin",
                                "--db", db, "--create"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("cmdb_")
    listed = runner.invoke(main, ["token", "list", "--db", db])
    assert "ops" in listed.output
    assert token[:9] in listed.output
    assert token not in listed.output
    assert runner.invoke(main, ["token", "revoke", "ops", "--db", db]).exit_code == 0
    assert "revoked" in runner.invoke(main, ["token", "list", "--all", "--db", db]).output
    gone = runner.invoke(main, ["token", "revoke", "ops", "--db", db])
    assert gone.exit_code == 1
    assert "NOT_FOUND" in gone.output


def test_user_create_list_disable(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite3")
    runner = CliRunner()
    made = runner.invoke(main, ["user", "create", "wang.fang", "--role", "auditor",
                                "--password-stdin", "--db", db, "--create"],
                         input="a good password\n")
    assert made.exit_code == 0, made.output
    prompted = runner.invoke(main, ["user", "create", "li.lei", "--db", db],
                             input="another password\nanother password\n")
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(main, ["user", "list", "--db", db]).output
    assert "wang.fang" in listed
    assert "auditor" in listed
    assert runner.invoke(main, ["user", "disable", "wang.fang", "--db", db]).exit_code == 0
    assert "disabled" in runner.invoke(main, ["user", "list", "--db", db]).output


def test_serve_refuses_demo_mode_off_loopback(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--no-auth", "--host", "0.0.0.0",
                                       "--db", str(tmp_path / "x.sqlite3")])
    assert result.exit_code == 2
    assert "loopback only" in result.output


def sessions_of(db: str, login: str) -> tuple[str, str]:
    """Two sessions of ``login`` started in the store (as two sign-ins would)."""

    async def work() -> tuple[str, str]:
        cmdb = connect(Settings(store_url=f"sqlite:///{db}"))
        await cmdb.open()
        try:
            who = await cmdb.auth.sign_in(login, "a good password")
            return await cmdb.sessions.start(who), await cmdb.sessions.start(who)
        finally:
            await cmdb.close()

    return asyncio.run(work())


def working(db: str, secrets: tuple[str, ...]) -> list[bool]:
    async def work() -> list[bool]:
        cmdb = connect(Settings(store_url=f"sqlite:///{db}"))
        await cmdb.open()
        try:
            return [await cmdb.sessions.principal(s) is not None for s in secrets]
        finally:
            await cmdb.close()

    return asyncio.run(work())


def test_user_password_and_sign_out_everywhere_end_sessions(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite3")
    runner = CliRunner()
    for login in ("wang.fang", "li.lei"):
        made = runner.invoke(main, ["user", "create", login, "--password-stdin", "--db", db,
                                    "--create"], input="a good password\n")
        assert made.exit_code == 0, made.output
    wang, li = sessions_of(db, "wang.fang"), sessions_of(db, "li.lei")
    out = runner.invoke(main, ["user", "sign-out-everywhere", "wang.fang", "--db", db])
    assert out.exit_code == 0, out.output
    assert working(db, (*wang, *li)) == [False, False, True, True]
    assert runner.invoke(main, ["user", "sign-out-everywhere", "--db", db]).exit_code == 2
    everyone = runner.invoke(main, ["user", "sign-out-everywhere", "--all", "--db", db])
    assert "2 users" in everyone.output
    assert working(db, li) == [False, False]
    li = sessions_of(db, "li.lei")
    changed = runner.invoke(main, ["user", "password", "li.lei", "--db", db],
                            input="a new password 2\na new password 2\n")
    assert changed.exit_code == 0, changed.output
    assert working(db, li) == [False, False]
    short = runner.invoke(main, ["user", "password", "li.lei", "--password-stdin", "--db", db],
                          input="short\n")
    assert short.exit_code == 1
    assert "8 to 1024" in short.output


def serve_and_log(db: Path, env: dict[str, str]) -> list[dict[str, object]]:
    """``cmdb serve`` as deployed; one request claiming to be forwarded for 203.0.113.9;
    the request log lines it wrote."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("cmdb")), "serve", "--db", str(db), "--port",
         str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, **env})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "cmdb serve did not start"
                time.sleep(0.1)
            r = client.get("/graphql", headers={"X-Forwarded-For": "203.0.113.9",
                                                "X-Forwarded-Proto": "https"})
            assert r.status_code == 401
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "cmdb.access"]


def test_serve_believes_forwarded_headers_from_trusted_proxies_only(tmp_path: Path) -> None:
    untrusted = serve_and_log(tmp_path / "a.sqlite3", {})
    assert [line["client"] for line in untrusted] == ["127.0.0.1"]
    trusted = serve_and_log(tmp_path / "b.sqlite3", {"CMDB_TRUSTED_PROXIES": "127.0.0.0/8"})
    assert [line["client"] for line in trusted] == ["203.0.113.9"]
