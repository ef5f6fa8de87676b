"""Pages of CIs, history and docs on SQLite, and their counts.

A page is keyset-paged: the cursor is the last row's sort value and id (CIs) or its
``seq`` (history and docs, in insertion order), so a page costs the same however deep
the list is; one row more than asked tells whether a next page exists. Each function
runs on the connection it is given (a reader's).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from cmdb.model.queries import CIOrder, CISelection, Cursor, Page
from cmdb.model.records import CI, Doc, HistoryEntry
from cmdb.store.sqlite.sql import (
    CI_COLUMNS,
    DOC_COLUMNS,
    ORDER_COLUMNS,
    _ci,
    _doc,
    _history,
    where,
)


def ci_page(conn: sqlite3.Connection, query: CISelection, order: CIOrder, first: int,
            after: Cursor | None) -> Page[CI]:
    """:meth:`~cmdb.store.base.Store.list_cis` on one connection."""
    clause, args = where(query)
    column = ORDER_COLUMNS[order.field]
    op, direction = ("<", "DESC") if order.descending else (">", "ASC")
    if after is not None:
        clause += (" AND " if clause else " WHERE ") + f"({column}, id) {op} (?, ?)"
        args += [after.value, after.id]
    sql = (f"SELECT {CI_COLUMNS}, {column} AS sort_value FROM cis{clause}"
           f" ORDER BY {column} {direction}, id {direction} LIMIT ?")
    rows = conn.execute(sql, [*args, first + 1]).fetchall()
    page = rows[:first]
    return Page(
        items=[_ci(r) for r in page],
        has_next=len(rows) > first,
        cursors=[Cursor(r["sort_value"], r["id"]) for r in page],
    )


def ci_count(conn: sqlite3.Connection, query: CISelection) -> int:
    """:meth:`~cmdb.store.base.Store.count_cis` on one connection."""
    clause, args = where(query)
    return int(conn.execute(f"SELECT COUNT(*) FROM cis{clause}", args).fetchone()[0])


def history_page(conn: sqlite3.Connection, ci_id: str | None, actor: str | None,
                 run_id: str | None, first: int, after: str | None) -> Page[HistoryEntry]:
    """:meth:`~cmdb.store.base.Store.history` on one connection: newest first."""
    clauses: list[str] = []
    args: list[Any] = []
    if ci_id is not None:
        clauses.append("seq IN (SELECT seq FROM history WHERE ci_id = ?"
                       " UNION SELECT seq FROM history WHERE peer_id = ?)")
        args += [ci_id, ci_id]
    if actor is not None:
        clauses.append("actor = ?")
        args.append(actor)
    if run_id is not None:
        clauses.append("run_id = ?")
        args.append(run_id)
    if after is not None:
        clauses.append("seq < (SELECT seq FROM history WHERE id = ?)")
        args.append(after)
    clause = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = conn.execute(
        f"SELECT * FROM history{clause} ORDER BY seq DESC LIMIT ?", [*args, first + 1]
    ).fetchall()
    return Page(items=[_history(r) for r in rows[:first]], has_next=len(rows) > first)


def doc_filter(kind: str, parent: str | None, key: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause and its parameters for the docs of a kind (under a parent, with
    a key)."""
    clauses, args = ["kind = ?"], [kind]
    if parent is not None:
        clauses.append("parent = ?")
        args.append(parent)
    if key is not None:
        clauses.append("key = ?")
        args.append(key)
    return " WHERE " + " AND ".join(clauses), args


def docs_page(conn: sqlite3.Connection, kind: str, parent: str | None, key: str | None,
              first: int, after: str | None, newest_first: bool) -> Page[Doc]:
    """:meth:`~cmdb.store.base.Store.find_docs` on one connection."""
    clause, args = doc_filter(kind, parent, key)
    op, direction = ("<", "DESC") if newest_first else (">", "ASC")
    if after is not None:
        clause += f" AND seq {op} (SELECT seq FROM docs WHERE kind = ? AND id = ?)"
        args += [kind, after]
    rows = conn.execute(
        f"SELECT {DOC_COLUMNS} FROM docs{clause} ORDER BY seq {direction} LIMIT ?",
        [*args, first + 1],
    ).fetchall()
    return Page(items=[_doc(r) for r in rows[:first]], has_next=len(rows) > first)


def doc_count(conn: sqlite3.Connection, kind: str, parent: str | None,
              key: str | None) -> int:
    """:meth:`~cmdb.store.base.Store.count_docs` on one connection."""
    clause, args = doc_filter(kind, parent, key)
    return int(conn.execute(f"SELECT COUNT(*) FROM docs{clause}", args).fetchone()[0])
