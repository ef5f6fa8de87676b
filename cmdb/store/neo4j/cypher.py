"""Cypher text and record mapping for the Neo4j adapter.

A CI is a ``(:CI)`` node: core fields as properties, each attribute as an
``attr_<name>`` property (so filters can use it), provenance as JSON. A
relationship is a typed Neo4j relationship (``-[:RUNS_ON]->``) with an ``id``;
ended ones keep their ``ended_at``. History entries are ``(:HistoryEntry)``
nodes ordered by ``seq``. Values are always parameters; the only text built
into a query is a relationship type or a depth, and both are checked first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cmdb.errors import ValidationError
from cmdb.model import jsontext, search
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

ATTR = "attr_"
#: Derived properties the query box searches (cmdb.model.search), kept by every write.
SEARCH_TEXT, SEARCH_KEYS = "search_text", "search_keys"
TYPE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

CONSTRAINTS = [
    "CREATE CONSTRAINT ci_id IF NOT EXISTS FOR (n:CI) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT ci_asset_tag IF NOT EXISTS FOR (n:CI) REQUIRE n.asset_tag IS UNIQUE",
    "CREATE CONSTRAINT ci_serial_key IF NOT EXISTS FOR (n:CI) REQUIRE n.serial_key IS UNIQUE",
    "CREATE CONSTRAINT history_id IF NOT EXISTS FOR (h:HistoryEntry) REQUIRE h.id IS UNIQUE",
    # Lists read a page along an index in its order (the listed property last, so an
    # equality on the ones before it leaves the entries in list order).
    "CREATE INDEX ci_name IF NOT EXISTS FOR (n:CI) ON (n.name, n.id)",
    "CREATE INDEX ci_created IF NOT EXISTS FOR (n:CI) ON (n.created_at, n.id)",
    "CREATE INDEX ci_updated IF NOT EXISTS FOR (n:CI) ON (n.updated_at, n.id)",
    "CREATE INDEX ci_class IF NOT EXISTS FOR (n:CI) ON (n.class)",
    "CREATE INDEX ci_state IF NOT EXISTS FOR (n:CI) ON (n.state)",
    # The query box (cmdb.model.search): text indexes answer CONTAINS from trigrams.
    "CREATE TEXT INDEX ci_search_text IF NOT EXISTS FOR (n:CI) ON (n.search_text)",
    "CREATE TEXT INDEX ci_search_keys IF NOT EXISTS FOR (n:CI) ON (n.search_keys)",
    "CREATE INDEX history_ci_seq IF NOT EXISTS FOR (h:HistoryEntry) ON (h.ci_id, h.seq)",
    "CREATE INDEX history_peer_seq IF NOT EXISTS FOR (h:HistoryEntry) ON (h.peer_id, h.seq)",
    "CREATE INDEX history_actor_seq IF NOT EXISTS FOR (h:HistoryEntry) ON (h.actor, h.seq)",
    "CREATE INDEX history_run_seq IF NOT EXISTS FOR (h:HistoryEntry) ON (h.run_id, h.seq)",
    "CREATE INDEX history_seq IF NOT EXISTS FOR (h:HistoryEntry) ON (h.seq)",
    "CREATE CONSTRAINT doc_id IF NOT EXISTS FOR (d:Doc) REQUIRE (d.kind, d.id) IS UNIQUE",
    "CREATE INDEX doc_parent_seq IF NOT EXISTS FOR (d:Doc) ON (d.kind, d.parent, d.seq)",
    "CREATE INDEX doc_key_seq IF NOT EXISTS FOR (d:Doc) ON (d.kind, d.key, d.seq)",
    "CREATE INDEX doc_seq IF NOT EXISTS FOR (d:Doc) ON (d.seq)",
]

#: Indexes of earlier versions that the ones above replace (dropped at start-up).
RETIRED_INDEXES = ["history_ci", "history_peer", "history_actor", "history_run",
                   "doc_parent", "doc_key"]

ORDER = {
    CIOrderField.NAME: "n.name",
    CIOrderField.ASSET_TAG: "coalesce(n.asset_tag, '')",
    CIOrderField.CREATED_AT: "n.created_at",
    CIOrderField.UPDATED_AT: "n.updated_at",
}


# Temporal properties travel as ISO text and become Neo4j DateTime values on the
# server: the Python driver packs datetime objects ~20x slower than strings.
CI_TIMES = ("created_at", "updated_at")
REL_TIMES = ("created_at", "updated_at", "ended_at")
HISTORY_TIMES = ("at",)


def collected(cypher: str, columns: Sequence[str], union: bool = False) -> str:
    """``cypher`` (ending in ``RETURN`` of ``columns``, maybe ordered and limited) answered
    as one record holding the list of its rows. The async driver handles every record
    on its own (a few event-loop turns each), so a thousand small records cost ten times
    what one list of a thousand does.

    The final ``RETURN`` becomes a ``WITH`` followed by the ``collect``, so the query
    stays one query part and keeps its plan (an ordered, limited read still stops early).
    A ``union`` of several ``RETURN``s is wrapped in a subquery instead.
    """
    names = ", ".join(f"`{c}`" for c in columns)
    if union:
        return f"CALL () {{ {cypher} }} RETURN collect([{names}]) AS rows"
    at = cypher.rfind("RETURN ")
    return f"{cypher[:at]}WITH {cypher[at + len('RETURN '):]} RETURN collect([{names}]) AS rows"


def by_key(key: str, returning: str) -> str:
    """Each of ``$values`` looked up as an asset tag or serial key (one index seek each:
    the property is written into the query, the values are parameters), as ``v`` with
    ``returning``."""
    field = "asset_tag" if key == "asset_tag" else "serial_key"
    return f"UNWIND $values AS v MATCH (n:CI {{{field}: v}}) RETURN v, {returning}"


def grouped(rows: Sequence[dict[str, Any]], column: str) -> dict[str, list[Any]]:
    """``column`` of each row, grouped by the row's ``v``."""
    out: dict[str, list[Any]] = {}
    for r in rows:
        out.setdefault(r["v"], []).append(r[column])
    return out


