"""Backup, restore and migration: a portable, versioned, checksummed dump.

The dump is JSON Lines, one record per line, keys sorted so that two dumps of
the same data are byte-identical whatever store they came from::

    {"format": "graph-cmdb-backup", "version": 1, "created_at": ..., "source": "sqlite"}
    {"kind": "ci", "record": {...}}
    {"kind": "relationship", "record": {...}}
    {"kind": "history", "record": {...}}
    {"kind": "doc", "record": {...}}          import runs, changes, campaigns, ...
    {"kind": "end", "counts": {...}, "sha256": "<hex of every record line>"}

A restore reads the whole file once to check the format, version, checksum and
the integrity of the records (ids and keys unique, relationship ends present)
before it writes anything, then loads it: in one transaction on SQLite, in
bounded batches on Neo4j (see ``Store.load``). Later record kinds (campaigns,
changes) add lines, not formats.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError as PydanticValidationError

from cmdb.errors import ConflictError, IncompleteLoadError, ValidationError
from cmdb.model.queries import CISelection
from cmdb.model.records import CI, Doc, HistoryEntry, Relationship, now, serial_key
from cmdb.store.base import LoadKind, Store

FORMAT = "graph-cmdb-backup"
VERSION = 1
KINDS: dict[str, type[CI] | type[Relationship] | type[HistoryEntry] | type[Doc]] = {
    "ci": CI, "relationship": Relationship, "history": HistoryEntry, "doc": Doc,
}
STORE_ITERS = {"ci": "cis", "relationship": "relationships", "history": "history",
               "doc": "docs"}

Progress = Callable[[int], None]


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


async def backup(store: Store, out: IO[str], progress: Progress | None = None,
                 stamp: str | None = None) -> dict[str, int]:
    """Write every record of ``store`` to ``out``; returns the counts per kind."""
    digest = hashlib.sha256()
    counts = dict.fromkeys(KINDS, 0)

    def emit(data: dict[str, Any]) -> None:
        text = _line(data)
        digest.update(text.encode("utf-8"))
        out.write(text)

    # The checksum covers the records only, so the same data dumped from either
    # store has the same checksum.
    out.write(_line({"format": FORMAT, "version": VERSION, "source": store.kind,
                     "created_at": stamp or now().isoformat()}))
    for kind, what in STORE_ITERS.items():
        async for record in store.iter_all(what):  # type: ignore[arg-type]  # keys are literal
            emit({"kind": kind, "record": record.model_dump(mode="json")})
            counts[kind] += 1
            if progress:
                progress(1)
    out.write(_line({"kind": "end", "counts": counts, "sha256": digest.hexdigest()}))
    return counts


def _bad(path: Path, line: int, message: str) -> ValidationError:
    return ValidationError(f"{path}: line {line}: {message}", file=str(path), line=line)


@dataclass
class DumpCheck:
    """What checking a dump end to end found: its checksum (which names it) and counts."""

    sha256: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class _Integrity:
    """What must hold across a dump's records for a load to need no per-row checks:
    every id once, asset tags and serial keys once, every relationship's ends among
    the CIs (dumped before the relationships), no two identical active relationships."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: dict[str, dict[Any, int]] = {}

    def once(self, what: str, value: Any, line: int) -> None:
        if value is None:
            return
        where = self.seen.setdefault(what, {})
        if value in where:
            raise _bad(self.path, line, f"{what} {value!r} is already used on line "
                                        f"{where[value]}")
        where[value] = line

    def check(self, kind: str, record: Any, line: int) -> None:
        if not isinstance(record, dict):
            raise _bad(self.path, line, "a record must be a JSON object")
        if kind == "ci":
            self.once("CI id", record.get("id"), line)
            self.once("asset tag", record.get("asset_tag"), line)
            attributes = record.get("attributes")
            maker = attributes.get("manufacturer") if isinstance(attributes, dict) else None
            self.once("serial number", serial_key(
                maker if isinstance(maker, str) else None, record.get("serial_number")), line)
        elif kind == "relationship":
            self.once("relationship id", record.get("id"), line)
            cis = self.seen.get("CI id", {})
            for end in ("source_id", "target_id"):
                if record.get(end) not in cis:
                    raise _bad(self.path, line, f"relationship {record.get('id')!r}: its "
                                                f"{end} {record.get(end)!r} is no CI of the dump")
            if record.get("ended_at") is None:
                self.once("active relationship", (record.get("type"), record.get("source_id"),
                                                   record.get("target_id")), line)
        elif kind == "history":
            self.once("history entry id", record.get("id"), line)
        else:
            self.once(f"{record.get('kind')} id", record.get("id"), line)


