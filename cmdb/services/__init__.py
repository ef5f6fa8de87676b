"""The CMDB's services: the rules, over any store. No web framework, no driver here."""

from __future__ import annotations

from dataclasses import dataclass

from cmdb.model.registry import Registry, load_registry
from cmdb.services.cis import CIService
from cmdb.services.queries import CIQueries
from cmdb.settings import Settings
from cmdb.store import store_from_url
from cmdb.store.base import Store


@dataclass
class Cmdb:
    """One CMDB: its schema, its store and the services over them."""

    settings: Settings
    registry: Registry
    store: Store
    cis: CIService
    queries: CIQueries

    @classmethod
    def build(
        cls, settings: Settings, store: Store | None = None, registry: Registry | None = None
    ) -> Cmdb:
        """Load the schema and wire the services; call :meth:`open` before use."""
        registry = registry or load_registry(settings.schema_dir)
        store = store or store_from_url(settings.store_url)
        return cls(settings, registry, store, CIService(store, registry),
                   CIQueries(store, registry, settings.max_page_size))

    async def open(self) -> None:
        await self.store.open()

    async def close(self) -> None:
        await self.store.close()