def uncollected(records: Sequence[Any], columns: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of a :func:`collected` answer, each as a dict by column."""
    if not records:
        return []
    return [dict(zip(columns, row, strict=True)) for row in records[0]["rows"]]


def to_datetimes(var: str, keys: tuple[str, ...]) -> str:
    """Cypher turning the ISO text just written into DateTime values."""
    return "SET " + ", ".join(f"{var}.{k} = datetime({var}.{k})" for k in keys)


def as_text(var: str, keys: tuple[str, ...]) -> str:
    """A projection of all properties with the temporal ones as ISO text."""
    return f"{var} {{.*, " + ", ".join(f"{k}: toString({var}.{k})" for k in keys) + "}"


N, R, H, D = as_text("n", CI_TIMES), as_text("r", REL_TIMES), as_text("h", HISTORY_TIMES), \
    as_text("d", CI_TIMES)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def rel_type(name: str) -> str:
    """A relationship type safe to write into Cypher (it cannot be a parameter)."""
    if not TYPE_NAME.match(name):
        raise ValidationError(f"invalid relationship type {name!r}", field="type")
    return name


def type_pattern(types: list[str] | tuple[str, ...]) -> str:
    return "|".join(rel_type(t) for t in types)


def rel_index(name: str) -> str:
    t = rel_type(name)
    return (f"CREATE INDEX rel_{t.lower()}_id IF NOT EXISTS "
            f"FOR ()-[r:{t}]-() ON (r.id)")


def native(value: Any) -> Any:
    """Neo4j temporal values (or their ISO text) as Python datetimes."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    to_native = getattr(value, "to_native", None)
    return to_native() if to_native else value


def ci_props(ci: CI) -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": ci.id, "class": ci.class_name, "name": ci.name, "state": ci.state,
        "asset_tag": ci.asset_tag, "serial_number": ci.serial_number,
        "serial_key": ci.serial_key, "version": ci.version,
        "created_at": _iso(ci.created_at), "updated_at": _iso(ci.updated_at),
        "provenance": encode_provenance(ci.provenance),
    }
    for key, value in ci.attributes.items():
        if not ATTRIBUTE_NAME.match(key):
            raise ValidationError(f"invalid attribute name {key!r}", field=key)
        props[ATTR + key] = value
    props[SEARCH_TEXT] = search.search_text(ci.name, ci.asset_tag, ci.serial_number,
                                            ci.attributes)
    props[SEARCH_KEYS] = search.exact_text(ci.attributes)
    return props


def to_ci(props: dict[str, Any]) -> CI:
    attributes = {key[len(ATTR):]: value for key, value in props.items()
                  if key.startswith(ATTR)}
    provenance = props.get("provenance") or "{}"
    return construct(CI, dict(
        id=props["id"], class_name=props["class"], name=props["name"], state=props["state"],
        asset_tag=props.get("asset_tag"), serial_number=props.get("serial_number"),
        attributes=attributes,
        provenance=decode_provenance(provenance),
        version=props["version"], created_at=native(props["created_at"]),
        updated_at=native(props["updated_at"]),
    ))


def rel_props(rel: Relationship) -> dict[str, Any]:
    return {"id": rel.id, "attributes": jsontext.dumps(rel.attributes),
            "version": rel.version, "created_at": _iso(rel.created_at),
            "updated_at": _iso(rel.updated_at), "ended_at": _iso(rel.ended_at)}


