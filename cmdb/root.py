"""The composition root: from settings to a working CMDB.

The services (:class:`cmdb.services.Cmdb`) run over any :class:`~cmdb.store.base.Store`
and import no adapter; the command line and the web application both get their CMDB
here, where the settings choose the adapter (``store_from_url``)::

    async with connect(settings) as cmdb:
        ...
"""

from __future__ import annotations

from cmdb.model.registry import Registry, load_registry
from cmdb.services import Cmdb
from cmdb.settings import Settings
from cmdb.store import store_from_url
from cmdb.store.base import Store


def store_for(settings: Settings, registry: Registry) -> Store:
    """The store adapter ``settings`` name (not opened)."""
    return store_from_url(
        settings.store_url, user=settings.store_user,
        password=settings.store_password.get_secret_value(),
        relationship_types=sorted(registry.relationship_types),
        database=settings.store_database, timeout=settings.store_timeout,
        file_group=settings.file_group,
    )


def connect(settings: Settings, *, create: bool = True,
            registry: Registry | None = None) -> Cmdb:
    """The CMDB ``settings`` name, wired over its store; ``async with`` opens and closes
    it. Without ``create``, a store holding no CMDB yet is ``NoCmdbError`` on opening."""
    registry = registry or load_registry(settings.schema_dir, settings.vendors_file)
    return Cmdb.build(settings, store_for(settings, registry), registry, create=create)
