"""The CMDB's services: the rules, over any store. No web framework, no driver here.

:class:`Cmdb` wires them over a store it is given; which store a deployment's settings
name is decided above the services, in :mod:`cmdb.root`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from cmdb.errors import CmdbError
from cmdb.model.clock import Clock
from cmdb.model.registry import Registry, load_registry
from cmdb.services.access.service import AuthService
from cmdb.services.changes.service import ChangeService
from cmdb.services.cis.queries import CIQueries
from cmdb.services.cis.service import CIService
from cmdb.services.impact.service import ImpactService
from cmdb.settings import Settings
from cmdb.store.base import Store

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from cmdb.services.access.sessions import SessionService
    from cmdb.services.audit.health import HealthService
    from cmdb.services.audit.resolutions import FindingResolver
    from cmdb.services.audit.service import CampaignService
    from cmdb.services.imports.service import ImportService
    from cmdb.services.labels.service import LabelService


@dataclass
class Cmdb:
    """One CMDB: its schema, its store and the services over them.

    ``async with cmdb:`` opens the store (see :meth:`open`; a store without a CMDB is
    made one only if ``create``) and closes it on the way out.
    """

    settings: Settings
    registry: Registry
    store: Store
    cis: CIService
    queries: CIQueries
    clock: Clock
    #: Whether ``async with`` may make a CMDB in a store that holds none yet.
    create: bool = True

    @classmethod
    def build(
        cls, settings: Settings, store: Store, registry: Registry | None = None, *,
        create: bool = True,
    ) -> Cmdb:
        """Load the schema (unless given) and wire the services over ``store``; open it
        with ``async with`` (or :meth:`open`) before use. :func:`cmdb.root.connect`
        builds the store the settings name."""
        registry = registry or load_registry(settings.schema_dir, settings.vendors_file)
        clock = settings.clock()
        return cls(settings, registry, store, CIService(store, registry, clock),
                   CIQueries(store, registry, settings.max_page_size), clock, create)

    async def __aenter__(self) -> Cmdb:
        try:
            await self.open(create=self.create)
        except BaseException:
            await self.close()  # whatever opened before the failure
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @cached_property
    def impact(self) -> ImpactService:
        """Impact analysis, dependencies and single points of failure."""
        return ImpactService(self.store, self.registry)

    @cached_property
    def changes(self) -> ChangeService:
        """Change records with their planned impact and conflicts."""
        return ChangeService(self.store, self.impact, self.clock)

    @cached_property
    def imports(self) -> ImportService:
        """Import runs: identify, reconcile, preview or apply files from other tools."""
        from cmdb.services.imports.service import ImportService
        from cmdb.services.imports.sources import load_sources

        config = load_sources(self.settings.schema_dir, self.registry)
        return ImportService(self.store, self.registry, self.cis, config, self.campaigns,
                             self.clock)

    @cached_property
    def labels(self) -> LabelService:
        """Asset labels; built on first use, since the drawing libraries take ~0.4 s to load."""
        from cmdb.services.labels.service import LabelService

        return LabelService(self.store, self.registry, self.cis, self.queries, self.settings)

    @cached_property
    def auth(self) -> AuthService:
        """API tokens and users: who a caller is, and with which role."""
        return AuthService(self.store)

    @cached_property
    def sessions(self) -> SessionService:
        """Browser sign-in sessions, kept in the store and revocable."""
        from cmdb.services.access.sessions import SessionService

        return SessionService(self.store, self.auth, self.settings.session_hours)

    @cached_property
    def campaigns(self) -> CampaignService:
        """Audit campaigns: sightings, findings, progress, close with MISSING."""
        from cmdb.services.audit.service import CampaignService

        return CampaignService(self.store, self.registry, self.cis, self.clock)

    @cached_property
    def resolutions(self) -> FindingResolver:
        """Resolving audit findings, applied to the CIs with their history."""
        from cmdb.services.audit.resolutions import FindingResolver

        return FindingResolver(self.store, self.cis)

    @cached_property
    def health(self) -> HealthService:
        """CMDB health: completeness, duplicate candidates, stale discovery, audits."""
        from cmdb.services.audit.health import HealthService

        return HealthService(self.store, self.registry)

    async def open(self, *, create: bool = True) -> None:
        """Open the store; with ``create=False`` a store without a CMDB is ``NoCmdbError``
        (the CLI's commands other than serve, demo, restore and init). Manufacturers
        stored before the vendor table knew their names are then aligned with it
        (:mod:`cmdb.services.cis.vendors`; nothing to do unless the table changed)."""
        await self.store.open(create=create)
        from cmdb.services.cis.vendors import align_manufacturers

        try:
            await align_manufacturers(self.store, self.registry)
        except CmdbError as exc:  # another process aligning at the same time, say
            log.warning("manufacturers not aligned with the vendor table: %s", exc.message)

    async def close(self) -> None:
        await self.store.close()
