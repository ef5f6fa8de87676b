"""Manufacturers as data: one canonical name for 戴尔, DELL and "Dell Inc.".

``schema/vendors.yaml`` lists each vendor's canonical name, its English and Chinese
display names and the other names people and tools use. :meth:`Vendors.canonical`
reads any spelling a register or an agent writes and answers the vendor, so that a
serial number is matched within the same manufacturer whatever each source calls it.

Matching ignores case, width, punctuation, spacing, bracketed text and legal forms at
the end ("Co., Ltd.", "有限公司" ...), and accepts a name that starts with an alias
("Huawei Technologies" and "华为技术有限公司" are Huawei); the longest alias wins.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from cmdb.errors import SchemaDefinitionError
from cmdb.model.definitions import Labels, Strict

MEMO_LIMIT = 10_000
_BRACKETED = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_SEPARATORS = re.compile(r"[\s,.;:!?·•\-_/\\&+'\"`®™©，。、；：！？（）()]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

LEGAL_WORDS = frozenset({
    "inc", "incorporated", "co", "corp", "corporation", "company", "ltd", "limited", "llc",
    "plc", "gmbh", "ag", "sa", "sas", "bv", "nv", "kk", "pty", "srl", "spa", "oy", "ab",
    "group", "holdings", "technologies", "technology", "tech", "systems", "computer",
    "computers", "international", "intl", "electronics", "electronic", "networks",
})
"""Words that end a company's legal name but do not tell vendors apart."""

LEGAL_SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司",
    "信息技术", "信息产业", "电子信息产业", "科技", "技术", "电子", "网络", "计算机",
)
"""The same, as Chinese company names end."""


def fold(text: str) -> str:
    """A manufacturer's name reduced to what tells vendors apart: ``"dell"`` for
    ``" DELL Inc. "``, ``"联想"`` for ``"联想（北京）有限公司"``."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _BRACKETED.sub(" ", text)
    tokens = [t for t in _SEPARATORS.split(text) if t]
    while len(tokens) > 1 and tokens[-1] in LEGAL_WORDS:
        tokens.pop()
    folded = " ".join(tokens)
    changed = True
    while changed and _CJK.search(folded):
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if folded.endswith(suffix) and len(folded) > len(suffix) + 1:
                folded = folded[: -len(suffix)].rstrip()
                changed = True
    return folded


class VendorDef(Strict):
    label: Labels
    aliases: tuple[str, ...] = ()


class VendorsFile(Strict):
    version: int = 1
    vendors: dict[str, VendorDef] = Field(default_factory=dict)


class ExtraVendorDef(Strict):
    """A vendor in a file of the operator's own aliases: a vendor the table knows needs
    only ``aliases``; a new one may give its display names (English: its name)."""

    label: Labels | None = None
    aliases: tuple[str, ...] = ()


class ExtraVendorsFile(Strict):
    """The operator's own aliases (``CMDB_VENDORS_FILE``), added to the vendor table."""

    version: int = 1
    vendors: dict[str, ExtraVendorDef] = Field(default_factory=dict)


def merged(base: VendorsFile, extra: ExtraVendorsFile) -> VendorsFile:
    """``base`` with ``extra``'s vendors added and its aliases appended (a label given
    replaces the packaged one)."""
    vendors = dict(base.vendors)
    for name, d in extra.vendors.items():
        have = vendors.get(name)
        if have is None:
            vendors[name] = VendorDef(label=d.label or Labels(en=name), aliases=d.aliases)
        else:
            vendors[name] = VendorDef(label=d.label or have.label,
                                      aliases=(*have.aliases, *d.aliases))
    return VendorsFile(version=base.version, vendors=vendors)


@dataclass(frozen=True)
class Vendor:
    """A manufacturer: its canonical name and its display names."""

    name: str
    label: Labels


class Vendors:
    """The vendor table, indexed by every folded name and alias."""

    def __init__(self, file: VendorsFile, source: Path | None = None) -> None:
        self.vendors = {name: Vendor(name, d.label) for name, d in file.vendors.items()}
        self._index: dict[str, str] = {}
        #: What :meth:`normalise` answered, per text (registers repeat a few names).
        self._memo: dict[str, str] = {}
        where = source if source is None or source.suffix else source / "vendors.yaml"
        shown = where.name if where else "vendors.yaml"
        for name, d in file.vendors.items():
            for alias in (name, d.label.en, d.label.zh_cn or "", *d.aliases):
                key = _compact(fold(alias)) if alias else ""
                if not key:
                    continue
                if self._index.setdefault(key, name) != name:
                    raise SchemaDefinitionError(
                        f"{shown}: vendors.{name}: alias {alias!r} already names "
                        f"{self._index[key]!r}", file=str(where or shown),
                        entry=f"vendors.{name}")
        self._longest = max((len(k) for k in self._index), default=0)

    @property
    def fingerprint(self) -> str:
        """A digest of what the table answers: it changes when a vendor or an alias is
        added, removed or moved, so stored manufacturers know to be aligned again."""
        text = "\n".join(f"{k}\t{v}" for k, v in sorted(self._index.items()))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def canonical(self, text: str | None) -> Vendor | None:
        """The vendor ``text`` names, or None for a name the table does not know."""
        if not text or not text.strip():
            return None
        folded = fold(text)
        if not folded:
            return None
        tokens = folded.split(" ")
        # Whole words first, longest first: "dell emc" before "dell".
        for end in range(len(tokens), 0, -1):
            found = self._index.get(_compact(" ".join(tokens[:end])))
            if found:
                return self.vendors[found]
        # A Chinese name runs its words together: "华为技术" starts with "华为".
        compact = _compact(folded)
        if _CJK.match(compact):
            for end in range(min(len(compact), self._longest), 1, -1):
                found = self._index.get(compact[:end])
                if found:
                    return self.vendors[found]
        return None

    def normalise(self, text: str) -> str:
        """The canonical name for ``text``; unknown names are only tidied (spaces)."""
        found = self._memo.get(text)
        if found is None:
            vendor = self.canonical(text)
            found = vendor.name if vendor else " ".join(text.split())
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[text] = found
        return found


def _compact(folded: str) -> str:
    return folded.replace(" ", "")
