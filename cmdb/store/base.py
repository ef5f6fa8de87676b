"""The store port: the one interface every database adapter implements.

The services speak only to this interface. A change is a unit of work run by
:meth:`Store.write`: the adapter opens a transaction, hands the work a
:class:`StoreTx`, and commits when the work returns (or rolls back when it
raises). An adapter may run the work more than once when the database
reports a transient failure, so the work must do nothing but talk to ``tx``.

Reads outside a unit of work go through the :class:`Store` methods; each is
one round trip, counted in :attr:`Store.calls` so tests can prove that a
GraphQL query costs a constant number of store calls (no N+1). The reads and the
write transactions are also timed for whoever watches them
(:meth:`Store.observe_calls`: the server's ``/metrics``); this is the one place
that sees every store call.
"""

from __future__ import annotations

import functools
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Sequence,
)
from typing import Any, Literal, ParamSpec, TypeVar

from cmdb.model.queries import (
    CIFacts,
    CIOrder,
    CISelection,
    ClosureResult,
    Cursor,
    FactKey,
    Page,
    RelationshipEnds,
    Window,
    window,
)
from cmdb.model.records import CI, Doc, HistoryEntry, Relationship

T = TypeVar("T")
P = ParamSpec("P")
Direction = Literal["in", "out"]
KeyField = Literal["asset_tag", "serial_key"]
LoadKind = Literal["ci", "relationship", "history", "doc"]
#: The records of a checked dump, from a position on, in batches of at most a size:
#: ``chunks(skip, size)`` yields ``(kind, records)``, CIs before the relationships
#: between them. Called again, it yields the same records in the same order.
Chunks = Callable[[int, int], Iterator[tuple[LoadKind, Sequence[Any]]]]


#: Told the name and the seconds of each store call (see :meth:`Store.observe_calls`).
CallObserver = Callable[[str, float], None]


async def store_call(store: Store, name: str, count: bool, call: Awaitable[T]) -> T:
    """Await one store call: counted in ``store.calls[name]`` if ``count`` (a read), and
    timed for the store's observers, if any."""
    if count:
        store.calls[name] += 1
    observers = store.call_observers
    if not observers:
        return await call
    started = time.perf_counter()
    try:
        return await call
    finally:
        seconds = time.perf_counter() - started
        for observe in observers:
            observe(name, seconds)


def _store_call(
    method: Callable[P, Coroutine[Any, Any, T]], count: bool,
) -> Callable[P, Coroutine[Any, Any, T]]:
    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        store = args[0]
        assert isinstance(store, Store)
        return await store_call(store, method.__name__, count, method(*args, **kwargs))

    # read by adapters that re-wrap their methods (``store_call`` with it, around the body)
    wrapper.store_call_counted = count  # type: ignore[attr-defined]
    return wrapper


