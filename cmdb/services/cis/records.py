"""The records of the CI domain kept beside the CIs, and how the store keeps them (the
one module that knows their kinds and data keys).

CIs, relationships and history entries have records of their own in
:mod:`cmdb.model.records`; what the CI services keep as a store document is here:
the note of the last manufacturer alignment (:mod:`cmdb.services.cis.vendors`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Self

from cmdb.model.records import Doc, now
from cmdb.store.base import Store, StoreTx


@dataclass(frozen=True)
class VendorAlignment:
    """What the last alignment of stored manufacturers with the vendor table did: the
    table's ``fingerprint`` then, how many CIs it ``aligned``, and the ``conflicts``
    it left for a person: (CI id, its manufacturer, the CI holding its serial under the
    canonical name). One per CMDB. Public: every field."""

    KIND: ClassVar[str] = "vendor_alignment"
    ID: ClassVar[str] = "current"
    fingerprint: str
    aligned: int = 0
    conflicts: tuple[tuple[str, str, str], ...] = ()
    at: datetime = field(default_factory=now)
    version: int = 1

    def to_doc(self) -> Doc:
        return Doc(kind=self.KIND, id=self.ID, version=self.version, data={
            "fingerprint": self.fingerprint, "aligned": self.aligned,
            "conflicts": [list(c) for c in self.conflicts], "at": self.at.isoformat()})

    @classmethod
    def from_doc(cls, doc: Doc) -> Self:
        d = doc.data
        at = d.get("at")
        return cls(fingerprint=str(d.get("fingerprint") or ""),
                   aligned=int(d.get("aligned") or 0),
                   conflicts=tuple((str(ci), str(maker), str(holder))
                                   for ci, maker, holder in d.get("conflicts") or []),
                   at=datetime.fromisoformat(at) if at else doc.updated_at, version=doc.version)


async def last_alignment(reader: Store | StoreTx) -> VendorAlignment | None:
    """The note of the last alignment, or None if the CMDB never had one."""
    doc = (await reader.get_docs(VendorAlignment.KIND, [VendorAlignment.ID])).get(
        VendorAlignment.ID)
    return VendorAlignment.from_doc(doc) if doc is not None else None


async def keep_alignment(tx: StoreTx, note: VendorAlignment) -> None:
    """Keep ``note`` as the last alignment, in place of the one before."""
    before = (await tx.get_docs(VendorAlignment.KIND, [VendorAlignment.ID])).get(
        VendorAlignment.ID)
    if before is None:
        await tx.put_docs([note.to_doc()])
    else:
        await tx.update_doc(before.model_copy(update={
            "data": note.to_doc().data, "version": before.version + 1,
            "updated_at": now()}), before.version)
