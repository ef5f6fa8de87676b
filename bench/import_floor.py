"""The floor of an import, for ``bench_import``: a plain Python pass doing the same
identification, comparison and outcome writes straight through the database driver.

Per chunk of 1,000 observations it asks the store once for the matched CIs' compared
columns and place (the same question the adapter asks), compares every observed field
with them in a loop of dictionary lookups, and keeps one compact outcome row per
observation, written as blocks. The place paths are read once. It keeps none of the
product's rules (provenance, precedence, lifecycle, history, validation): this is what
the hardware and the database cost, not our code. The one thing it shares is what a
value means: a manufacturer is compared as the vendor table names it (华为 is stored as
``Huawei``), one dictionary lookup, as the import does.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from neo4j import AsyncDriver

from cmdb.model.records import new_id
from cmdb.model.registry import load_registry
from cmdb.store.neo4j import cypher as q
from cmdb.store.neo4j.facts import FACTS_CYPHER, _projection
from cmdb.store.sqlite.facts import FACTS_SQL
from importers import Observation

CHUNK = 1000
WRITE_EVERY = 10
ATTRIBUTES = ("manufacturer", "model", "mac_addresses", "ip_addresses", "hostnames",
              "purchase_date", "warranty_end", "department", "note", "custodian")
LOCATED = ("SELECT c.id, c.name, (SELECT r.target_id FROM relationships r WHERE r.source_id"
           " = c.id AND r.type = 'LOCATED_IN' AND r.ended_at IS NULL LIMIT 1)"
           " FROM cis c WHERE c.class IN (SELECT value FROM json_each(?))")
LOCATED_CYPHER = ("MATCH (c:CI) WHERE c.class IN $classes"
                  " RETURN collect([c.id, c.name, head([(c)-[r:LOCATED_IN WHERE"
                  " r.ended_at IS NULL]->(p) | p.id])]) AS rows")


def _chunks(items: Sequence[Observation]) -> Iterator[Sequence[Observation]]:
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


def _paths(rows: list[Any]) -> dict[tuple[str, ...], str]:
    """Every place's path (names from the top) to its id."""
    name = {r[0]: r[1] for r in rows}
    parent = {r[0]: r[2] for r in rows}
    out: dict[tuple[str, ...], str] = {}
    for place in name:
        path: list[str] = []
        at: str | None = place
        while at is not None and len(path) < 8:
            path.append(name.get(at, ""))
            at = parent.get(at)
        out[tuple(reversed(path))] = place
    return out


_MAKER = load_registry().vendors.normalise


def _observed(o: Observation) -> list[tuple[str, Any]]:
    ips = [str(ip) for ip in o.ip_addresses] or None
    maker = _MAKER(o.manufacturer) if o.manufacturer else None
    return [("manufacturer", maker), ("model", o.model),
            ("mac_addresses", o.mac_addresses or None), ("ip_addresses", ips),
            ("hostnames", o.hostnames or None),
            ("purchase_date", o.purchase_date.isoformat() if o.purchase_date else None),
            ("warranty_end", o.warranty_end.isoformat() if o.warranty_end else None),
            ("department", o.department), ("note", o.note), ("custodian", o.owner)]


def compare(o: Observation, row: tuple[Any, ...] | None, attrs: dict[str, Any],
            paths: dict[tuple[str, ...], str], states: dict[str, str],
            classes: dict[str, str]) -> dict[str, Any]:
    """One observation against the CI's columns (``row``: id, class, name, state, serial,
    place), as a compact outcome row."""
    line = o.locator.line
    if row is None:
        return {"line": line, "outcome": "NEW", "observation": {"asset_tag": o.asset_tag}}
    ci_id, cls, name, state, serial, place = row
    diffs = []
    for field, seen, have in (("name", o.name, name), ("serial_number", o.serial_number,
                                                       serial)):
        if seen is not None and seen != have:
            diffs.append({"field": field, "registered": have, "observed": seen})
    for field, seen in _observed(o):
        if seen is not None and attrs.get(field) != seen:
            diffs.append({"field": field, "registered": attrs.get(field), "observed": seen})
    if o.class_hint and classes.get(o.class_hint) != cls:
        diffs.append({"field": "class", "registered": cls, "observed": o.class_hint})
    if o.state_hint and states.get(o.state_hint) != state:
        diffs.append({"field": "state", "registered": state, "observed": o.state_hint})
    if o.location and (place is None or paths.get(tuple(o.location)) != place):
        diffs.append({"field": "location", "registered": place,
                      "observed": "/".join(o.location)})
    if not diffs:
        return {"line": line, "outcome": "MATCHED", "ci_id": ci_id,
                "observation": {"asset_tag": o.asset_tag, "name": o.name}}
    return {"line": line, "outcome": "MATCHED_WITH_DIFFERENCES", "ci_id": ci_id,
            "differences": diffs, "observation": o.model_dump(mode="json",
                                                              exclude_defaults=True)}


