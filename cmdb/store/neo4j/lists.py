"""Pages of CIs, history, docs and a CI's relationships on Neo4j.

A page is read one of two ways, and the records are projected only for the page,
after the ordering and the limit:

- **along an index in list order**, filtering as it goes: the read stops after the
  page, so it costs about ``first * total / matches`` index entries: cheap when the
  filter matches many;
- **from the filter's own index** (class, state, a place, an owner...), then sorted:
  it costs the number of matches: cheap when the filter matches few.

Which one is decided by counting the matches, up to the point where the two cost the
same (:func:`threshold`). Where an index holds the filter's property *and* the list
order (history by CI, actor or run; docs by parent or key), one ordered seek does both
and nothing needs deciding.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from cmdb.model.queries import CIOrder, CIOrderField, CISelection, Cursor
from cmdb.store.neo4j.cypher import ORDER, D, H, N, where

#: CI list orders with an index ``(property, id)`` to read along.
ORDER_INDEX = {CIOrderField.NAME: "name", CIOrderField.CREATED_AT: "created_at",
               CIOrderField.UPDATED_AT: "updated_at"}


def threshold(first: int, total: int) -> int:
    """How many matches make reading along the order index the cheaper way: it examines
    about ``first * total / matches`` entries, sorting examines ``matches``; the two
    meet at the square root of ``first * total``."""
    return max(first + 1, math.isqrt(max(first, 1) * total) + 1)


def anchored(query: CISelection) -> tuple[str, list[str], dict[str, Any]]:
    """``MATCH`` for the CIs of a selection, starting from its place or owner when it has
    one (walking down from there instead of up from every CI), with the predicates
    left and their parameters."""
    if query.location_id is not None:
        clauses, params = where(replace(query, location_id=None))
        params["location"] = query.location_id
        return ("MATCH (n:CI)-[r:LOCATED_IN WHERE r.ended_at IS NULL]->{1,64}"
                "(:CI {id: $location}) WITH DISTINCT n",
                ["n.id <> $location", *clauses], params)
    if query.owner_id is not None:
        clauses, params = where(replace(query, owner_id=None))
        params["owner"] = query.owner_id
        return ("MATCH (n:CI)-[o:OWNED_BY WHERE o.ended_at IS NULL]->(:CI {id: $owner})"
                " WITH DISTINCT n", clauses, params)
    clauses, params = where(query)
    return "MATCH (n:CI)", clauses, params


def _where(clauses: list[str]) -> str:
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""


def has_filter(query: CISelection) -> bool:
    return bool(where(query)[0])


def ci_count(query: CISelection, cap: int | None = None) -> tuple[str, dict[str, Any]]:
    """How many CIs match (at most ``cap`` of them, when given)."""
    match, clauses, params = anchored(query)
    if cap is None:
        return f"{match}{_where(clauses)} RETURN count(n) AS n", params
    return f"{match}{_where(clauses)} WITH n LIMIT $cap RETURN count(n) AS n", \
        {**params, "cap": cap}


def ci_page(query: CISelection, order: CIOrder, first: int, after: Cursor | None,
            along_index: bool) -> tuple[str, dict[str, Any]]:
    """One page of CIs as rows of ``n`` (the record) and ``sort`` (its cursor value)."""
    key = ORDER[order.field]
    op, direction = ("<", "DESC") if order.descending else (">", "ASC")
    value = ("datetime($after_value)" if order.field.value.endswith("_at")
             else "$after_value")
    if along_index:
        prop = ORDER_INDEX[order.field]
        clauses, params = where(query)
        head = f"MATCH (n:CI) USING INDEX n:CI({prop}, id)"
        if after is None:
            bounds = [f"n.{prop} IS NOT NULL", "n.id IS NOT NULL"]
        else:
            # The range is the index seek; the tie on equal values is a filter (an OR of
            # both would be split into two unordered seeks).
            bounds = [f"n.{prop} {op}= {value}", "n.id IS NOT NULL",
                      f"CASE WHEN n.{prop} = {value} THEN n.id {op} $after_id ELSE true END"]
        clauses = [*bounds, *clauses]
    else:
        head, clauses, params = anchored(query)
        if after is not None:
            clauses.append(f"({key} {op} {value} OR ({key} = {value} AND n.id {op} $after_id))")
    if after is not None:
        params.update(after_value=after.value, after_id=after.id)
    return (f"{head}{_where(clauses)} WITH n ORDER BY {key} {direction}, n.id {direction}"
            f" LIMIT $limit RETURN {N} AS n, {key} AS sort", {**params, "limit": first + 1})


def _after(label: str, key: str, after: str | None) -> tuple[str, str]:
    """What opens a page read and imports into its subquery: the entry ``after`` names
    (none: the page is empty), so the read inside can seek from its ``seq`` and still
    stop after the page (a bound computed in the same query part loses the order)."""
    if after is None:
        return "", "()"
    return f"MATCH (a:{label} {{{key}id: $after}}) ", "(a)"


def history_page(ci_id: str | None, actor: str | None, run_id: str | None, first: int,
                 after: str | None) -> tuple[str, dict[str, Any]]:
    """Newest first, along ``(ci_id|peer_id|run_id|actor, seq)`` or ``seq`` alone."""
    params: dict[str, Any] = {"limit": first + 1, "ci": ci_id, "actor": actor, "run": run_id,
                              "after": after}
    head, imports = _after("HistoryEntry", "", after)
    seq = "h.seq IS NOT NULL" if after is None else "h.seq < a.seq"
    filters = [f for f, v in (("h.actor = $actor", actor), ("h.run_id = $run", run_id)) if v]

    def along(prop: str, param: str | None) -> str:
        if prop == "seq":
            return (f"MATCH (h:HistoryEntry) USING INDEX h:HistoryEntry(seq)"
                    f"{_where([seq, *filters])} RETURN h ORDER BY h.seq DESC LIMIT $limit")
        return (f"MATCH (h:HistoryEntry) USING INDEX h:HistoryEntry({prop}, seq)"
                f"{_where([f'h.{prop} = ${param}', seq, *filters])}"
                f" RETURN h ORDER BY h.{prop} DESC, h.seq DESC LIMIT $limit")

    if ci_id is not None:
        body = f"{along('ci_id', 'ci')} UNION {along('peer_id', 'ci')}"
    elif run_id is not None:
        filters.remove("h.run_id = $run")
        body = along("run_id", "run")
    elif actor is not None:
        filters.remove("h.actor = $actor")
        body = along("actor", "actor")
    else:
        body = along("seq", None)
    return (f"{head}CALL {imports} {{ {body} }}"
            f" WITH h ORDER BY h.seq DESC LIMIT $limit RETURN {H} AS h", params)


def doc_filter(kind: str, parent: str | None, key: str | None
               ) -> tuple[str, list[str], list[str], dict[str, Any]]:
    """The index to read docs along, its equality predicates, the further filters, and
    the parameters."""
    params: dict[str, Any] = {"kind": kind, "parent": parent, "key": key}
    if parent is not None:
        # A parent (a campaign, an import run) bounds its docs; keys recur across parents.
        return ("kind, parent, seq", ["d.kind = $kind", "d.parent = $parent"],
                ["d.key = $key"] if key is not None else [], params)
    if key is not None:
        return "kind, key, seq", ["d.kind = $kind", "d.key = $key"], [], params
    return "kind, id", ["d.kind = $kind"], [], params


def doc_count(kind: str, parent: str | None, key: str | None, cap: int | None = None
              ) -> tuple[str, dict[str, Any]]:
    index, equal, filters, params = doc_filter(kind, parent, key)
    last = index.rsplit(", ", 1)[1]
    clauses = [*equal, f"d.{last} IS NOT NULL", *filters]
    limit = "" if cap is None else " WITH d LIMIT $cap"
    return (f"MATCH (d:Doc) USING INDEX d:Doc({index}){_where(clauses)}{limit}"
            f" RETURN count(d) AS n", {**params, "cap": cap})


def docs_page(kind: str, parent: str | None, key: str | None, first: int, after: str | None,
              newest_first: bool, along_seq: bool) -> tuple[str, dict[str, Any]]:
    """Docs in the order they were added, as rows of ``d``. ``along_seq`` (for a kind
    alone): read the ``seq`` index in order and keep the kind's docs."""
    op, direction = ("<", "DESC") if newest_first else (">", "ASC")
    index, equal, filters, params = doc_filter(kind, parent, key)
    head, imports = _after("Doc", "kind: $kind, ", after)
    seq = "d.seq IS NOT NULL" if after is None else f"d.seq {op} a.seq"
    params.update(after=after, limit=first + 1)
    if index == "kind, id" and along_seq:
        body = (f"MATCH (d:Doc) USING INDEX d:Doc(seq){_where([seq, *equal])}"
                f" RETURN d ORDER BY d.seq {direction} LIMIT $limit")
    elif index == "kind, id":
        body = (f"MATCH (d:Doc) USING INDEX d:Doc(kind, id)"
                f"{_where([*equal, 'd.id IS NOT NULL', seq])}"
                f" RETURN d ORDER BY d.seq {direction} LIMIT $limit")
    else:
        order = ", ".join(f"d.{p} {direction}" for p in index.split(", "))
        body = (f"MATCH (d:Doc) USING INDEX d:Doc({index}){_where([*equal, seq, *filters])}"
                f" RETURN d ORDER BY {order} LIMIT $limit")
    return (f"{head}CALL {imports} {{ {body} }}"
            f" WITH d ORDER BY d.seq {direction} LIMIT $limit RETURN {D} AS d", params)
