"""GraphQL for import runs: list them, inspect each outcome, upload a file to import.

``importFile`` takes the file as an ``Upload`` following the GraphQL multipart
request convention (see ``graphql_http``); ``importRuns``/``importRun`` read the
recorded runs and their paginated outcomes.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, cast

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON
from strawberry.types import Info

from cmdb.api.graphql.cis_types import CIType, PageInfoType, page_info
from cmdb.api.graphql.context import Context
from cmdb.api.web.cpu import run_cpu
from cmdb.api.web.import_worker import run_import
from cmdb.api.web.uploads import save_upload, upload_dir, upload_name
from cmdb.errors import ValidationError
from cmdb.services.imports.outcomes import Outcome, PartyLink
from cmdb.services.imports.records import ImportOutcome, ImportRun
from cmdb.services.imports.service import ImportRequest


@strawberry.enum(name="ImportOutcomeKind")
class ImportOutcomeKind(Enum):
    MATCHED = "MATCHED"
    MATCHED_WITH_DIFFERENCES = "MATCHED_WITH_DIFFERENCES"
    NEW = "NEW"
    AMBIGUOUS = "AMBIGUOUS"
    INVALID = "INVALID"


@strawberry.type(name="ImportCounts", description="How many observations had each outcome.")
class ImportCountsType:
    matched: int
    matched_with_differences: int
    new: int
    ambiguous: int
    invalid: int


@strawberry.type(name="ImportDifference",
                 description="A field where the register and the source disagree.")
class ImportDifferenceType:
    field: str
    registered: JSON | None
    observed: JSON | None
    source: str
    applied: bool = strawberry.field(description="Whether the run changed the register.")
    note: str | None


@strawberry.enum(name="ImportPartyOutcome")
class ImportPartyOutcome(Enum):
    UNCHANGED = "UNCHANGED"
    LINKED = "LINKED"
    CREATED = "CREATED"
    AMBIGUOUS = "AMBIGUOUS"
    UNRESOLVED = "UNRESOLVED"
    REFUSED = "REFUSED"


@strawberry.type(name="ImportPartyLink", description=(
    "A column of the row naming a person or team (责任人, 使用部门 ...; `parties` in "
    "schema/sources.yaml) and what the run made of it."))
class ImportPartyLinkType:
    link: strawberry.Private[PartyLink]

    @strawberry.field(description="The column's field in sources.yaml (owner, department).")
    def field(self) -> str:
        return self.link.field

    @strawberry.field(description="The sheet's column, header and letter: 责任人 (K).")
    def column(self) -> str | None:
        return self.link.column

    @strawberry.field(description="The cell as written.")
    def value(self) -> str:
        return self.link.value

    @strawberry.field(description="OWNED_BY or MANAGED_BY, as sources.yaml says.")
    def relationship(self) -> str:
        return self.link.relationship

    @strawberry.field
    def outcome(self) -> ImportPartyOutcome:
        return ImportPartyOutcome(self.link.outcome.value)

    @strawberry.field(description="The person or team linked (or kept, or created).")
    async def party(self, info: Info[Context, None]) -> CIType | None:
        party_id = self.link.party_id
        found = await info.context.ci_loader.load(party_id) if party_id else None
        return CIType(ci=found) if found else None

    @strawberry.field(description="The name of the person or team (also one a dry run "
                      "would create).")
    def party_name(self) -> str | None:
        return self.link.party_name

    @strawberry.field(description="AMBIGUOUS: every person or team the value names.")
    async def candidates(self, info: Info[Context, None]) -> list[CIType]:
        found = await info.context.ci_loader.load_many(list(self.link.candidates))
        return [CIType(ci=c) for c in found if c is not None]

    @strawberry.field(description="AMBIGUOUS, UNRESOLVED, REFUSED: why no link.")
    def reason(self) -> str | None:
        return self.link.reason


@strawberry.type(name="ImportOutcome")
class ImportOutcomeType:
    outcome_: strawberry.Private[ImportOutcome]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.outcome_.id)

    @strawberry.field
    def outcome(self) -> ImportOutcomeKind:
        return ImportOutcomeKind(self.outcome_.outcome.value)

    @strawberry.field(description="The line of the file where the record starts.")
    def line(self) -> int | None:
        return self.outcome_.line

    @strawberry.field
    def record(self) -> int | None:
        return self.outcome_.record

    @strawberry.field(description="What the source saw, as the importer parsed it.")
    def observation(self) -> JSON | None:
        return cast(JSON | None, self.outcome_.observation)

    @strawberry.field(description="The CI it matched (or that the run registered).")
    async def ci(self, info: Info[Context, None]) -> CIType | None:
        ci_id = self.outcome_.ci_id
        found = await info.context.ci_loader.load(ci_id) if ci_id else None
        return CIType(ci=found) if found else None

    @strawberry.field(description="The rule that identified the CI.")
    def matched_by(self) -> str | None:
        return self.outcome_.matched_by

    @strawberry.field(description="AMBIGUOUS: every CI that matched.")
    async def candidates(self, info: Info[Context, None]) -> list[CIType]:
        found = await info.context.ci_loader.load_many(list(self.outcome_.candidates))
        return [CIType(ci=c) for c in found if c is not None]

    @strawberry.field
    def differences(self) -> list[ImportDifferenceType]:
        return [ImportDifferenceType(field=d.field, registered=d.registered,
                                     observed=d.observed, source=d.source, applied=d.applied,
                                     note=d.note)
                for d in self.outcome_.differences]

    @strawberry.field(description="INVALID: why; NEW: why it was not registered.")
    def reason(self) -> str | None:
        return self.outcome_.reason

    @strawberry.field(description="The people and teams the row names, and their links.")
    def parties(self) -> list[ImportPartyLinkType]:
        return [ImportPartyLinkType(link=p) for p in self.outcome_.parties]


@strawberry.type(name="ImportOutcomeConnection")
class ImportOutcomeConnectionType:
    nodes: list[ImportOutcomeType]
    page_info: PageInfoType


def _page_info(ids: list[str], has_next: bool, after: str | None) -> PageInfoType:
    return page_info(ids, has_next, after is not None)


@strawberry.type(name="ImportRun", description="One import of one file: a preview or applied.")
class ImportRunType:
    run: strawberry.Private[ImportRun]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.run.id)

    @strawberry.field(description="dry_run, applied or rejected.")
    def status(self) -> str:
        return self.run.status

    @strawberry.field
    def source(self) -> str:
        return self.run.source

    @strawberry.field
    def file(self) -> str:
        return self.run.file

    @strawberry.field
    def sha256(self) -> str:
        return self.run.sha256

    @strawberry.field(description="Who ran it.")
    def actor(self) -> str:
        return self.run.actor

    @strawberry.field
    def started_at(self) -> datetime:
        return self.run.started_at

    @strawberry.field
    def dry_run(self) -> bool:
        return self.run.dry_run

    @strawberry.field
    def counts(self) -> ImportCountsType:
        c = self.run.counts
        return ImportCountsType(
            matched=c.get("MATCHED", 0),
            matched_with_differences=c.get("MATCHED_WITH_DIFFERENCES", 0),
            new=c.get("NEW", 0), ambiguous=c.get("AMBIGUOUS", 0), invalid=c.get("INVALID", 0))

    @strawberry.field(description=(
        "How many people and teams the rows named had each outcome (LINKED, CREATED, "
        "UNCHANGED, AMBIGUOUS, UNRESOLVED, REFUSED)."))
    def party_counts(self) -> JSON:
        return cast(JSON, dict(self.run.parties or {}))

    @strawberry.field(description="A whole-file error (code, message, file, line, field).")
    def error(self) -> JSON | None:
        return cast(JSON | None, self.run.error.to_json() if self.run.error else None)

    @strawberry.field(description=(
        "An applied scans or discovery run: what the open audit campaigns took "
        "(campaign id when one was named, sightings recorded, already known, outside "
        "every open campaign)."))
    def campaign_feed(self) -> JSON | None:
        return cast(JSON | None, self.run.campaign.to_json() if self.run.campaign else None)

    @strawberry.field(description="The outcomes in file order, optionally of one kind.")
    async def outcomes(
        self, info: Info[Context, None], first: int = 50, after: str | None = None,
        outcome: ImportOutcomeKind | None = None,
    ) -> ImportOutcomeConnectionType:
        found, has_next = await info.context.cmdb.imports.outcomes(
            self.run.id, Outcome(outcome.value).value if outcome else None, first, after)
        return ImportOutcomeConnectionType(
            nodes=[ImportOutcomeType(outcome_=o) for o in found],
            page_info=_page_info([o.id for o in found], has_next, after))


@strawberry.type(name="ImportRunConnection")
class ImportRunConnectionType:
    nodes: list[ImportRunType]
    page_info: PageInfoType


@strawberry.type
class ImportQuery:
    """Import runs."""

    @strawberry.field(description="Import runs, newest first.")
    async def import_runs(self, info: Info[Context, None], first: int = 50,
                          after: str | None = None) -> ImportRunConnectionType:
        runs, has_next = await info.context.cmdb.imports.runs(first, after)
        return ImportRunConnectionType(nodes=[ImportRunType(run=r) for r in runs],
                                       page_info=_page_info([r.id for r in runs], has_next,
                                                            after))

    @strawberry.field
    async def import_run(self, info: Info[Context, None],
                         id: strawberry.ID) -> ImportRunType | None:
        found = await info.context.cmdb.imports.find_run(str(id))
        return ImportRunType(run=found) if found else None


@strawberry.type
class ImportMutation:
    """Importing files."""

    @strawberry.mutation(description=(
        "Import a file (multipart upload) from a source: csv, xlsx, nmap, glpi, ocs, lshw, "
        "scans. A refused file is an error whose extensions name the file, line, field "
        "and runId; nothing is changed. An applied scans or discovery file feeds the open "
        "audit campaigns, or only `campaign` when given."))
    async def import_file(
        self, info: Info[Context, None], source: str, file: Upload, dry_run: bool = False,
        apply_valid_only: bool = False, create_places: bool = False,
        campaign: str | None = None,
    ) -> ImportRunType:
        upload: Any = file
        if not isinstance(upload, UploadFile):
            raise ValidationError("file: send the file as a multipart upload", field="file")
        with upload_dir() as folder:
            path = save_upload(upload, Path(folder))
            request = ImportRequest(
                source, path, file_name=upload_name(upload),
                dry_run=dry_run, apply_valid_only=apply_valid_only,
                create_places=create_places, campaign=campaign)
            # seconds of CPU and memory: in the worker process (see import_worker)
            run = await run_cpu(run_import, info.context.cmdb.settings,
                                info.context.actor.name, request)
        return ImportRunType(run=run)
