"""What an import run and its outcomes are, and how they are kept.

The only module that knows the storage kinds of the imports domain and the keys of their
stored data: the service, the API and the CLI read attributes of :class:`ImportRun` and
:class:`ImportOutcome`. The stored shapes are those runs have always had, so runs recorded
by earlier versions read the same:

- an ``import_run`` doc per run (source, file, sha256, who, when, dry or applied, counts
  per outcome, the rejected records, a whole-file error, the audit campaigns it fed);
- its outcomes as compact rows in ``import_outcomes`` blocks, one per chunk of the file
  and kind of outcome (:mod:`cmdb.services.imports.outcome_rows` writes and pages them);
- runs recorded before blocks kept one ``import_outcome`` doc per outcome.

:meth:`ImportRun.as_json` is the run as ``cmdb import --json`` prints it and
``POST /imports/{source}`` answers it: the stored fields, under the same names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cmdb.model.records import Doc, now
from cmdb.services.imports.outcomes import (
    Difference,
    Outcome,
    PartyLink,
    Planned,
    new_ci_json,
    observation_json,
)
from cmdb.store.base import Store, StoreTx

RUN, BLOCK, OUTCOME = "import_run", "import_outcomes", "import_outcome"


class DocReader(Protocol):
    """A store or a unit of work: what reading records by id needs."""

    async def get_docs(self, kind: str, ids: Sequence[str]) -> dict[str, Doc]: ...


@dataclass(frozen=True)
class RejectedRecord:
    """A record of the file refused as INVALID, as the run lists it."""

    line: int | None
    record: int | None
    field: str | None
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "record": self.record, "field": self.field,
                "reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RejectedRecord:
        return cls(data.get("line"), data.get("record"), data.get("field"), data.get("reason"))


@dataclass(frozen=True)
class RunError:
    """Why a run was refused as a whole: the file (where in it, when ``in_file``), or
    the write (a CI changed meanwhile)."""

    code: str
    message: str
    in_file: bool = False
    file: str | None = None
    line: int | None = None
    column: str | None = None
    field: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.in_file:
            out.update(file=self.file, line=self.line, column=self.column, field=self.field)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunError:
        return cls(code=str(data["code"]), message=str(data["message"]),
                   in_file="file" in data, file=data.get("file"), line=data.get("line"),
                   column=data.get("column"), field=data.get("field"))


@dataclass(frozen=True)
class CampaignFeed:
    """What the open audit campaigns took of an applied scans or discovery run."""

    campaign_id: str | None
    recorded: int
    duplicates: int
    unscoped: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.campaign_id, "recorded": self.recorded,
                "duplicates": self.duplicates, "unscoped": self.unscoped}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CampaignFeed:
        return cls(data.get("id"), int(data.get("recorded", 0)),
                   int(data.get("duplicates", 0)), int(data.get("unscoped", 0)))


@dataclass(frozen=True)
class ImportRun:
    """One import of one file: a preview (dry run), applied, or rejected."""

    id: str
    #: dry_run, applied or rejected.
    status: str
    source: str
    file: str
    sha256: str
    #: Who ran it.
    actor: str
    started_at: datetime
    dry_run: bool
    apply_valid_only: bool = False
    create_places: bool = False
    #: How many records had each outcome (every kind, zeros included).
    counts: Mapping[str, int] = field(default_factory=dict)
    #: The first rejected records (INVALID outcomes), in file order.
    rejected: tuple[RejectedRecord, ...] = ()
    #: Whether its outcomes are kept in blocks (runs of earlier versions kept a doc each).
    outcome_blocks: bool = False
    error: RunError | None = None
    #: How many people and teams the rows named had each outcome (LINKED, CREATED ...).
    parties: Mapping[str, int] | None = None
    #: Whether the file has invalid records and the run may not apply only the rest.
    would_reject: bool | None = None
    finished_at: datetime | None = None
    campaign: CampaignFeed | None = None
    version: int = 1
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source": self.source, "file": self.file, "sha256": self.sha256,
            "actor": self.actor, "started_at": self.started_at.isoformat(),
            "dry_run": self.dry_run, "apply_valid_only": self.apply_valid_only,
            "create_places": self.create_places, "counts": dict(self.counts),
            "rejected": [r.to_json() for r in self.rejected],
        }
        if self.outcome_blocks:
            data["outcome_blocks"] = True
        if self.error is not None:
            data["error"] = self.error.to_json()
        if self.parties is not None:
            data["parties"] = dict(self.parties)
        if self.would_reject is not None:
            data["would_reject"] = self.would_reject
        data["status"] = self.status
        if self.finished_at is not None:
            data["finished_at"] = self.finished_at.isoformat()
        if self.campaign is not None:
            data["campaign"] = self.campaign.to_json()
        return data

    def to_doc(self) -> Doc:
        return Doc(kind=RUN, id=self.id, key=self.status, data=self._data(),
                   version=self.version, created_at=self.created_at,
                   updated_at=self.updated_at)

    @classmethod
    def from_doc(cls, doc: Doc) -> ImportRun:
        data = doc.data
        error, parties, fed = data.get("error"), data.get("parties"), data.get("campaign")
        finished = data.get("finished_at")
        return cls(
            id=doc.id, status=doc.key or str(data.get("status", "")),
            source=str(data["source"]), file=str(data["file"]), sha256=str(data["sha256"]),
            actor=str(data["actor"]), started_at=datetime.fromisoformat(data["started_at"]),
            dry_run=bool(data["dry_run"]),
            apply_valid_only=bool(data.get("apply_valid_only", False)),
            create_places=bool(data.get("create_places", False)),
            counts=dict(data.get("counts", {})),
            rejected=tuple(RejectedRecord.from_json(r) for r in data.get("rejected", [])),
            outcome_blocks=bool(data.get("outcome_blocks", False)),
            error=RunError.from_json(error) if error else None,
            parties=dict(parties) if parties is not None else None,
            would_reject=data.get("would_reject"),
            finished_at=datetime.fromisoformat(finished) if finished else None,
            campaign=CampaignFeed.from_json(fed) if fed else None,
            version=doc.version, created_at=doc.created_at, updated_at=doc.updated_at)

    def as_json(self, outcomes: Iterable[ImportOutcome]) -> dict[str, Any]:
        """The run with these of its outcomes, as ``cmdb import --json`` prints it and
        ``POST /imports/{source}`` answers it."""
        data = self._data()
        del data["status"]
        return {"id": self.id, "status": self.status, **data,
                "outcomes": [o.as_json() for o in outcomes]}


def outcome_row(p: Planned) -> dict[str, Any]:
    """An outcome as the run keeps it, a row of its block: only what it says (nulls and
    empties left out; :meth:`ImportOutcome.as_json` shows every key)."""
    o = p.observation
    if p.outcome is Outcome.MATCHED and o is not None and not p.differences \
            and p.reason is None and not p.writes:
        # The steady state of a recurring file: most rows are this.
        seen: dict[str, Any] = {}
        if o.asset_tag is not None:
            seen["asset_tag"] = o.asset_tag
        if o.serial_number is not None:
            seen["serial_number"] = o.serial_number
        if o.name is not None:
            seen["name"] = o.name
        brief: dict[str, Any] = {"outcome": "MATCHED", "ci_id": p.ci_id,
                                 "matched_by": p.rule, "observation": seen}
        if p.line is not None:
            brief["line"] = p.line
        if p.record is not None:
            brief["record"] = p.record
        if p.parties:
            brief["parties"] = [link.as_json() for link in p.parties]
        return brief
    row: dict[str, Any] = {"outcome": p.outcome.value}
    for key, value in (("line", p.line), ("record", p.record),
                       ("ci_id", p.ci_id), ("reason", p.reason),
                       ("field", p.field), ("matched_by", p.rule),
                       ("transition", p.transition)):
        if value is not None:
            row[key] = value
    if p.candidates:
        row["candidates"] = list(p.candidates)
    if p.differences:
        row["differences"] = [d.as_json() for d in p.differences]
    if p.parties:
        row["parties"] = [link.as_json() for link in p.parties]
    observed = _observation(p)
    if observed is not None:
        row["observation"] = observed
    if p.create is not None:
        row["creates"] = new_ci_json(p.create)
    return row


def _observation(p: Planned) -> dict[str, Any] | None:
    """The observation as the outcome keeps it: whole, except for a plain MATCHED
    one (the register says the same; the run's file and line say the rest), which
    keeps what identified it. Re-imports are mostly those, so this is what keeps
    them cheap."""
    o = p.observation
    if o is None:
        return None
    if p.outcome is Outcome.MATCHED and not p.differences and not p.writes:
        return {k: v for k, v in (("asset_tag", o.asset_tag), ("serial_number",
                o.serial_number), ("name", o.name)) if v is not None}
    return observation_json(o)


#: Every key of an outcome as the run's JSON shows it, with its value when the row omits
#: it, in the usual order.
ROW_DEFAULTS: dict[str, Any] = {
    "line": None, "record": None, "outcome": None, "ci_id": None, "reason": None,
    "field": None, "candidates": [], "matched_by": None, "differences": [],
    "observation": None, "creates": None, "transition": None, "parties": []}


@dataclass(frozen=True)
class ImportOutcome:
    """What a run made of one record of its file."""

    id: str
    run_id: str
    outcome: Outcome
    #: The line of the file where the record starts, and its number.
    line: int | None = None
    record: int | None = None
    #: The CI it matched (or that the run registered).
    ci_id: str | None = None
    #: INVALID: why; NEW: why it was not registered.
    reason: str | None = None
    field: str | None = None
    #: AMBIGUOUS: every CI that matched.
    candidates: tuple[str, ...] = ()
    #: The rule that identified the CI.
    matched_by: str | None = None
    differences: tuple[Difference, ...] = ()
    #: What the source saw, as the importer parsed it (JSON).
    observation: dict[str, Any] | None = None
    #: NEW: the CI the run registers (JSON).
    creates: dict[str, Any] | None = None
    transition: str | None = None
    #: The people and teams the row names, and their links.
    parties: tuple[PartyLink, ...] = ()

    @classmethod
    def from_json(cls, outcome_id: str, run_id: str, data: Mapping[str, Any]
                  ) -> ImportOutcome:
        """An outcome from its stored row (compact: nulls and empties left out) or from a
        doc of a run of an earlier version (every key)."""
        return cls(
            id=outcome_id, run_id=run_id, outcome=Outcome(data["outcome"]),
            line=data.get("line"), record=data.get("record"), ci_id=data.get("ci_id"),
            reason=data.get("reason"), field=data.get("field"),
            candidates=tuple(data.get("candidates") or ()), matched_by=data.get("matched_by"),
            differences=tuple(Difference.from_json(d) for d in data.get("differences") or ()),
            observation=data.get("observation"), creates=data.get("creates"),
            transition=data.get("transition"),
            parties=tuple(PartyLink.from_json(p) for p in data.get("parties") or ()))

    @classmethod
    def from_doc(cls, doc: Doc) -> ImportOutcome:
        """An outcome kept as its own doc (runs recorded before blocks)."""
        return cls.from_json(doc.id, doc.parent or "", doc.data)

    def as_json(self) -> dict[str, Any]:
        """The outcome in full (every key, in the usual order), as the run's JSON shows
        it."""
        return {"line": self.line, "record": self.record, "outcome": self.outcome.value,
                "ci_id": self.ci_id, "reason": self.reason, "field": self.field,
                "candidates": list(self.candidates), "matched_by": self.matched_by,
                "differences": [d.as_json() for d in self.differences],
                "observation": self.observation, "creates": self.creates,
                "transition": self.transition,
                "parties": [p.as_json() for p in self.parties]}


def block_id(run_id: str, chunk: int, kind: str) -> str:
    return f"{run_id}:{chunk:06d}:{kind}"


def outcome_id(run_id: str, chunk: int, n: int) -> str:
    return f"{run_id}:{chunk}:{n}"


#: One stored outcome row with its number in the run: (n, row).
NumberedRow = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class OutcomeBlock:
    """The outcomes of one kind in one chunk of the file: compact rows
    (:func:`outcome_row`), each numbered in the run, in file order."""

    run_id: str
    chunk: int
    kind: str
    rows: tuple[dict[str, Any], ...]

    @property
    def id(self) -> str:
        return block_id(self.run_id, self.chunk, self.kind)

    @classmethod
    def pack(cls, run_id: str, chunk: int, rows: Iterable[NumberedRow],
             kinds: Sequence[str]) -> list[OutcomeBlock]:
        """The blocks of one chunk's numbered rows, by kind in the order ``kinds``."""
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for n, row in rows:
            row["n"] = n
            by_kind.setdefault(row["outcome"], []).append(row)
        return [cls(run_id, chunk, kind, tuple(by_kind[kind])) for kind in kinds
                if kind in by_kind]

    def after(self, after_n: int) -> list[tuple[int, int, dict[str, Any]]]:
        """The rows numbered after ``after_n``, as (n, chunk, row)."""
        chunk = self.chunk
        return [(row["n"], chunk, row) for row in self.rows if row["n"] > after_n]

    def to_doc(self) -> Doc:
        return Doc(kind=BLOCK, id=self.id, parent=self.run_id, key=self.kind,
                   data={"chunk": self.chunk, "rows": list(self.rows)})

    @classmethod
    def from_doc(cls, doc: Doc) -> OutcomeBlock:
        return cls(doc.parent or "", int(doc.data["chunk"]), doc.key or "",
                   tuple(doc.data["rows"]))


def outcome_of_row(run_id: str, chunk: int, n: int, row: Mapping[str, Any]) -> ImportOutcome:
    return ImportOutcome.from_json(outcome_id(run_id, chunk, n), run_id, row)


# ---- reading and writing them -------------------------------------------------------
async def read_runs(reader: DocReader, ids: Sequence[str]) -> dict[str, ImportRun]:
    """The runs with these ids (those that exist), by id."""
    return {i: ImportRun.from_doc(d) for i, d in (await reader.get_docs(RUN, ids)).items()}


async def find_runs(store: Store, first: int, after: str | None
                    ) -> tuple[list[ImportRun], bool]:
    """A page of runs, newest first; and whether more follow."""
    page = await store.find_docs(RUN, first=first, after=after)
    return [ImportRun.from_doc(d) for d in page.items], page.has_next


async def add_records(tx: StoreTx, records: Sequence[ImportRun | OutcomeBlock]) -> None:
    """Add new runs and outcome blocks."""
    await tx.put_docs([r.to_doc() for r in records])


async def replace_run(tx: StoreTx, run: ImportRun, expected_version: int) -> None:
    """Write ``run`` over the stored one if that is still ``expected_version``."""
    await tx.update_doc(run.to_doc(), expected_version)


async def read_blocks(reader: DocReader, ids: Sequence[str]) -> dict[str, OutcomeBlock]:
    return {i: OutcomeBlock.from_doc(d) for i, d in (await reader.get_docs(BLOCK, ids)).items()}


async def find_blocks(store: Store, run_id: str, kind: str | None, first: int,
                      after: str | None) -> tuple[list[OutcomeBlock], bool]:
    """A run's blocks (only of ``kind`` when given) in the order written, after the block
    ``after``; and whether more follow."""
    page = await store.find_docs(BLOCK, parent=run_id, key=kind, first=first, after=after,
                                 newest_first=False)
    return [OutcomeBlock.from_doc(d) for d in page.items], page.has_next


async def find_outcome_docs(store: Store, run_id: str, kind: str | None, first: int,
                            after: str | None) -> tuple[list[ImportOutcome], bool]:
    """A page of a run recorded with one doc per outcome (before blocks)."""
    page = await store.find_docs(OUTCOME, parent=run_id, key=kind, first=first, after=after,
                                 newest_first=False)
    return [ImportOutcome.from_doc(d) for d in page.items], page.has_next
