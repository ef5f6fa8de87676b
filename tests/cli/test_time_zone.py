"""``--time-zone`` / ``CMDB_TIME_ZONE`` on the command line: scan files read in the zone,
times printed in it, an unknown zone refused before anything runs."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from click.testing import CliRunner

from cmdb.cli.main import main
from cmdb.model.clock import Clock
from cmdb.model.records import Actor
from cmdb.root import connect
from cmdb.settings import Settings
from tests.services.audit.estate import build_estate, write_scans


def seed(db: Path) -> None:
    async def work() -> None:
        cmdb = connect(Settings(store_url=f"sqlite:///{db}"))
        await cmdb.open()
        try:
            await build_estate(cmdb, Actor(name="seed"))
        finally:
            await cmdb.close()

    asyncio.run(work())


def stored(db: Path, tag: str) -> dict[str, object]:
    async def work() -> dict[str, object]:
        cmdb = connect(Settings(store_url=f"sqlite:///{db}"))
        await cmdb.open(create=False)
        try:
            ci = await cmdb.store.find_ci_by_asset_tag(tag)
            assert ci is not None
            return dict(ci.attributes)
        finally:
            await cmdb.close()

    return asyncio.run(work())


def test_scans_and_report_in_the_zone(tmp_path: Path) -> None:
    """The scan file's "2026-07-06 14:30" was taken in Beijing: 06:30 UTC."""
    db = tmp_path / "cli.sqlite3"
    seed(db)
    runner = CliRunner()

    def ok(*args: str, env: dict[str, str] | None = None) -> str:
        result = runner.invoke(main, [*args, "--db", str(db)], env=env)
        assert result.exit_code == 0, result.output
        return result.output

    ok("audit", "create", "2026 H2", "--place", "北京总部", "--class", "Server")
    ok("audit", "open", "2026 H2")
    ok("audit", "scans", "2026 H2", str(write_scans(tmp_path)), "--time-zone", "Asia/Shanghai")
    assert stored(db, "BJ-0001")["last_audited_at"] == "2026-07-06T06:30:00+00:00"
    report = tmp_path / "report.csv"
    ok("audit", "report", "2026 H2", "-o", str(report), env={"CMDB_TIME_ZONE": "Asia/Shanghai"})
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert rows[0][-2:] == ["time_zone", "Asia/Shanghai (UTC+08:00)"]
    seen_at = {row[2]: row[8] for row in rows if row[:2] in (["UNREGISTERED", "open"],
                                                          ["MISPLACED", "open"])}
    assert seen_at == {"BJ-9999": "2026-07-06 14:40", "BJ-0002": "2026-07-06 14:35"}


def test_times_are_printed_in_the_zone(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite3")
    runner = CliRunner()
    made = runner.invoke(main, ["token", "create", "--name", "ops", "--role", "admin",
                                "--expires-days", "30", "--db", db, "--create"])
    assert made.exit_code == 0, made.output

    async def expiry() -> str:
        cmdb = connect(Settings(store_url=f"sqlite:///{db}"))
        await cmdb.open(create=False)
        try:
            (token,) = await cmdb.auth.list_tokens(False)
            assert token.expires_at is not None
            return token.expires_at.isoformat()
        finally:
            await cmdb.close()

    expires = asyncio.run(expiry())
    for zone, offset in (("Asia/Shanghai", "(UTC+08:00)"), ("UTC", "(UTC)")):
        listed = runner.invoke(main, ["token", "list", "--db", db, "--time-zone", zone])
        assert listed.exit_code == 0, listed.output
        shown = Clock(zone).show(expires)
        assert shown is not None
        assert shown.endswith(offset)
        assert shown in listed.output
    beijing = Clock("Asia/Shanghai").text(expires)
    utc = str(Clock("UTC").text(expires))
    assert beijing != utc
    assert utc not in runner.invoke(main, ["token", "list", "--db", db],
                                    env={"CMDB_TIME_ZONE": "Asia/Shanghai"}).output


def test_an_unknown_zone_is_refused_at_start(tmp_path: Path) -> None:
    db = tmp_path / "never.sqlite3"
    runner = CliRunner()
    served = runner.invoke(main, ["serve", "--db", str(db), "--time-zone", "Asia/Shangai"])
    assert served.exit_code == 2
    assert "unknown time zone 'Asia/Shangai'" in served.output
    assert "Asia/Shanghai" in served.output  # says what a good name looks like
    listed = runner.invoke(main, ["token", "list", "--db", str(db)],
                           env={"CMDB_TIME_ZONE": "Mars/Olympus_Mons"})
    assert listed.exit_code == 2
    assert "time_zone: unknown time zone 'Mars/Olympus_Mons'" in listed.output
    assert not db.exists()  # refused before anything was opened
