"""SQL text and row mapping for the SQLite adapter.

Timestamps are fixed-width UTC text, so text order is time order; JSON columns
hold attributes, provenance, history changes and doc data. Every value is a
bound parameter; the SQL text itself is built from constant fragments only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from cmdb.errors import DuplicateError, NotFoundError, StoreUnavailableError
from cmdb.model import jsontext
from cmdb.model.queries import CIOrderField, CISelection
from cmdb.model.records import (
    CI,
    Doc,
    HistoryEntry,
    Relationship,
    construct,
    decode_provenance,
    encode_provenance,
)
from cmdb.model.search import SearchQuery, ascii_lower
from cmdb.store.base import Direction

ORDER_COLUMNS = {
    CIOrderField.NAME: "name",
    CIOrderField.ASSET_TAG: "COALESCE(asset_tag, '')",
    CIOrderField.CREATED_AT: "created_at",
    CIOrderField.UPDATED_AT: "updated_at",
}
CI_COLUMNS = (
    "id, class, name, state, asset_tag, serial_number, serial_key, attributes, provenance, "
    "version, created_at, updated_at"
)
REL_COLUMNS = (
    "id, type, source_id, target_id, attributes, version, created_at, updated_at, ended_at"
)


_last_ts: tuple[datetime | None, str] = (None, "")


def ts(value: datetime) -> str:
    """A timestamp as fixed-width UTC text, so text order is time order."""
    global _last_ts  # a one-entry cache: a batch of changes shares its time stamp
    last = _last_ts
    if value is last[0]:
        return last[1]
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    text = utc.isoformat(timespec="microseconds")[:-6] + "Z"
    _last_ts = (value, text)
    return text


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _ci_row(ci: CI) -> tuple[Any, ...]:
    return (
        ci.id, ci.class_name, ci.name, ci.state, ci.asset_tag, ci.serial_number, ci.serial_key,
        jsontext.dumps(ci.attributes),
        encode_provenance(ci.provenance),
        ci.version, ts(ci.created_at), ts(ci.updated_at),
    )


def _ci_update_row(ci: CI) -> tuple[Any, ...]:
    """The columns an update writes (all but the id, first, and the creation time), then
    the id."""
    return (
        ci.class_name, ci.name, ci.state, ci.asset_tag, ci.serial_number, ci.serial_key,
        jsontext.dumps(ci.attributes), encode_provenance(ci.provenance), ci.version,
        ts(ci.updated_at), ci.id,
    )


def _ci(row: sqlite3.Row) -> CI:
    return construct(CI, dict(
        id=row["id"], class_name=row["class"], name=row["name"], state=row["state"],
        asset_tag=row["asset_tag"], serial_number=row["serial_number"],
        attributes=jsontext.loads(row["attributes"]),
        provenance=decode_provenance(row["provenance"]),
        version=row["version"], created_at=parse_ts(row["created_at"]),
        updated_at=parse_ts(row["updated_at"]),
    ))


def _rel_row(rel: Relationship) -> tuple[Any, ...]:
    return (
        rel.id, rel.type, rel.source_id, rel.target_id,
        jsontext.dumps(rel.attributes), rel.version,
        ts(rel.created_at), ts(rel.updated_at), ts(rel.ended_at) if rel.ended_at else None,
    )


def _rel(row: sqlite3.Row) -> Relationship:
    return construct(Relationship, dict(
        id=row["id"], type=row["type"], source_id=row["source_id"], target_id=row["target_id"],
        attributes=jsontext.loads(row["attributes"]), version=row["version"],
        created_at=parse_ts(row["created_at"]), updated_at=parse_ts(row["updated_at"]),
        ended_at=parse_ts(row["ended_at"]) if row["ended_at"] else None,
    ))


def _history(row: sqlite3.Row) -> HistoryEntry:
    return HistoryEntry.model_validate({
        "id": row["id"], "at": parse_ts(row["at"]), "actor": row["actor"],
        "channel": row["channel"], "run_id": row["run_id"], "action": row["action"],
        "entity_kind": row["entity_kind"], "entity_id": row["entity_id"], "ci_id": row["ci_id"],
        "peer_id": row["peer_id"], "reason": row["reason"],
        "changes": jsontext.loads(row["changes"]), "version": row["version"],
    })


DOC_COLUMNS = "kind, id, parent, key, data, version, created_at, updated_at"


def _doc_row(doc: Doc) -> tuple[Any, ...]:
    return (doc.kind, doc.id, doc.parent, doc.key, jsontext.dumps(doc.data),
            doc.version, ts(doc.created_at), ts(doc.updated_at))


def _doc(row: sqlite3.Row) -> Doc:
    return construct(Doc, dict(
        kind=row["kind"], id=row["id"], parent=row["parent"], key=row["key"],
        data=jsontext.loads(row["data"]), version=row["version"],
        created_at=parse_ts(row["created_at"]), updated_at=parse_ts(row["updated_at"]),
    ))


def _get_docs(conn: sqlite3.Connection, kind: str, ids: Sequence[str]) -> dict[str, Doc]:
    if not ids:
        return {}
    rows = conn.execute(
        f"SELECT {DOC_COLUMNS} FROM docs WHERE kind = ? AND id IN"
        " (SELECT value FROM json_each(?))", (kind, _json_list(ids)),
    )
    return {r["id"]: _doc(r) for r in rows}


def _duplicate(exc: sqlite3.IntegrityError) -> DuplicateError | NotFoundError:
    text = str(exc)
    if "FOREIGN KEY" in text:
        return NotFoundError("a relationship end does not exist")
    if "cis.asset_tag" in text:
        return DuplicateError("asset tag already in use", field="assetTag")
    if "cis.serial_key" in text:
        return DuplicateError("serial number already in use for this manufacturer",
                              field="serialNumber")
    if "relationships." in text:
        return DuplicateError("an identical active relationship already exists")
    if "docs." in text:
        return DuplicateError("a record with this id already exists")
    return DuplicateError(f"duplicate value: {text}")


def _json_list(values: Sequence[Any]) -> str:
    return jsontext.dumps(list(values))


@contextmanager
def _unavailable() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreUnavailableError(f"the SQLite database cannot be used: {exc}") from exc


def _get_cis(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, CI]:
    if not ids:
        return {}
    rows = conn.execute(
        f"SELECT {CI_COLUMNS} FROM cis WHERE id IN (SELECT value FROM json_each(?))",
        (_json_list(ids),),
    )
    return {r["id"]: _ci(r) for r in rows}


VERSIONS = {table: f"SELECT id, version FROM {table} WHERE id IN (SELECT value FROM json_each(?))"
            for table in ("cis", "relationships")}


def _versions(conn: sqlite3.Connection, table: str, ids: Sequence[str]) -> dict[str, int]:
    """The stored version of each of ``ids`` in ``table`` (``cis`` or ``relationships``)."""
    return {r[0]: r[1] for r in conn.execute(VERSIONS[table], (_json_list(ids),))}


def _get_relationships(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, Relationship]:
    if not ids:
        return {}
    rows = conn.execute(
        f"SELECT {REL_COLUMNS} FROM relationships WHERE id IN (SELECT value FROM json_each(?))",
        (_json_list(ids),),
    )
    return {r["id"]: _rel(r) for r in rows}


def _relationships_of(
    conn: sqlite3.Connection, ci_ids: Sequence[str], direction: Direction,
    types: Sequence[str] | None,
) -> dict[str, list[Relationship]]:
    end = "source_id" if direction == "out" else "target_id"
    sql = (f"SELECT {REL_COLUMNS} FROM relationships WHERE {end} IN"
           " (SELECT value FROM json_each(?)) AND ended_at IS NULL")
    args: list[Any] = [_json_list(ci_ids)]
    if types is not None:
        sql += " AND type IN (SELECT value FROM json_each(?))"
        args.append(_json_list(types))
    out: dict[str, list[Relationship]] = {i: [] for i in ci_ids}
    for row in conn.execute(sql + " ORDER BY created_at, id", args):
        out[row[end]].append(_rel(row))
    return out


def where(query: CISelection) -> tuple[str, list[Any]]:
    """The WHERE clause and its parameters for a CI selection."""
    clauses: list[str] = []
    args: list[Any] = []
    if query.ids is not None:
        clauses.append("id IN (SELECT value FROM json_each(?))")
        args.append(_json_list(query.ids))
    if query.classes is not None:
        clauses.append("class IN (SELECT value FROM json_each(?))")
        args.append(_json_list(query.classes))
    if query.states is not None:
        clauses.append("state IN (SELECT value FROM json_each(?))")
        args.append(_json_list(query.states))
    if query.location_id is not None:
        clauses.append(
            "id IN (WITH RECURSIVE inside(id) AS (SELECT ? UNION"
            " SELECT r.source_id FROM relationships r JOIN inside i ON r.target_id = i.id"
            " WHERE r.type = 'LOCATED_IN' AND r.ended_at IS NULL) SELECT id FROM inside)"
            " AND id <> ?"
        )
        args += [query.location_id, query.location_id]
    if query.owner_id is not None:
        clauses.append(
            "id IN (SELECT source_id FROM relationships WHERE type = 'OWNED_BY'"
            " AND target_id = ? AND ended_at IS NULL)"
        )
        args.append(query.owner_id)
    if query.text:
        pattern = "%" + query.text.replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        clauses.append(
            "(name LIKE ? ESCAPE '\\' OR asset_tag LIKE ? ESCAPE '\\'"
            " OR serial_number LIKE ? ESCAPE '\\')"
        )
        args += [pattern] * 3
    if query.search is not None:
        clause, more = _search(query.search)
        clauses.append(clause)
        args += more
    for match in query.attributes:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(cis.attributes, ?) WHERE json_each.value = ?)"
        )
        args += [f"$.{match.name}", match.value]
    for name in query.missing_attributes:
        clauses.append("json_extract(attributes, ?) IS NULL")
        args.append(f"$.{name}")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _search(search: SearchQuery) -> tuple[str, list[Any]]:
    """The query box (cmdb.model.search): addresses by the ``ci_keys`` index, text as a
    part of a CI's ``text`` key (name, tag, serial, host names, FQDN)."""
    parts: list[str] = []
    args: list[Any] = []
    for kind, value in (("ip", search.ip), ("mac", search.mac)):
        if value is not None:
            parts.append("id IN (SELECT ci_id FROM ci_keys WHERE kind = ? AND value = ?)")
            args += [kind, value]
    if search.text is not None:
        parts.append("id IN (SELECT ci_id FROM ci_keys WHERE kind = 'text'"
                     " AND instr(value, ?) > 0)")
        args.append(ascii_lower(search.text))
    return "(" + " OR ".join(parts) + ")", args