def counted(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """A store read: counted in ``store.calls[name]`` and timed for the observers."""
    return _store_call(method, True)


def timed(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """A write transaction or a ping: timed for the observers, not counted as a read."""
    return _store_call(method, False)


class StoreTx(ABC):
    """What a unit of work may do inside one transaction."""

    @abstractmethod
    async def get_cis(self, ids: Sequence[str]) -> dict[str, CI]:
        """The CIs with these ids (missing ids are absent from the result)."""

    async def get_ci(self, ci_id: str) -> CI | None:
        return (await self.get_cis([ci_id])).get(ci_id)

    @abstractmethod
    async def find_ci_ids(
        self, *, asset_tag: str | None = None, serial_key: str | None = None
    ) -> list[str]:
        """Ids of the CIs holding this asset tag or serial key."""

    async def holders(self, key: KeyField, values: Sequence[str]) -> dict[str, list[str]]:
        """For many asset tags or serial keys at once: the ids of the CIs holding each
        (values nobody holds are absent). Adapters answer in one query."""
        out: dict[str, list[str]] = {}
        for value in values:
            ids = await (self.find_ci_ids(asset_tag=value) if key == "asset_tag"
                         else self.find_ci_ids(serial_key=value))
            if ids:
                out[value] = ids
        return out

    @abstractmethod
    async def find_ci_ids_by_attribute(
        self, classes: Sequence[str], name: str, value: Any
    ) -> list[str]:
        """Ids of CIs of ``classes`` whose attribute ``name`` equals ``value``."""

    @abstractmethod
    async def insert_ci(self, ci: CI) -> None:
        """Add a new CI; a taken asset tag or serial key raises ``DuplicateError``."""

    async def insert_cis(self, cis: Sequence[CI]) -> None:
        """Add many new CIs at once (bulk loads, restores); adapters batch this."""
        for ci in cis:
            await self.insert_ci(ci)

    async def update_cis(self, changes: Sequence[tuple[CI, int]]) -> None:
        """Compare-and-set many CIs (each with its expected version) at once; one stale
        version raises ``VersionConflictError`` and the unit of work writes nothing."""
        for ci, expected in changes:
            await self.update_ci(ci, expected)

    @abstractmethod
    async def update_ci(self, ci: CI, expected_version: int) -> None:
        """Replace a CI if its stored version is still ``expected_version``.

        ``ci.version`` is the new version. A different stored version raises
        ``VersionConflictError``: this compare-and-set is what keeps
        concurrent updates from losing each other.
        """

    @abstractmethod
    async def get_relationships(self, ids: Sequence[str]) -> dict[str, Relationship]:
        """Relationships by id, ended ones included."""

    @abstractmethod
    async def active_relationships(
        self, ci_id: str, direction: Direction, types: Sequence[str] | None = None
    ) -> list[Relationship]:
        """The not-ended relationships leaving (``out``) or entering (``in``) a CI."""

    async def active_relationships_of(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None = None
    ) -> dict[str, list[Relationship]]:
        """:meth:`active_relationships` for many CIs at once (adapters: one query)."""
        return {i: await self.active_relationships(i, direction, types) for i in ci_ids}

    @abstractmethod
    async def insert_relationship(self, rel: Relationship) -> None:
        """Add a relationship; an identical active one raises ``DuplicateError``."""

    async def insert_relationships(self, rels: Sequence[Relationship]) -> None:
        """Add many relationships at once (bulk loads, restores); adapters batch this."""
        for rel in rels:
            await self.insert_relationship(rel)

    @abstractmethod
    async def update_relationship(self, rel: Relationship, expected_version: int) -> None:
        """Replace a relationship (e.g. to end it), compare-and-set on its version."""

    async def update_relationships(self, changes: Sequence[tuple[Relationship, int]]) -> None:
        """Compare-and-set many relationships at once (adapters batch this)."""
        for rel, expected in changes:
            await self.update_relationship(rel, expected)

    @abstractmethod
    async def add_history(self, entries: Sequence[HistoryEntry]) -> None:
        """Append history entries, in the same transaction as the change."""

    @abstractmethod
    async def delete_all(self) -> None:
        """Remove every record, inside this unit of work (a restore that replaces)."""

    @abstractmethod
    async def put_docs(self, docs: Sequence[Doc]) -> None:
        """Add new docs (a taken kind and id raises ``DuplicateError``)."""

    @abstractmethod
    async def update_doc(self, doc: Doc, expected_version: int) -> None:
        """Replace a doc if its stored version is still ``expected_version``."""

    async def update_docs(self, changes: Sequence[tuple[Doc, int]]) -> None:
        """Compare-and-set many docs at once (adapters batch this)."""
        for doc, expected in changes:
            await self.update_doc(doc, expected)

    @abstractmethod
    async def get_docs(self, kind: str, ids: Sequence[str]) -> dict[str, Doc]:
        """Docs of a kind by id, as this transaction sees them."""


async def insert(tx: StoreTx, kind: LoadKind, records: Sequence[Any]) -> None:
    """Add new records of a kind (a batch of a load)."""
    if kind == "ci":
        await tx.insert_cis(records)
    elif kind == "relationship":
        await tx.insert_relationships(records)
    elif kind == "history":
        await tx.add_history(records)
    else:
        await tx.put_docs(records)


class ScratchKeys(ABC):
    """Keys a long job remembers, each with the line of the record that first used it,
    kept off the heap (see :meth:`Store.scratch_keys`)."""

    @abstractmethod
    def lines(self, keys: Sequence[str]) -> dict[str, int | None]:
        """The keys among ``keys`` already added, with their lines."""

    @abstractmethod
    def add(self, items: Iterable[tuple[str, int | None]]) -> None:
        """Remember keys (a key already there keeps its first line)."""

    @abstractmethod
    def close(self) -> None:
        """Forget everything and release the space."""


class Store(ABC):
    """A CMDB database: one of the adapters in this package."""

    #: ``sqlite`` or ``neo4j``: what tests and logs call the adapter.
    kind: str

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.call_observers: list[CallObserver] = []

    def observe_calls(self, observer: CallObserver) -> None:
        """Tell ``observer`` the name and duration of every read (``@counted``) and write
        transaction or ping (``@timed``) of this store; once, however often it is added."""
        if observer not in self.call_observers:
            self.call_observers.append(observer)

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abstractmethod
    async def open(self, *, create: bool = True) -> None:
        """Connect, and bring the database schema up to date.

        Without ``create``, a store that holds no CMDB yet (a missing SQLite file, a
        Neo4j database the CMDB never set up) is ``NoCmdbError`` and nothing is made:
        only the commands that create a CMDB pass ``create=True``.
        """

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abstractmethod
    async def ping(self) -> None:
        """Return when the database answers; raise ``StoreUnavailableError`` otherwise."""

    @abstractmethod
    async def write(self, work: Callable[[StoreTx], Awaitable[T]]) -> T:
        """Run ``work`` in one write transaction and return its result."""

    async def load(self, chunks: Chunks, *, dump_id: str, replace: bool = False,
                   progress: Callable[[int], None] | None = None) -> None:
        """Load the records of a checked dump (ids unique, keys unique, relationship ends
        present) into this store, which is empty unless ``replace`` (then wiped first).

        This default loads everything in one unit of work: it lands whole or not at all,
        and a failed ``replace`` keeps the old data. Adapters whose transactions must
        stay small load in batches instead, each its own transaction, and keep a marker
        (:meth:`incomplete_load`) until the last one: a load that stops part-way raises
        ``IncompleteLoadError`` and the same ``dump_id`` loaded again resumes it.
        """
        async def work(tx: StoreTx) -> None:
            if replace:
                await tx.delete_all()
            for kind, batch in chunks(0, 5000):
                await insert(tx, kind, batch)
                if progress:
                    progress(len(batch))

        await self.write(work)

    async def incomplete_load(self) -> tuple[str, int] | None:
        """The dump id and record count of a batched load that stopped part-way, if
        this store holds one."""
        return None

    # ---- reads -----------------------------------------------------------------
    @abstractmethod
    async def get_cis(self, ids: Sequence[str]) -> dict[str, CI]:
        """The CIs with these ids, in one round trip."""

    @abstractmethod
    async def find_ci_by_asset_tag(self, asset_tag: str) -> CI | None:
        """The CI carrying this asset tag."""

    @abstractmethod
    async def find_cis(self, key: KeyField, values: Sequence[str]) -> dict[str, list[CI]]:
        """The CIs holding each of ``values`` as their asset tag or serial key, in one
        round trip through the unique indexes (values nobody holds are absent)."""

    @abstractmethod
    async def find_ci_facts(self, key: FactKey, values: Sequence[str],
                            attributes: Sequence[str] | None = None
                            ) -> dict[str, list[CIFacts]]:
        """For each of ``values`` (CI ids, asset tags, serial keys or class names, as
        ``key`` says): the CIs it names, as :class:`~cmdb.model.queries.CIFacts` with
        their place, in one round trip (values naming none are absent). The facts carry
        the CI's values of ``attributes`` (every attribute when ``None``). Imports
        identify and compare a chunk of observations with this; place paths walk it."""

    @abstractmethod
    async def list_cis(
        self, query: CISelection, order: CIOrder, first: int, after: Cursor | None
    ) -> Page[CI]:
        """One page of CIs matching ``query`` in ``order``, after ``after``."""

    @abstractmethod
    async def count_cis(self, query: CISelection) -> int:
        """How many CIs match ``query``."""

    @abstractmethod
    async def ci_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """How many CIs there are by class and by lifecycle state (the console's landing
        page): read from the class and state indexes, not from the records."""

    @abstractmethod
    async def relationships_of(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None = None
    ) -> dict[str, list[Relationship]]:
        """Active relationships leaving or entering each of ``ci_ids``, in one round trip."""

    async def relationship_ends(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None = None
    ) -> dict[str, list[RelationshipEnds]]:
        """:meth:`relationships_of` without the stamps (id, type, ends, attributes): an
        import's question per chunk. Adapters where decoding whole relationships costs
        answer it with a leaner query."""
        every = await self.relationships_of(ci_ids, direction, types)
        return {i: [RelationshipEnds(r.id, r.type, r.source_id, r.target_id, r.attributes)
                    for r in rels] for i, rels in every.items()}

    async def linked_targets(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str]
    ) -> dict[str, list[tuple[str, str]]]:
        """For each CI: the (type, CI at the other end) of its active relationships of
        ``types``, nothing more (answered from an index where the adapter has one)."""
        every = await self.relationship_ends(ci_ids, direction, types)
        return {i: [(r.type, r.target_id if direction == "out" else r.source_id)
                    for r in rels] for i, rels in every.items()}

    async def relationship_pages(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None,
        first: int, after: str | None = None,
    ) -> dict[str, Window[Relationship]]:
        """For each of ``ci_ids``: the ``first`` of its active relationships (in the order
        of :meth:`relationships_of`) after the one with id ``after``, and how many it has
        in all. Adapters where a CI's relationships are costly to read whole read the
        page only."""
        every = await self.relationships_of(ci_ids, direction, types)
        return {i: window(every.get(i, []), first, after, lambda r: r.id) for i in ci_ids}

    @abstractmethod
    async def get_relationships(self, ids: Sequence[str]) -> dict[str, Relationship]:
        """Relationships by id, ended ones included."""

    @abstractmethod
    async def history(
        self,
        *,
        ci_id: str | None = None,
        actor: str | None = None,
        run_id: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Page[HistoryEntry]:
        """History entries, newest first, for a CI (its relationships included),
        an actor or an import run; ``after`` is the id of the last entry seen."""

    @abstractmethod
    async def closure(
        self,
        start_ids: Sequence[str],
        direction: Direction,
        types: Sequence[str],
        max_depth: int,
        reverse_types: Sequence[str] = (),
    ) -> ClosureResult:
        """Every CI reachable from ``start_ids`` within ``max_depth`` steps.

        ``out`` follows relationships from source to target (what a CI needs),
        ``in`` from target to source (what needs a CI). Only active
        relationships of ``types`` are followed, and those of ``reverse_types``
        the other way round (a cluster member's failure travels member -> group,
        against the other types). Each CI appears once, at its shortest depth,
        with one shortest way to it; cycles never loop. ``truncated`` tells
        whether more was reachable past ``max_depth``.
        """

    @abstractmethod
    async def get_docs(self, kind: str, ids: Sequence[str]) -> dict[str, Doc]:
        """Docs of a kind by id, in one round trip."""

    @abstractmethod
    async def find_docs(
        self, kind: str, *, parent: str | None = None, key: str | None = None,
        first: int = 50, after: str | None = None, newest_first: bool = True,
    ) -> Page[Doc]:
        """Docs of a kind, optionally with this parent and/or key, in the order they were
        added (newest first by default); ``after`` is the id of the last doc seen."""

    @abstractmethod
    async def count_docs(self, kind: str, *, parent: str | None = None,
                         key: str | None = None) -> int:
        """How many docs of a kind (with this parent / key) there are."""

    @abstractmethod
    def iter_all(
        self, what: Literal["cis", "relationships", "history", "docs"]
    ) -> AsyncIterator[Any]:
        """Every record of a kind, in a stable order (for backups and checks)."""

    @abstractmethod
    async def attribute_values(self, names: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        """For every CI holding any of the attributes ``names``: its id and those values
        (one pass, without decoding whole records: identification by MAC or host name
        when many need looking up)."""

    @abstractmethod
    def scratch_keys(self) -> ScratchKeys:
        """Scratch space on local disk for keys a job must remember but not keep (an
        import's in-file duplicate check past what memory should hold); never the CMDB's
        own database (both adapters answer :class:`cmdb.store.scratch.DiskKeys`)."""

    @abstractmethod
    async def wipe(self) -> None:
        """Delete all data (tests and restores into a fresh store only)."""
