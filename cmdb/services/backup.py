"""Backup, restore and migration: a portable, versioned, checksummed dump.

The dump is JSON Lines, one record per line, keys sorted so that two dumps of
the same data are byte-identical whatever store they came from::

    {"format": "graph-cmdb-backup", "version": 1, "created_at": ..., "source": "sqlite"}
    {"kind": "ci", "record": {...}}
    {"kind": "relationship", "record": {...}}
    {"kind": "history", "record": {...}}
    {"kind": "doc", "record": {...}}          import runs, changes, campaigns, ...
    {"kind": "end", "counts": {...}, "sha256": "<hex of every record line>"}

A restore reads the whole file once to check the format, version and checksum
before it writes anything, then loads it in one transaction: it lands whole or
not at all. Later record kinds (campaigns, changes) add lines, not formats.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError as PydanticValidationError

from cmdb.errors import ConflictError, ValidationError
from cmdb.model.queries import CISelection
from cmdb.model.records import CI, Doc, HistoryEntry, Relationship, now
from cmdb.store.base import Store, StoreTx

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


def read_dump(path: Path) -> Iterator[tuple[str, Any]]:
    """Check a dump end to end, then yield its records; a bad file yields nothing."""
    digest = hashlib.sha256()
    end: dict[str, Any] | None = None
    counts = dict.fromkeys(KINDS, 0)
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
    if end is None:
        raise _bad(path, 0, "the end line is missing: the dump is truncated")
    if end.get("sha256") != digest.hexdigest():
        raise _bad(path, 0, "checksum mismatch: the dump is damaged")
    if end.get("counts") != counts:
        raise _bad(path, 0, "record counts do not match the end line")
    with path.open(encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            data = json.loads(text)
            kind = data.get("kind")
            if kind in KINDS:
                try:
                    yield kind, KINDS[kind].model_validate(data["record"])
                except PydanticValidationError as exc:
                    raise _bad(path, number, str(exc.errors()[0]["msg"])) from exc


async def restore(store: Store, path: Path, *, replace: bool = False,
                  progress: Progress | None = None) -> dict[str, int]:
    """Load a dump into ``store`` in one transaction; refuses a non-empty store unless
    ``replace``, which wipes it first."""
    records: dict[str, list[Any]] = {k: [] for k in KINDS}
    for kind, record in read_dump(path):
        records[kind].append(record)
    if await store.count_cis(CISelection()) and not replace:
        raise ConflictError(
            "the target store is not empty; restore into an empty store, or pass --replace "
            "to wipe it first", field="target",
        )
    async def load(tx: StoreTx) -> None:
        if replace:
            # In the same transaction as the load: a failed or killed restore
            # leaves the old data, never an empty store.
            await tx.delete_all()
        await tx.insert_cis(records["ci"])
        if progress:
            progress(len(records["ci"]))
        await tx.insert_relationships(records["relationship"])
        if progress:
            progress(len(records["relationship"]))
        await tx.add_history(records["history"])
        await tx.put_docs(records["doc"])
        if progress:
            progress(len(records["history"]) + len(records["doc"]))

    await store.write(load)
    return {k: len(v) for k, v in records.items()}
