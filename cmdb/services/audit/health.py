"""CMDB health: how far the register can be trusted, in four questions.

1. Completeness: per class, how many CIs lack a required attribute (hardware also
   needs an asset tag and a serial number).
2. Duplicate candidates: CIs sharing a serial number, a MAC address, or a name that
   differs only in case, spaces and punctuation.
3. Stale discovery: hardware no discovery source has reported for N days.
4. Audits: hardware never audited, or not seen in the latest campaign.

One pass over every CI; lists are cut at ``limit`` entries (counts are exact).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from cmdb.errors import ValidationError
from cmdb.model.records import CI, now
from cmdb.model.registry import Registry
from cmdb.services.audit import records as audit_records
from cmdb.store.base import Store
from importers.normalise import is_identifying_mac

DISCOVERY_SOURCES = frozenset({"nmap", "glpi", "ocs", "lshw", "agent", "discovery",
                               "fusioninventory"})
MAX_STALE_DAYS = 36_500  # a century: further back than any date is an error, not a report


@dataclass
class ClassCompleteness:
    class_name: str
    total: int = 0
    incomplete: int = 0
    missing: dict[str, int] = field(default_factory=dict)


@dataclass
class DuplicateGroup:
    """CIs that may be one and the same: ``reason`` is serial, mac or name."""

    reason: str
    value: str
    ci_ids: list[str]


@dataclass
class HealthReport:
    completeness: list[ClassCompleteness]
    duplicates: list[DuplicateGroup]
    stale_discovery: list[str]
    stale_discovery_count: int
    never_audited: list[str]
    never_audited_count: int
    not_in_last_campaign: list[str]
    not_in_last_campaign_count: int
    last_campaign: str | None
    stale_days: int


def similar(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


class HealthService:
    """Computes the health report of a CMDB."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry

    async def report(self, stale_days: int = 30, limit: int = 100) -> HealthReport:
        if not 0 <= stale_days <= MAX_STALE_DAYS:
            raise ValidationError(f"staleDays must be between 0 and {MAX_STALE_DAYS}",
                                  field="staleDays")
        hardware = set(self.registry.descendants("Hardware"))
        newest, _ = await audit_records.find_campaigns(self.store, first=1)
        last = newest[0].name if newest else None
        cutoff = now() - timedelta(days=stale_days)
        classes: dict[str, ClassCompleteness] = {}
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        stale: list[str] = []
        never: list[str] = []
        not_last: list[str] = []
        terminal = self.registry.terminal_states
        out_of_service = self.registry.out_of_service_states
        async for ci in self.store.iter_all("cis"):
            assert isinstance(ci, CI)
            if ci.state in terminal:
                continue
            self._completeness(classes, ci, ci.class_name in hardware)
            if ci.serial_number:
                groups[("serial", ci.serial_number.strip().casefold())].append(ci.id)
            for mac in ci.attributes.get("mac_addresses") or []:
                if is_identifying_mac(str(mac)):  # containers share 02:42:..: not one CI
                    groups[("mac", str(mac))].append(ci.id)
            if ci.class_name not in hardware or ci.state in out_of_service:
                continue
            groups[("name", similar(ci.name))].append(ci.id)
            seen = [p.at for p in ci.provenance.values() if p.source in DISCOVERY_SOURCES]
            latest = max(seen, default=None)
            if latest is None or latest.astimezone(UTC) < cutoff:
                stale.append(ci.id)
            audited = ci.attributes.get("last_audited_at")
            if not audited:
                never.append(ci.id)
            elif last and ci.attributes.get("last_audited_campaign") != last:
                not_last.append(ci.id)
        dupes = [DuplicateGroup(reason, value, ids) for (reason, value), ids in groups.items()
                 if len(ids) > 1 and value]
        dupes.sort(key=lambda g: (g.reason, g.value))
        return HealthReport(
            completeness=sorted(classes.values(), key=lambda c: c.class_name),
            duplicates=dupes[:limit], stale_discovery=stale[:limit],
            stale_discovery_count=len(stale), never_audited=never[:limit],
            never_audited_count=len(never), not_in_last_campaign=not_last[:limit],
            not_in_last_campaign_count=len(not_last), last_campaign=last,
            stale_days=stale_days)

    def _completeness(self, classes: dict[str, ClassCompleteness], ci: CI,
                      is_hardware: bool) -> None:
        row = classes.setdefault(ci.class_name, ClassCompleteness(ci.class_name))
        row.total += 1
        info = self.registry.classes.get(ci.class_name)
        required = [n for n, d in info.attributes.items() if d.required] if info else []
        missing = [n for n in required if ci.attributes.get(n) in (None, "", [])]
        if is_hardware:
            missing += [n for n in ("asset_tag", "serial_number") if not getattr(ci, n)]
        if missing:
            row.incomplete += 1
            for name in missing:
                row.missing[name] = row.missing.get(name, 0) + 1

