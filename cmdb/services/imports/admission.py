"""What an observation from an import must satisfy before it is reconciled.

Every import source comes through here (sheets, scans, agents, nmap), so the rules
that hold for every road into the register are checked once, each refusal naming
the field: an asset tag must follow the tag syntax (``cmdb.model.identifiers``); a
sheet may not set an attribute the CMDB keeps itself (``system: true``); free text
stays within the bounds of ``cmdb.model.text``.
"""

from __future__ import annotations

from cmdb.model.identifiers import tag_problem
from cmdb.model.registry import Registry
from cmdb.model.text import NAME, REASON, SHORT
from importers import Observation

TEXTS = {"note": REASON, "condition": SHORT, "auditor": SHORT, "owner": NAME,
         "department": NAME}


def observation_problem(obs: Observation, registry: Registry) -> tuple[str, str] | None:
    """``(field, reason)`` for the first rule ``obs`` breaks, or ``None``."""
    if obs.asset_tag is not None:
        problem = tag_problem(obs.asset_tag)
        if problem:
            return "asset_tag", f"{problem} (got {obs.asset_tag[:80]!r})"
    for name in obs.attributes:
        if name in registry.system_attributes:
            return name, (f"{name} is kept by the CMDB itself (audits, label printing and "
                          "discovery set it); a sheet cannot set it: remove the column")
    for field, limit in TEXTS.items():
        value = getattr(obs, field)
        if isinstance(value, str) and len(value) > limit:
            return field, f"{field}: at most {limit} characters ({len(value)} given)"
    for part in obs.location:
        if len(part) > NAME:
            return "location", f"location: a place name has at most {NAME} characters"
    return None