def to_rel(props: dict[str, Any], rtype: str, source: str, target: str) -> Relationship:
    ended = props.get("ended_at")
    return construct(Relationship, dict(
        id=props["id"], type=rtype, source_id=source, target_id=target,
        attributes=jsontext.loads(props.get("attributes") or "{}"), version=props["version"],
        created_at=native(props["created_at"]), updated_at=native(props["updated_at"]),
        ended_at=native(ended) if ended is not None else None,
    ))


def history_props(entry: HistoryEntry, seq: str) -> dict[str, Any]:
    return {
        "seq": seq, "id": entry.id, "at": _iso(entry.at), "actor": entry.actor,
        "channel": entry.channel.value, "run_id": entry.run_id, "action": entry.action.value,
        "entity_kind": entry.entity_kind.value, "entity_id": entry.entity_id,
        "ci_id": entry.ci_id, "peer_id": entry.peer_id, "reason": entry.reason,
        "changes": jsontext.dumps([c.__dict__ for c in entry.changes]),
        "version": entry.version,
    }


def to_history(props: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry.model_validate({
        **{k: props.get(k) for k in ("id", "actor", "channel", "run_id", "action",
                                     "entity_kind", "entity_id", "ci_id", "peer_id",
                                     "reason", "version")},
        "at": native(props["at"]), "changes": jsontext.loads(props["changes"]),
    })


def where(query: CISelection) -> tuple[list[str], dict[str, Any]]:
    """Cypher predicates on ``n`` for a CI selection, and their parameters."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if query.ids is not None:
        clauses.append("n.id IN $ids")
        params["ids"] = list(query.ids)
    if query.classes is not None:
        clauses.append("n.class IN $classes")
        params["classes"] = list(query.classes)
    if query.states is not None:
        clauses.append("n.state IN $states")
        params["states"] = list(query.states)
    if query.location_id is not None:
        clauses.append(
            "n.id <> $location AND EXISTS { MATCH (n)-[r:LOCATED_IN WHERE r.ended_at IS NULL]"
            "->{1,64}(:CI {id: $location}) }"
        )
        params["location"] = query.location_id
    if query.owner_id is not None:
        clauses.append(
            "EXISTS { MATCH (n)-[r:OWNED_BY WHERE r.ended_at IS NULL]->(:CI {id: $owner}) }"
        )
        params["owner"] = query.owner_id
    if query.text:
        clauses.append(
            "(toLower(n.name) CONTAINS $text OR toLower(coalesce(n.asset_tag, '')) CONTAINS $text"
            " OR toLower(coalesce(n.serial_number, '')) CONTAINS $text)"
        )
        params["text"] = query.text.lower()
    if query.search is not None:
        clause, more = search_where(query.search)
        clauses.append(clause)
        params.update(more)
    for i, match in enumerate(query.attributes):
        key, value = f"ak{i}", f"av{i}"
        clauses.append(
            f"CASE WHEN valueType(n[${key}]) STARTS WITH 'LIST' THEN ${value} IN n[${key}]"
            f" ELSE n[${key}] = ${value} END"
        )
        params[key], params[value] = ATTR + match.name, match.value
    for i, name in enumerate(query.missing_attributes):
        clauses.append(f"n[$mk{i}] IS NULL")
        params[f"mk{i}"] = ATTR + name
    return clauses, params


def iso(value: Any) -> Any:
    """A sort value as JSON-friendly data for cursors."""
    to_native = getattr(value, "to_native", None)
    value = to_native() if to_native else value
    return value.isoformat() if isinstance(value, datetime) else value


def doc_props(doc: Doc) -> dict[str, Any]:
    return {"kind": doc.kind, "id": doc.id, "parent": doc.parent, "key": doc.key,
            "data": jsontext.dumps(doc.data), "version": doc.version,
            "created_at": _iso(doc.created_at), "updated_at": _iso(doc.updated_at)}


def to_doc(props: dict[str, Any]) -> Doc:
    return construct(Doc, dict(
        kind=props["kind"], id=props["id"], parent=props.get("parent"), key=props.get("key"),
        data=jsontext.loads(props["data"]), version=props["version"],
        created_at=native(props["created_at"]), updated_at=native(props["updated_at"]),
    ))


def search_where(box: search.SearchQuery) -> tuple[str, dict[str, Any]]:
    """The query box on ``n``: each part a ``CONTAINS`` a text index answers (the
    parameters typed as strings, which the planner needs to use one)."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    for kind, value in (("ip", box.ip), ("mac", box.mac)):
        if value is not None:
            parts.append(f"n.search_keys CONTAINS $s_{kind}")
            params[f"s_{kind}"] = search.SEP + search.key(kind, value) + search.SEP
    if box.text is not None:
        parts.append("n.search_text CONTAINS $s_text")
        params["s_text"] = box.text.lower()
    typed = " AND ".join(f"${p} IS :: STRING NOT NULL" for p in params)
    return f"({' OR '.join(parts)}) AND {typed}", params
