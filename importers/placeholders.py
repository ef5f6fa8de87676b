"""Placeholder detection: values like ``To be filled by O.E.M.`` that never identify an asset.

The lists are data (``placeholders.yaml`` beside this module) so users can extend them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

IdentifyingField = Literal[
    "asset_tag",
    "serial_number",
    "system_uuid",
    "manufacturer",
    "model",
    "name",
    "hostname",
    "mac_address",
]
IDENTIFYING_FIELDS: tuple[IdentifyingField, ...] = (
    "asset_tag",
    "serial_number",
    "system_uuid",
    "manufacturer",
    "model",
    "name",
    "hostname",
    "mac_address",
)
BUILTIN_FILE = Path(__file__).with_name("placeholders.yaml")


def _fold(value: str) -> str:
    """Fold a value for comparison: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


@dataclass(frozen=True)
class Placeholders:
    """A loaded placeholder table; it answers ``is_placeholder(field, value)``."""

    common: frozenset[str] = frozenset()
    per_field: dict[str, frozenset[str]] = field(default_factory=dict)
    patterns: tuple[re.Pattern[str], ...] = ()
    combined: re.Pattern[str] | None = None

    @classmethod
    def load(cls, *extra: Path, builtin: bool = True) -> Placeholders:
        """Load the built-in table (unless ``builtin=False``) merged with user YAML files.

        Raises ``ValueError`` naming the file when a file is not of the documented shape.
        """
        files = ([BUILTIN_FILE] if builtin else []) + list(extra)
        common: set[str] = set()
        per_field: dict[str, set[str]] = {}
        patterns: list[re.Pattern[str]] = []
        for path in files:
            with path.open(encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{path}: placeholder file must be a mapping")
            for key, values in data.items():
                if not isinstance(values, list) or not all(
                    isinstance(v, str | int) for v in values
                ):
                    raise ValueError(f"{path}: {key!r} must be a list of strings")
                texts = [str(v) for v in values]
                if key == "any":
                    common.update(_fold(v) for v in texts)
                elif key == "patterns":
                    try:
                        patterns.extend(re.compile(v, re.IGNORECASE) for v in texts)
                    except re.error as exc:
                        raise ValueError(f"{path}: bad pattern: {exc}") from exc
                elif key in IDENTIFYING_FIELDS:
                    per_field.setdefault(key, set()).update(_fold(v) for v in texts)
                else:
                    raise ValueError(
                        f"{path}: unknown key {key!r}; expected any, patterns or one of "
                        + ", ".join(IDENTIFYING_FIELDS)
                    )
        return cls(
            common=frozenset(common),
            per_field={k: frozenset(v) for k, v in per_field.items()},
            patterns=tuple(patterns),
            combined=re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.IGNORECASE)
            if patterns
            else None,
        )

    def is_placeholder(self, field_name: IdentifyingField, value: str) -> bool:
        """Say whether ``value`` is a placeholder for the identifying field ``field_name``."""
        folded = _fold(value)
        if folded in self.common or folded in self.per_field.get(field_name, frozenset()):
            return True
        return self.combined is not None and self.combined.fullmatch(folded) is not None


@functools.cache
def default_placeholders() -> Placeholders:
    """Return the built-in table, loaded once per process."""
    return Placeholders.load()
