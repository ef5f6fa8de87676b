"""Keeping a run's outcomes, and reading them back a page at a time.

A run has one outcome per record of its file: twenty thousand for a twenty-thousand-row
sheet. Kept as one doc each, writing them cost more than the whole comparison (on Neo4j
a node with four index entries apiece). They are kept as compact rows in blocks instead:
one ``import_outcomes`` doc per chunk of the file and kind of outcome (MATCHED, NEW...),
its rows in file order, each numbered in the run. A page of outcomes, of every kind or
one, reads the few blocks it spans; each outcome still has its own id (``run:chunk:n``),
which is what pages continue after.

Runs recorded before blocks kept one ``import_outcome`` doc per outcome; they read as
they always did. What a block and an outcome are, and how they are stored:
:mod:`cmdb.services.imports.records`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cmdb.services.imports.outcomes import Outcome, Planned
from cmdb.services.imports.records import (
    ImportOutcome,
    OutcomeBlock,
    block_id,
    find_blocks,
    find_outcome_docs,
    outcome_of_row,
    outcome_row,
    read_blocks,
)
from cmdb.store.base import Store

#: Rows per block: one chunk of the file.
BLOCK_ROWS = 1000
#: The most blocks asked for in one store question while paging.
MAX_BLOCKS = 50
KINDS = tuple(o.value for o in Outcome)


class OutcomeWriter:
    """Numbers a run's outcomes in file order and packs them into blocks."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.count = 0
        self.chunks = 0

    def blocks(self, plans: Sequence[Planned]) -> list[OutcomeBlock]:
        """The blocks of these outcomes (the next ones of the file, in order)."""
        out: list[OutcomeBlock] = []
        for start in range(0, len(plans), BLOCK_ROWS):
            chunk = self.chunks
            self.chunks += 1
            part = plans[start:start + BLOCK_ROWS]
            numbered = [(self.count + i, outcome_row(p)) for i, p in enumerate(part)]
            self.count += len(part)
            # Kinds in a fixed order, so the last block of a chunk is the last written.
            out += OutcomeBlock.pack(self.run_id, chunk, numbered, KINDS)
        return out


Row = tuple[int, int, dict[str, Any]]  # (n, chunk, row)


def _rows(blocks: Iterable[OutcomeBlock], after_n: int, kind: str | None) -> list[Row]:
    """The rows of complete chunks' blocks after number ``after_n``, in file order."""
    found: list[Row] = []
    for block in blocks:
        if kind is not None and block.kind != kind:
            continue
        found += block.after(after_n)
    found.sort(key=lambda item: item[0])
    return found


def _cursor(run_id: str, after: str | None) -> tuple[int, int] | None:
    """The (chunk, n) an outcome id names, if it is one of this run's."""
    if after is None:
        return None
    run, _, rest = after.partition(":")
    chunk, _, n = rest.partition(":")
    if run != run_id or not chunk.isdigit() or not n.isdigit():
        return None
    return int(chunk), int(n)


async def outcome_page(store: Store, run_id: str, kind: str | None, first: int,
                       after: str | None) -> tuple[list[ImportOutcome], bool]:
    """Up to ``first`` outcomes of the run in file order (only ``kind`` when given),
    after the outcome ``after``; and whether more follow."""
    cursor = _cursor(run_id, after)
    if after is not None and cursor is None:
        return [], False  # not one of this run's outcomes: nothing follows it
    out: list[Row] = []
    anchor: str | None = None
    after_n = -1
    if cursor is not None:
        chunk, after_n = cursor
        ids = [block_id(run_id, chunk, k) for k in KINDS]
        here = await read_blocks(store, ids)
        ordered = [here[i] for i in ids if i in here]
        if not ordered:
            return [], False
        anchor = ordered[-1].id
        out += _rows(ordered, after_n, kind)
    # Blocks come in the order written: chunk by chunk. A chunk's blocks may straddle two
    # pages of blocks, so rows are handed out only up to the last chunk known complete.
    pending: list[OutcomeBlock] = []
    exhausted = False
    asked = len(KINDS) + 1  # one chunk's blocks first: most pages need no more
    while len(out) <= first and not exhausted:
        items, has_next = await find_blocks(store, run_id, kind, asked, anchor)
        asked = min(asked * 2, MAX_BLOCKS)
        exhausted = not has_next
        if items:
            anchor = items[-1].id
        pending += items
        if exhausted:
            done, pending = pending, []
        else:
            last = pending[-1].chunk
            done = [b for b in pending if b.chunk != last]
            pending = [b for b in pending if b.chunk == last]
        out += _rows(done, after_n, kind)
    outcomes = [outcome_of_row(run_id, chunk, n, row) for n, chunk, row in out[:first]]
    return outcomes, len(out) > first


async def legacy_page(store: Store, run_id: str, kind: str | None, first: int,
                      after: str | None) -> tuple[list[ImportOutcome], bool]:
    """A page of a run recorded with one doc per outcome."""
    return await find_outcome_docs(store, run_id, kind, first, after)
