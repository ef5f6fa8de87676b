"""Backup and restore: portable, checksummed, atomic, lossless across stores."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest

from cmdb.errors import ConflictError, ValidationError
from cmdb.model.queries import CISelection
from cmdb.model.records import CI, Actor, Relationship
from cmdb.model.registry import Registry
from cmdb.services import Cmdb
from cmdb.services.backup.service import backup, restore
from cmdb.services.demo import load_demo
from cmdb.settings import Settings
from cmdb.store.sqlite.store import SqliteStore
from tests.services.cis.test_cis import snapshot

STAMP = "2026-01-01T00:00:00+00:00"


async def dump_text(cmdb: Cmdb) -> str:
    out = io.StringIO()
    await backup(cmdb.store, out, stamp=STAMP)
    return out.getvalue()


async def sqlite_cmdb(path: Path, registry: Registry) -> Cmdb:
    cmdb = Cmdb.build(Settings(), store=SqliteStore(path), registry=registry)
    await cmdb.open()
    return cmdb


async def test_round_trip_through_every_store_is_identical(
    cmdb: Cmdb, tmp_path: Path, registry: Registry
) -> None:
    """SQLite -> this store -> SQLite: the dumps are byte-identical (source line aside)."""
    origin = await sqlite_cmdb(tmp_path / "origin.sqlite3", registry)
    await load_demo(origin)
    rel = (await origin.store.relationships_of(
        [(await origin.queries.get(asset_tag="ZC-00001")).id], "out"))  # type: ignore[union-attr]
    first_rel = next(iter(rel.values()))[0]
    await origin.cis.unrelate(Actor(name="t"), first_rel.id, "ended relationships survive too")
    text1 = await dump_text(origin)
    (tmp_path / "one.jsonl").write_text(text1, encoding="utf-8")

    counts = await restore(cmdb.store, tmp_path / "one.jsonl")
    assert counts["ci"] == 251
    assert counts["relationship"] > 300
    assert counts["history"] > 500
    text2 = await dump_text(cmdb)
    (tmp_path / "two.jsonl").write_text(text2, encoding="utf-8")

    back = await sqlite_cmdb(tmp_path / "back.sqlite3", registry)
    await restore(back.store, tmp_path / "two.jsonl")
    text3 = await dump_text(back)
    def strip(text: str) -> str:
        return text.split("\n", 1)[1]  # the header line names the source store

    assert strip(text1) == strip(text2) == strip(text3)
    for c in (origin, back):
        await c.close()


async def test_restore_refuses_non_empty_unless_replace(cmdb: Cmdb, tmp_path: Path,
                                                        actor: Actor) -> None:
    await cmdb.cis.create(actor, {"class_name": "Room", "name": "r"})
    path = tmp_path / "d.jsonl"
    path.write_text(await dump_text(cmdb), encoding="utf-8")
    with pytest.raises(ConflictError, match="not empty"):
        await restore(cmdb.store, path)
    await restore(cmdb.store, path, replace=True)
    assert await cmdb.store.count_cis(CISelection()) == 1


@pytest.mark.parametrize(("damage", "message"), [
    (lambda t: t.replace('"name":"r1"', '"name":"r2"'), "checksum mismatch"),
    (lambda t: t.rsplit("\n", 2)[0] + "\n", "truncated"),
    (lambda t: t.replace('"version":1}', '"version":9}', 1), "version 9"),
    (lambda t: "garbage\n" + t, "not a JSON line"),
])
async def test_damaged_dump_changes_nothing(
    cmdb: Cmdb, tmp_path: Path, actor: Actor, damage: object, message: str
) -> None:
    await cmdb.cis.create(actor, {"class_name": "Room", "name": "r1"})
    good = await dump_text(cmdb)
    await cmdb.store.wipe()
    await cmdb.cis.create(actor, {"class_name": "Room", "name": "keep me"})
    before = await snapshot(cmdb)
    path = tmp_path / "bad.jsonl"
    path.write_text(damage(good), encoding="utf-8")  # type: ignore[operator]
    with pytest.raises(ValidationError, match=message):
        await restore(cmdb.store, path, replace=True)
    assert await snapshot(cmdb) == before


def write_dump(path: Path, records: list[tuple[str, Any]]) -> Path:
    """A well-formed dump (right checksum and counts) of these records, as-is."""
    lines = [json.dumps({"kind": kind, "record": record}, sort_keys=True,
                        separators=(",", ":")) + "\n" for kind, record in records]
    counts = {k: sum(1 for kind, _ in records if kind == k)
              for k in ("ci", "relationship", "history", "doc")}
    end = {"kind": "end", "counts": counts,
           "sha256": hashlib.sha256("".join(lines).encode()).hexdigest()}
    header = {"format": "graph-cmdb-backup", "version": 1, "source": "test",
              "created_at": STAMP}
    path.write_text(json.dumps(header) + "\n" + "".join(lines) + json.dumps(end) + "\n",
                    encoding="utf-8")
    return path


def room(name: str, **kw: Any) -> dict[str, Any]:
    return CI(class_name="Room", name=name, state="deployed", **kw).model_dump(mode="json")


def rel(source: dict[str, Any], target: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return Relationship(type="LOCATED_IN", source_id=source["id"], target_id=target["id"],
                        **kw).model_dump(mode="json")


A, B = room("a"), room("b")
BROKEN = {
    "twin asset tags": ([("ci", room("x", asset_tag="SAME")), ("ci", room("y", asset_tag="SAME"))],
                        "line 3: asset tag 'SAME' is already used on line 2"),
    "twin ids": ([("ci", A), ("ci", {**B, "id": A["id"]})], "line 3: CI id"),
    "twin serials of one maker": (
        [("ci", room("x", serial_number="S1", attributes={"manufacturer": "Dell"})),
         ("ci", room("y", serial_number="s1 ", attributes={"manufacturer": "dell"}))],
        "line 3: serial number"),
    "a relationship to no CI": ([("ci", A), ("relationship", rel(A, B))],
                                "line 3: relationship .* target_id"),
    "twin active relationships": ([("ci", A), ("ci", B), ("relationship", rel(A, B)),
                                   ("relationship", rel(A, B))],
                                  "line 5: active relationship"),
}


@pytest.mark.parametrize("case", list(BROKEN))
async def test_dump_breaking_integrity_is_refused_before_anything_changes(
    cmdb: Cmdb, tmp_path: Path, actor: Actor, case: str
) -> None:
    """The loads skip per-row checks, so a dump that breaks a uniqueness rule or points at
    a CI it does not hold is refused up front, naming the line: the old data stays."""
    records, message = BROKEN[case]
    path = write_dump(tmp_path / "broken.jsonl", records)
    await cmdb.cis.create(actor, {"class_name": "Room", "name": "keep me"})
    before = await snapshot(cmdb)
    with pytest.raises(ValidationError, match=message):
        await restore(cmdb.store, path, replace=True)
    assert await snapshot(cmdb) == before


async def test_ended_twins_of_an_active_relationship_load(cmdb: Cmdb, tmp_path: Path) -> None:
    """History keeps ended relationships: the same link may be there ended and active."""
    path = write_dump(tmp_path / "ok.jsonl", [
        ("ci", A), ("ci", B), ("relationship", rel(A, B, ended_at=STAMP)),
        ("relationship", rel(A, B))])
    assert (await restore(cmdb.store, path))["relationship"] == 2
    assert len([r async for r in cmdb.store.iter_all("relationships")]) == 2