def _blocks(run_id: str, chunk: int, rows: list[dict[str, Any]], at: str) -> list[tuple[Any, ...]]:
    kinds: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        kinds.setdefault(row["outcome"], []).append(row)
    return [("bench_floor", f"{run_id}:{chunk}:{kind}", run_id, kind,
             orjson.dumps({"chunk": chunk, "rows": found}).decode(), 1, at, at)
            for kind, found in kinds.items()]


def sqlite_floor(path: Path, observations: Sequence[Observation], place_classes: Sequence[str],
                 states: dict[str, str], classes: dict[str, str]) -> tuple[float, Counter[str]]:
    """Seconds for the plain pass on the SQLite file, and its outcome counts."""
    conn = sqlite3.connect(path, isolation_level=None)
    started = time.perf_counter()
    paths = _paths(conn.execute(LOCATED, (orjson.dumps(list(place_classes)).decode(),))
                   .fetchall())
    sql = FACTS_SQL.format(column="asset_tag")
    counts: Counter[str] = Counter()
    run_id, at = new_id(), "2026-01-01T00:00:00.000000Z"
    pending: list[tuple[Any, ...]] = []
    for n, chunk in enumerate(_chunks(observations)):
        tags = [o.asset_tag for o in chunk if o.asset_tag]
        found = {r[0]: r for r in conn.execute(sql, (orjson.dumps(tags).decode(),))}
        rows = []
        for o in chunk:
            r = found.get(o.asset_tag)
            columns = (r[1], r[2], r[3], r[4], r[6], r[10]) if r else None
            rows.append(compare(o, columns, orjson.loads(r[8]) if r else {}, paths, states,
                                classes))
        counts.update(row["outcome"] for row in rows)
        pending += _blocks(run_id, n, rows, at)
        if (n + 1) % WRITE_EVERY == 0 or (n + 1) * CHUNK >= len(observations):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO docs (kind, id, parent, key, data, version,"
                             " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)", pending)
            conn.execute("COMMIT")
            pending = []
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, counts


async def neo4j_floor(driver: AsyncDriver, observations: Sequence[Observation],
                      place_classes: Sequence[str], states: dict[str, str],
                      classes: dict[str, str]) -> tuple[float, Counter[str]]:
    """Seconds for the plain pass through the Neo4j driver, and its outcome counts."""
    started = time.perf_counter()
    located = await driver.execute_query(LOCATED_CYPHER, classes=list(place_classes),
                                         routing_="r")
    paths = _paths(located.records[0]["rows"])
    projected, names = _projection(ATTRIBUTES)
    cypher = q.collected(FACTS_CYPHER.format(prop="asset_tag", attributes=projected),
                         ("v", "f"))
    counts: Counter[str] = Counter()
    run_id, at = new_id(), "2026-01-01T00:00:00Z"
    pending: list[dict[str, Any]] = []
    for n, chunk in enumerate(_chunks(observations)):
        tags = [o.asset_tag for o in chunk if o.asset_tag]
        answer = await driver.execute_query(cypher, values=tags, routing_="r")
        found = {v: f for v, f in answer.records[0]["rows"]} if answer.records else {}
        rows = []
        for o in chunk:
            f = found.get(o.asset_tag)
            columns = (f[0], f[1], f[2], f[3], f[5], f[8][0] if f[8] else None) if f else None
            attrs = {k: v for k, v in zip(names, f[9], strict=True) if v is not None} \
                if f else {}
            rows.append(compare(o, columns, attrs, paths, states, classes))
        counts.update(row["outcome"] for row in rows)
        pending += [dict(zip(("kind", "id", "parent", "key", "data", "version", "created_at",
                              "updated_at"), block, strict=True))
                    for block in _blocks(run_id, n, rows, at)]
        if (n + 1) % WRITE_EVERY == 0 or (n + 1) * CHUNK >= len(observations):
            await driver.execute_query("UNWIND $rows AS row CREATE (d:Doc) SET d = row",
                                       rows=pending)
            pending = []
    return time.perf_counter() - started, counts
