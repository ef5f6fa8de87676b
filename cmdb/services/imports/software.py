"""Installed software from agent inventories, reconciled like hardware.

Each package a device reports is a ``SoftwareInstallation`` CI, ``INSTALLED_ON``
the device and ``INSTANCE_OF`` a ``SoftwareProduct`` (one per product name). On
every import the device's active installations are compared with what the agent
reports (name and version): new ones are added, vanished ones are retired (their
``INSTALLED_ON`` ends), unchanged ones are left alone, so a re-import adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cmdb.model.definitions import Role
from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.records import CI, new_id
from cmdb.model.registry import Registry
from cmdb.services.imports.outcomes import Difference, Planned
from cmdb.store.base import Store

PAGE = 500


def installation_key(name: str, version: str | None) -> tuple[str, str]:
    return name.strip().casefold(), (version or "").strip()


def describe(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else name


@dataclass
class ProductCatalog:
    """The software products by name: the registered ones, and those this run adds."""

    ids: dict[str, str] = field(default_factory=dict)
    planned: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)

    @classmethod
    async def load(cls, store: Store) -> ProductCatalog:
        catalog = cls()
        after = None
        while True:
            page = await store.list_cis(CISelection(classes=("SoftwareProduct",)), CIOrder(),
                                        PAGE, after)
            for ci in page.items:
                catalog.ids.setdefault(ci.name.strip().casefold(), ci.id)
            if not page.has_next:
                return catalog
            after = page.cursors[-1]

    def product_id(self, name: str, vendor: str | None) -> str:
        """The product's id, planning a new product the first time a name is seen."""
        key = name.strip().casefold()
        if key in self.ids:
            return self.ids[key]
        if key not in self.planned:
            self.planned[key] = (new_id(), name.strip(), vendor)
        return self.planned[key][0]


async def current_installations(store: Store, registry: Registry,
                                device_ids: Sequence[str]) -> dict[str, list[CI]]:
    """Each device's active software installations, in two store round trips."""
    rels = await store.relationships_of(list(device_ids), "in",
                                        [registry.role_type(Role.INSTALLED_ON)])
    ids = [r.source_id for found in rels.values() for r in found]
    cis = await store.get_cis(ids) if ids else {}
    return {device: [cis[r.source_id] for r in found if r.source_id in cis]
            for device, found in rels.items()}


def reconcile_software(planned: Planned, installed: list[CI], source: str) -> None:
    """Keep in ``planned.software`` only what changes, and record each as a difference."""
    plan = planned.software
    if plan is None:
        return
    have = {installation_key(c.name, c.attributes.get("software_version")): c
            for c in installed}
    seen = {installation_key(n, v) for n, v, _ in plan.add}
    plan.add = [(n, v, p) for n, v, p in plan.add if installation_key(n, v) not in have]
    plan.retire = [c.id for key, c in have.items() if key not in seen]
    for name, version, _ in plan.add:
        planned.differences.append(Difference("software", None, describe(name, version),
                                              source, True))
    for key, ci in have.items():
        if key not in seen:
            planned.differences.append(Difference(
                "software", describe(ci.name, ci.attributes.get("software_version")), None,
                source, True, "no longer reported: the installation is retired"))