def check_dump(path: Path) -> DumpCheck:
    """Read a dump once, end to end: its format and version, its checksum and counts, and
    the integrity of its records (:class:`_Integrity`). Raises ``ValidationError`` naming
    the line; nothing is written."""
    digest = hashlib.sha256()
    end: dict[str, Any] | None = None
    counts = dict.fromkeys(KINDS, 0)
    integrity = _Integrity(path)
    with path.open(encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: nested beyond reason
                raise _bad(path, number, "not a JSON line") from None
            if not isinstance(data, dict):
                raise _bad(path, number, "not a JSON object")
            if end is not None:
                raise _bad(path, number, "data after the end line")
            if number == 1:
                if data.get("format") != FORMAT:
                    raise _bad(path, 1, f"not a {FORMAT} file")
                if data.get("version") != VERSION:
                    raise _bad(path, 1, f"dump version {data.get('version')} is not supported "
                                        f"(this CMDB reads version {VERSION})")
                continue
            if data.get("kind") == "end":
                end = data
                continue
            if data.get("kind") in KINDS:
                counts[data["kind"]] += 1
            else:
                raise _bad(path, number, f"unknown record kind {data.get('kind')!r}")
            digest.update(text.encode("utf-8"))
            integrity.check(data["kind"], data.get("record"), number)
    if end is None:
        raise _bad(path, 0, "the end line is missing: the dump is truncated")
    if end.get("sha256") != digest.hexdigest():
        raise _bad(path, 0, "checksum mismatch: the dump is damaged")
    if end.get("counts") != counts:
        raise _bad(path, 0, "record counts do not match the end line")
    return DumpCheck(digest.hexdigest(), counts)


def dump_records(path: Path, skip: int = 0, size: int = 5000
                 ) -> Iterator[tuple[LoadKind, list[Any]]]:
    """The records of a checked dump after the first ``skip``, in batches of one kind of
    at most ``size``, in the dump's order (CIs, relationships, history, docs)."""
    batch: list[Any] = []
    batch_kind: LoadKind = "ci"
    seen = 0
    with path.open(encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            data = json.loads(text)
            kind = data.get("kind")
            if kind not in KINDS:
                continue
            seen += 1
            if seen <= skip:
                continue
            if batch and (kind != batch_kind or len(batch) >= size):
                yield batch_kind, batch
                batch = []
            batch_kind = kind
            try:
                batch.append(KINDS[kind].model_validate(data["record"]))
            except PydanticValidationError as exc:
                raise _bad(path, number, str(exc.errors()[0]["msg"])) from exc
    if batch:
        yield batch_kind, batch


async def restore(store: Store, path: Path, *, replace: bool = False,
                  progress: Progress | None = None) -> dict[str, int]:
    """Load a dump into ``store``; refuses a non-empty store unless ``replace``, which
    wipes it first. The dump is checked whole before anything is written.

    SQLite loads it in one transaction (all or nothing; a failed ``replace`` keeps the
    old data). Neo4j loads it in batches (bounded transaction memory): when that stops
    part-way, ``IncompleteLoadError`` says how far it got, and the same restore run again
    resumes after the last batch that made it in.
    """
    dump = check_dump(path)
    pending = await store.incomplete_load()
    if pending is None and not replace and await store.count_cis(CISelection()):
        raise ConflictError(
            "the target store is not empty; restore into an empty store, or pass --replace "
            "to wipe it first", field="target",
        )
    try:
        await store.load(lambda skip, size: dump_records(path, skip, size),
                         dump_id=dump.sha256, replace=replace, progress=progress)
    except IncompleteLoadError as exc:
        raise IncompleteLoadError(
            f"the load stopped after {exc.done:,} of {dump.total:,} records: {exc.message}. "
            "The target keeps them, marked as an incomplete load; run the same restore "
            "(or migrate) again to resume it, or restore with --replace to start over",
            done=exc.done,
        ) from exc
    return dump.counts
