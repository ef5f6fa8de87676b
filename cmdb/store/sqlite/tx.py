"""The SQLite unit of work: what a write may do inside one ``BEGIN IMMEDIATE``
transaction on the writer connection.

Compare-and-set updates read the stored versions first (the transaction holds the
write lock, so they cannot change before the update); a taken unique value comes
back as ``DuplicateError``, a missing relationship end as ``NotFoundError``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from cmdb.errors import VersionConflictError
from cmdb.model import jsontext
from cmdb.model.records import CI, Doc, HistoryEntry, Relationship
from cmdb.store.base import Direction, KeyField, StoreTx
from cmdb.store.sqlite.sql import (
    CI_COLUMNS,
    DOC_COLUMNS,
    REL_COLUMNS,
    _ci_row,
    _ci_update_row,
    _doc_row,
    _duplicate,
    _get_cis,
    _get_docs,
    _get_relationships,
    _json_list,
    _rel_row,
    _relationships_of,
    _versions,
    ts,
)


class _DocTx:
    """The doc half of a SQLite unit of work."""

    conn: sqlite3.Connection

    async def put_docs(self, docs: Sequence[Doc]) -> None:
        try:
            self.conn.executemany(
                f"INSERT INTO docs ({DOC_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                [_doc_row(d) for d in docs],
            )
        except sqlite3.IntegrityError as exc:
            raise _duplicate(exc) from exc

    async def update_doc(self, doc: Doc, expected_version: int) -> None:
        row = _doc_row(doc)
        cur = self.conn.execute(
            "UPDATE docs SET parent=?, key=?, data=?, version=?, updated_at=?"
            " WHERE kind=? AND id=? AND version=?",
            (row[2], row[3], row[4], row[5], row[7], doc.kind, doc.id, expected_version),
        )
        if cur.rowcount != 1:
            raise VersionConflictError(
                f"{doc.kind} {doc.id} was changed by someone else "
                f"(expected version {expected_version})", id=doc.id,
            )

    async def get_docs(self, kind: str, ids: Sequence[str]) -> dict[str, Doc]:
        return _get_docs(self.conn, kind, ids)


class SqliteTx(_DocTx, StoreTx):
    """A unit of work on the writer connection, inside ``BEGIN IMMEDIATE``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def delete_all(self) -> None:
        for table in ("docs", "history", "relationships", "cis"):
            self.conn.execute(f"DELETE FROM {table}")

    async def get_cis(self, ids: Sequence[str]) -> dict[str, CI]:
        return _get_cis(self.conn, ids)

    async def find_ci_ids(
        self, *, asset_tag: str | None = None, serial_key: str | None = None
    ) -> list[str]:
        if asset_tag is not None:
            sql, arg = "SELECT id FROM cis WHERE asset_tag = ?", asset_tag
        elif serial_key is not None:
            sql, arg = "SELECT id FROM cis WHERE serial_key = ?", serial_key
        else:
            return []
        return [r["id"] for r in self.conn.execute(sql, (arg,))]

    async def holders(self, key: KeyField, values: Sequence[str]) -> dict[str, list[str]]:
        column = "asset_tag" if key == "asset_tag" else "serial_key"
        out: dict[str, list[str]] = {}
        for row in self.conn.execute(
                f"SELECT {column} AS v, id FROM cis WHERE {column} IN"
                " (SELECT value FROM json_each(?))", (_json_list(values),)):
            out.setdefault(row["v"], []).append(row["id"])
        return out

    async def find_ci_ids_by_attribute(
        self, classes: Sequence[str], name: str, value: Any
    ) -> list[str]:
        rows = self.conn.execute(
            "SELECT id FROM cis WHERE class IN (SELECT value FROM json_each(?))"
            " AND json_extract(attributes, ?) = ?",
            (_json_list(classes), f"$.{name}", value),
        )
        return [r["id"] for r in rows]

    async def insert_ci(self, ci: CI) -> None:
        try:
            self.conn.execute(
                f"INSERT INTO cis ({CI_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", _ci_row(ci)
            )
        except sqlite3.IntegrityError as exc:
            raise _duplicate(exc) from exc

    async def insert_cis(self, cis: Sequence[CI]) -> None:
        try:
            self.conn.executemany(
                f"INSERT INTO cis ({CI_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [_ci_row(ci) for ci in cis],
            )
        except sqlite3.IntegrityError as exc:
            raise _duplicate(exc) from exc

    async def update_ci(self, ci: CI, expected_version: int) -> None:
        await self.update_cis([(ci, expected_version)])

    async def update_cis(self, changes: Sequence[tuple[CI, int]]) -> None:
        # The unit of work holds the write lock: versions read now cannot change before
        # the batch's one UPDATE statement, and a stale one is named. A CI given twice
        # is checked against what its earlier change wrote, as a statement each would.
        stored = _versions(self.conn, "cis", [ci.id for ci, _ in changes])
        for ci, expected in changes:
            if stored.get(ci.id) != expected:
                raise VersionConflictError(
                    f"CI {ci.id} was changed by someone else (expected version {expected})",
                    id=ci.id, expectedVersion=expected,
                )
            stored[ci.id] = ci.version
        try:  # created_at never changes: it is not written again
            self.conn.executemany(
                "UPDATE cis SET class=?, name=?, state=?, asset_tag=?, serial_number=?,"
                " serial_key=?, attributes=?, provenance=?, version=?, updated_at=?"
                " WHERE id=?", [_ci_update_row(ci) for ci, _ in changes])
        except sqlite3.IntegrityError as exc:
            raise _duplicate(exc) from exc

    async def get_relationships(self, ids: Sequence[str]) -> dict[str, Relationship]:
        return _get_relationships(self.conn, ids)

    async def active_relationships(
        self, ci_id: str, direction: Direction, types: Sequence[str] | None = None
    ) -> list[Relationship]:
        return _relationships_of(self.conn, [ci_id], direction, types).get(ci_id, [])

    async def active_relationships_of(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None = None
    ) -> dict[str, list[Relationship]]:
        return _relationships_of(self.conn, ci_ids, direction, types)

    async def insert_relationship(self, rel: Relationship) -> None:
        try:
            self.conn.execute(
                f"INSERT INTO relationships ({REL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                _rel_row(rel),
            )
        except sqlite3.IntegrityError as exc:
            raise _duplicate(exc) from exc

    async def insert_relationships(self, rels: Sequence[Relationship]) -> None:
        try:
            self.conn.executemany(
                f"INSERT INTO relationships ({REL_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                [_rel_row(r) for r in rels],
            )
        except sqlite3.IntegrityError as exc:
            raise _duplicate(exc) from exc

    async def update_relationship(self, rel: Relationship, expected_version: int) -> None:
        await self.update_relationships([(rel, expected_version)])

    async def update_relationships(self, changes: Sequence[tuple[Relationship, int]]) -> None:
        stored = _versions(self.conn, "relationships", [rel.id for rel, _ in changes])
        for rel, expected in changes:
            if stored.get(rel.id) != expected:
                raise VersionConflictError(
                    f"relationship {rel.id} was changed by someone else", id=rel.id
                )
            stored[rel.id] = rel.version
        self.conn.executemany(
            "UPDATE relationships SET type=?, source_id=?, target_id=?, attributes=?,"
            " version=?, created_at=?, updated_at=?, ended_at=? WHERE id=?",
            [(*_rel_row(rel)[1:], rel.id) for rel, _ in changes])

    async def add_history(self, entries: Sequence[HistoryEntry]) -> None:
        self.conn.executemany(
            "INSERT INTO history (id, at, actor, channel, run_id, action, entity_kind, entity_id,"
            " ci_id, peer_id, reason, changes, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (e.id, ts(e.at), e.actor, e.channel.value, e.run_id, e.action.value,
                 e.entity_kind.value, e.entity_id, e.ci_id, e.peer_id, e.reason,
                 jsontext.dumps([c.__dict__ for c in e.changes]),
                 e.version)
                for e in entries
            ],
        )
