"""Finding CIs: filters resolved against the schema, ordering, cursor pages."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from cmdb.errors import LimitExceededError, ValidationError
from cmdb.model.definitions import ATTRIBUTE_NAME
from cmdb.model.queries import AttributeMatch, CIOrder, CISelection, Cursor, Page
from cmdb.model.records import CI
from cmdb.model.registry import Registry
from cmdb.model.search import parse_search
from cmdb.services.cis.inputs import CIFilterInput
from cmdb.store.base import Store


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.value, cursor.id], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(text: str) -> Cursor:
    try:
        value, ci_id = json.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise ValidationError("after: not a cursor this API returned", field="after") from exc
    if not isinstance(ci_id, str):
        raise ValidationError("after: not a cursor this API returned", field="after")
    return Cursor(value, ci_id)


@dataclass
class CIPage:
    """One page of CIs with what a Relay connection needs."""

    items: list[CI]
    cursors: list[str]
    has_next: bool
    query: CISelection


class CIQueries:
    """Read access to CIs with filters expressed in the schema's terms."""

    def __init__(self, store: Store, registry: Registry, max_page_size: int = 500) -> None:
        self.store = store
        self.registry = registry
        self.max_page_size = max_page_size

    def resolve(self, f: CIFilterInput | None) -> CISelection:
        """Turn a caller's filter into a store query: classes expanded, names checked."""
        if f is None:
            return CISelection()
        classes: set[str] | None = None
        for name in ([f.class_name] if f.class_name else []) + (f.classes or []):
            classes = (classes or set()) | set(self.registry.descendants(name))
        states = None
        if f.states is not None:
            states = tuple(self.registry.check_state(s) for s in f.states)
        matches: list[AttributeMatch] = []
        for name, value in (f.attributes or {}).items():
            if not ATTRIBUTE_NAME.match(name):
                raise ValidationError(f"filter: {name!r} is not an attribute name",
                                      field="attributes")
            if isinstance(value, dict | list):
                raise ValidationError(f"filter: attribute {name!r} takes a single value",
                                      field="attributes")
            matches.append(AttributeMatch(name, value))
        return CISelection(
            classes=tuple(sorted(classes)) if classes is not None else None,
            states=states, location_id=f.location_id, owner_id=f.owner_id,
            text=f.text or None, attributes=tuple(matches),
            ids=tuple(f.ids) if f.ids is not None else None,
            search=parse_search(f.search) if f.search else None,
        )

    async def page(
        self, f: CIFilterInput | None, order: CIOrder, first: int, after: str | None
    ) -> CIPage:
        if first < 0 or first > self.max_page_size:
            raise LimitExceededError(
                f"first must be between 0 and {self.max_page_size}", field="first",
                limit=self.max_page_size,
            )
        query = self.resolve(f)
        page: Page[CI] = await self.store.list_cis(
            query, order, first, decode_cursor(after) if after else None
        )
        return CIPage(page.items, [encode_cursor(c) for c in page.cursors], page.has_next, query)

    async def search(self, query: str, f: CIFilterInput | None = None,
                     order: CIOrder | None = None, first: int = 50,
                     after: str | None = None) -> CIPage:
        """The query box (:mod:`cmdb.model.search`) within the filter ``f``: CIs holding
        the IP address or MAC typed, or whose name, asset tag, serial number, host name
        or FQDN contains the text."""
        asked = CIFilterInput.model_validate({**(f.model_dump() if f else {}), "search": query})
        return await self.page(asked, order or CIOrder(), first, after)

    async def get(self, ci_id: str | None = None, asset_tag: str | None = None) -> CI | None:
        if ci_id is not None:
            return (await self.store.get_cis([ci_id])).get(ci_id)
        if asset_tag is not None:
            return await self.store.find_ci_by_asset_tag(asset_tag)
        raise ValidationError("give an id or an assetTag", field="id")
