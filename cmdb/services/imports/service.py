"""Import runs: parse a file, identify and reconcile each observation, apply or preview.

A run streams the file in chunks: each chunk is identified (indexed point
lookups for asset tags and serials; one pass over the store once many MACs or
host names need looking up) and reconciled against the register. A dry run
writes only its run and outcome records. An applied run is atomic: if any
record is invalid nothing is applied (unless ``apply_valid_only``, which
applies the rest and lists every rejected record); otherwise every change is
written in one unit of work, as history with channel ``import`` and the run's
id. Re-running the same file changes nothing.

Runs are :class:`~cmdb.services.imports.records.ImportRun` records (source, file,
sha256, who, when, dry or applied, counts per outcome); their outcomes are kept as
compact rows in blocks (:mod:`cmdb.services.imports.outcome_rows`).

The hot path of a run is per chunk of the file (:mod:`cmdb.services.imports.chunks`):
the in-file duplicate check (a dict), one store question per identifying rule that
returns the matched CIs' facts (the columns compared, their place:
:class:`~cmdb.model.queries.CIFacts`, not whole records), the place hierarchy read once
per run, comparison in memory, and one block write per chunk for its outcomes. Whole CI
records are read only for the CIs an applied run changes, inside its unit of work. An
applied scan or discovery run then feeds the open audit campaigns
(:mod:`cmdb.services.imports.campaign_feed`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cmdb.errors import CmdbError, ImportRejectedError, LimitExceededError, NotFoundError
from cmdb.model.clock import Clock
from cmdb.model.records import Actor, Channel, new_id, now
from cmdb.model.registry import Registry
from cmdb.services.cis.places import CREATE_HINT, PlaceResolver
from cmdb.services.cis.service import CIService
from cmdb.services.collector import collector_paused, tidy
from cmdb.services.imports.apply import apply_plans, needed_places
from cmdb.services.imports.campaign_feed import CampaignFeeder
from cmdb.services.imports.chunks import ChunkPlanner, chunks
from cmdb.services.imports.identify import HybridLookup
from cmdb.services.imports.ledger import KeyLedger
from cmdb.services.imports.outcome_rows import OutcomeWriter, legacy_page, outcome_page
from cmdb.services.imports.outcomes import Outcome, Planned
from cmdb.services.imports.parties import PartyLinker, party_headers
from cmdb.services.imports.reconcile import Reconciler, compared_attributes
from cmdb.services.imports.records import (
    ImportOutcome,
    ImportRun,
    OutcomeBlock,
    RejectedRecord,
    RunError,
    add_records,
    find_runs,
    read_runs,
)
from cmdb.services.imports.software import ProductCatalog
from cmdb.services.imports.sources import SourcesConfig
from cmdb.store.base import Store, StoreTx
from importers import (
    ColumnMapping,
    ImportFileError,
    Observation,
    ParseOptions,
    RecordError,
    get_importer,
)

if TYPE_CHECKING:
    from cmdb.services.audit.service import CampaignService

CHUNK = 1000
#: Records (runs, outcome blocks) written in one store call.
DOC_BATCH = 2000
#: A dry run writes its outcomes every so many records (a unit of work each: one commit
#: per chunk cost Neo4j more than the comparison; the plans held meanwhile cost memory,
#: about 8 KB each for new CIs).
DRY_RUN_WRITE = 2_000
#: Chunks between collections of young garbage (see :mod:`cmdb.services.collector`):
#: each walks what the run made since the last, so not often.
TIDY_EVERY = 100
MAX_LISTED = 1000
#: The most outcomes (or runs) one page holds.
MAX_PAGE = 500
Progress = Callable[[int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class ImportRequest:
    """One file to import, and what the run may do."""

    source: str
    path: Path
    file_name: str | None = None
    dry_run: bool = False
    apply_valid_only: bool = False
    create_places: bool = False
    mapping: ColumnMapping | None = None
    encoding: str | None = None
    #: Feed only this audit campaign (name or id; it must be open), not every open one.
    campaign: str | None = None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _where(file: str, p: RejectedRecord) -> str:
    parts = [file]
    if p.line is not None:
        parts.append(f"line {p.line}")
    if p.field:
        parts.append(f"field {p.field}")
    return " ".join(parts)


class ImportService:
    """Runs imports and reads them back."""

    def __init__(self, store: Store, registry: Registry, cis: CIService,
                 config: SourcesConfig, campaigns: CampaignService | None = None,
                 clock: Clock | None = None) -> None:
        self.store = store
        #: Times a file gives without an offset are in this clock's zone.
        self.clock = clock or Clock()
        self.registry = registry
        self.cis = cis
        self.config = config
        #: Open audit campaigns take what applied scans and discovery runs saw.
        self.feeder = CampaignFeeder(store, campaigns)

    async def run(self, who: str, request: ImportRequest, progress: Progress | None = None,
                  records: Iterable[Observation | RecordError] | None = None) -> ImportRun:
        """Import one file; returns the run record. A refused file raises
        :class:`ImportRejectedError` (after recording the run), changing nothing.

        ``records`` replaces parsing ``request.path`` with records already parsed from
        it (benchmarks; callers that hold observations), still named by that file."""
        with collector_paused():
            return await self._run(who, request, progress, records)

    async def _run(self, who: str, request: ImportRequest, progress: Progress | None,
                   records: Iterable[Observation | RecordError] | None) -> ImportRun:
        try:
            importer = get_importer(request.source)
        except ImportFileError as exc:
            raise ImportRejectedError(exc.message, exc.code, field="source") from exc
        campaign_id = await self.feeder.campaign(request.source, request.campaign)
        run_id, started = new_id(), now()
        actor = Actor(name=who, channel=Channel.IMPORT, run_id=run_id)
        file_name = request.file_name or request.path.name
        # What the run is so far: counts, status and the rest are added when it ends.
        run = ImportRun(
            id=run_id, status="", source=request.source, file=file_name,
            sha256=sha256(request.path), actor=who, started_at=started,
            dry_run=request.dry_run, apply_valid_only=request.apply_valid_only,
            create_places=request.create_places, outcome_blocks=True)
        rejected: list[RejectedRecord] = []
        places = PlaceResolver(self.store, self.registry, self.config.places, unknown_hint=(
            CREATE_HINT if self.config.policy(request.source).is_authoritative("location")
            else "register it first"))  # e.g. scans: a sighting never creates its place
        reconciler = Reconciler(self.registry, self.config, request.source, run_id, started,
                                places, request.create_places, self.clock)
        linker = PartyLinker(self.store, self.registry, self.config, request.source,
                             reconciler.policy)
        options = ParseOptions(file_label=file_name,
                               mapping=party_headers(self.config, request.mapping),
                               encoding=request.encoding, zone=self.clock.zone,
                               on_columns=linker.columns_seen)
        catalog = await ProductCatalog.load(self.store) if reconciler.policy.software else None
        lookup = HybridLookup(self.store, self.config.identification)
        ledger = KeyLedger(self.store)
        writer = OutcomeWriter(run_id)
        planner = ChunkPlanner(self.store, self.registry, self.config.identification, lookup,
                               ledger, reconciler)
        counts: Counter[str] = Counter()
        kept: list[Planned] = []
        try:
            parsed = records if records is not None else importer.run(request.path,
                                                                        options=options)
            parts = chunks(parsed, CHUNK)
            upcoming = next(parts, None)
            n = 0
            while upcoming is not None:
                chunk, upcoming = upcoming, next(parts, None)
                n += 1
                if n % TIDY_EVERY == 0:
                    tidy()
                if upcoming is not None:  # the next chunk's question travels meanwhile
                    ahead = [o for o in upcoming if isinstance(o, Observation)]
                    lookup.point.ask_ahead([o.asset_tag for o in ahead if o.asset_tag],
                                           compared_attributes(ahead, reconciler.source))
                    await asyncio.sleep(0)
                plans = await planner.plan(chunk)
                await linker.plan(plans)
                counts.update(p.outcome.value for p in plans)
                for p in plans:
                    if p.outcome is Outcome.INVALID and len(rejected) < MAX_LISTED:
                        rejected.append(RejectedRecord(p.line, p.record, p.field, p.reason))
                kept += plans
                if request.dry_run and len(kept) >= DRY_RUN_WRITE:
                    await self._put(writer.blocks(kept))  # memory stays bounded
                    kept = []
                if progress:
                    progress(len(chunk))
        except ImportFileError as exc:
            run = dataclasses.replace(run, rejected=tuple(rejected), error=RunError(
                exc.code, exc.message, in_file=True, file=exc.file, line=exc.line,
                column=exc.column, field=exc.field))
            await self._finish(run, counts, "rejected", kept, writer)
            raise ImportRejectedError(str(exc).split(": ", 1)[1], exc.code, runId=run_id,
                                      file=exc.file, line=exc.line, field=exc.field) from exc
        finally:
            ledger.close()
            lookup.point.forget_ahead()
        invalid = counts[Outcome.INVALID.value]
        run = dataclasses.replace(
            run, rejected=tuple(rejected), parties=dict(sorted(linker.counts.items())),
            would_reject=bool(invalid) and not request.apply_valid_only)
        if request.dry_run:
            return await self._finish(run, counts, "dry_run", kept, writer)
        if run.would_reject:
            await self._finish(run, counts, "rejected", kept, writer)
            first = run.rejected[0]
            raise ImportRejectedError(
                f"{_where(file_name, first)}: {first.reason} ({invalid} record(s) rejected; "
                "nothing was imported; fix them or import with apply_valid_only)",
                runId=run_id, file=file_name, line=first.line, field=first.field)
        places_needed = needed_places(kept, {p.id: p for p in places.planned.values()})
        parties_needed = linker.needed(kept)
        reason = f"{request.source} import of {file_name}"
        done = _ended(run, counts, "applied")
        blocks = writer.blocks(kept)  # once: the store may run the work again

        async def work(tx: StoreTx) -> None:
            await apply_plans(tx, self.cis, actor, kept, places_needed, catalog,
                              request.source, started, reason, parties_needed)
            await add_records(tx, [done])
            for batch in _batched(blocks):
                await add_records(tx, batch)

        try:
            await self.store.write(work)
        except CmdbError as exc:  # e.g. a CI changed since it was read: nothing was written
            run = dataclasses.replace(run, error=RunError(exc.code, exc.message))
            await self._finish(run, counts, "rejected", [], OutcomeWriter(run_id))
            raise
        return await self.feeder.feed(actor, done, kept, campaign_id)

    async def _put(self, records: Iterable[ImportRun | OutcomeBlock]) -> None:
        for batch in _batched(records):
            async def work(tx: StoreTx, batch: list[ImportRun | OutcomeBlock] = batch
                           ) -> None:
                await add_records(tx, batch)

            await self.store.write(work)

    async def _finish(self, run: ImportRun, counts: Counter[str], status: str,
                      plans: list[Planned], writer: OutcomeWriter) -> ImportRun:
        done = _ended(run, counts, status)
        await self._put([done, *writer.blocks(plans)])
        return done

    # ---- reading runs back ---------------------------------------------------------
    async def find_run(self, run_id: str) -> ImportRun | None:
        """The run with this id, or ``None``."""
        return (await read_runs(self.store, [run_id])).get(run_id)

    async def get_run(self, run_id: str) -> ImportRun:
        run = await self.find_run(run_id)
        if run is None:
            raise NotFoundError(f"no import run with id {run_id!r}", id=run_id)
        return run

    async def runs(self, first: int = 50, after: str | None = None
                   ) -> tuple[list[ImportRun], bool]:
        """Import runs, newest first."""
        _check_first(first)
        return await find_runs(self.store, first, after)

    async def outcomes(self, run_id: str, outcome: str | None = None, first: int = 50,
                       after: str | None = None) -> tuple[list[ImportOutcome], bool]:
        """A run's outcomes in file order, optionally only one kind."""
        _check_first(first)
        run = await self.find_run(run_id)
        read = outcome_page if run and run.outcome_blocks else legacy_page
        return await read(self.store, run_id, outcome, first, after)

    async def report(self, run_id: str, first: int | None = None) -> dict[str, Any]:
        """The run and its outcomes (the first ``first``, or all) as JSON: what
        ``cmdb import --json`` prints and ``POST /imports/{source}`` answers, there with
        ``outcomesTruncated`` when outcomes were left out."""
        run = await self.get_run(run_id)
        outcomes: list[ImportOutcome] = []
        after = None
        while True:
            want = MAX_PAGE if first is None else min(MAX_PAGE, first - len(outcomes))
            page, more = await self.outcomes(run_id, first=want, after=after)
            outcomes += page
            if not more or not page or (first is not None and len(outcomes) >= first):
                break
            after = page[-1].id
        report = run.as_json(outcomes)
        if first is not None:
            report["outcomesTruncated"] = more
        return report


def _ended(run: ImportRun, counts: Counter[str], status: str) -> ImportRun:
    """The run as it ended: its status, when, and the count of every kind of outcome."""
    stamp = now()  # the run's record is made as it ends
    return dataclasses.replace(run, status=status, finished_at=stamp, created_at=stamp,
                               updated_at=stamp,
                               counts={o.value: counts.get(o.value, 0) for o in Outcome})


def _check_first(first: int) -> None:
    if not 0 <= first <= MAX_PAGE:
        raise LimitExceededError("first must be between 0 and 500", field="first")


def _batched(records: Iterable[T]) -> Iterator[list[T]]:
    it = iter(records)
    while batch := list(islice(it, DOC_BATCH)):
        yield batch
