"""What a register export says: the rows of the CIs a filter selects, a page at a time.

The columns are the headers the sheet importer knows (``资产编号``, ``名称``, ``类别`` ...
or ``Asset tag``, ``Name``, ``Class`` ...), each value written as the importer reads it
back; :mod:`cmdb.services.cis.export` writes them as CSV or XLSX.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cmdb.errors import ValidationError
from cmdb.model.definitions import AttributeType
from cmdb.model.queries import CIOrder, CISelection, Page
from cmdb.model.records import CI
from cmdb.model.registry import Registry
from cmdb.services.cis.inputs import CIFilterInput
from cmdb.services.cis.queries import CIQueries
from cmdb.store.base import Store
from importers.normalise import neutralise_cell

Lang = Literal["zh-CN", "en"]
Format = Literal["csv", "xlsx"]
Encoding = Literal["utf-8-sig", "gb18030"]
Progress = Callable[[int], None]
#: CIs read per store question: a page of the register held at a time.
PAGE = 500
#: Names of places and parties remembered between pages (places are few; people repeat).
NAME_CACHE = 50_000
#: Deepest place hierarchy walked (site, building, floor, room, rack ...).
MAX_PLACE_DEPTH = 16


@dataclass(frozen=True)
class Column:
    """One column of the register: what it holds and its header in each language (each
    one a header the sheet importer maps back to the same field)."""

    key: str
    en: str
    zh: str

    def header(self, lang: Lang) -> str:
        return self.zh if lang == "zh-CN" else self.en


#: The register's own columns, in the order a person reads them.
COLUMNS: tuple[Column, ...] = (
    Column("asset_tag", "Asset tag", "资产编号"),
    Column("name", "Name", "名称"),
    Column("class", "Class", "类别"),
    Column("state", "State", "状态"),
    Column("location", "Location", "位置"),
    Column("owner", "Owner", "责任人"),
    Column("department", "Department", "部门"),
    Column("manufacturer", "Manufacturer", "品牌"),
    Column("model", "Model", "型号"),
    Column("serial_number", "Serial number", "序列号"),
    Column("ip_addresses", "IP addresses", "IP地址"),
    Column("hostnames", "Host name", "主机名"),
    Column("fqdn", "FQDN", "完整域名"),
    Column("mac_addresses", "MAC addresses", "MAC地址"),
    Column("os_name", "Operating system", "操作系统"),
    Column("os_version", "OS version", "系统版本"),
    Column("purchase_date", "Purchase date", "购置日期"),
    Column("warranty_end", "Warranty end", "保修到期"),
    Column("note", "Note", "备注"),
    # Last: what a re-import finds the CI by when it has no asset tag (a place, a person).
    Column("ci_id", "CI id", "配置项ID"),
)
#: The order :meth:`CIExport.rows` writes a row's values in.
ROW_ORDER = ("asset_tag", "name", "class", "state", "location", "owner", "department",
             "manufacturer", "model", "serial_number", "ip_addresses", "hostnames", "fqdn",
             "mac_addresses", "os_name", "os_version", "purchase_date", "warranty_end", "note",
             "ci_id")
assert tuple(c.key for c in COLUMNS) == ROW_ORDER
#: Attributes a built-in column already carries (``custodian`` is the owner column's
#: text, which an import keeps beside the link to the person).
COVERED = frozenset({c.key for c in COLUMNS} | {"custodian"})
#: Attribute types whose values a sheet cell gives back as they are stored (a list
#: attribute other than the built-in ones is left out: one cell cannot say where an
#: item with a comma ends).
CELL_TYPES = frozenset(AttributeType) - {AttributeType.BOOLEAN}
#: How much of a cell a CI's relationships may fill (Excel's limit is 32,767).
RELATIONSHIP_CELL_CHARS = 30_000
RELATIONSHIPS = {"zh-CN": ("关系(出)", "关系(入)"), "en": ("Relationships (out)",
                                                      "Relationships (in)")}


def safe_cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula: a leading ``=``, ``+``,
    ``-``, ``@`` (tab, CR, full-width forms) gets a ``'`` in front, as the campaign
    report writes it. Text already starting with ``'`` before such a character gets one
    more, so the importer, which takes one ``'`` off, reads back exactly what was
    stored."""
    bare = value.lstrip("'")
    return "'" + value if neutralise_cell(bare) != bare else value


@dataclass
class Sheet:
    """The columns of one export: the register's plus one per other attribute."""

    columns: list[Column]

    def headers(self, lang: Lang) -> list[str]:
        return [c.header(lang) for c in self.columns]


class CIExport:
    """Reads the register for export, a page at a time."""

    def __init__(self, store: Store, registry: Registry, queries: CIQueries,
                 page_size: int = PAGE) -> None:
        self.store = store
        self.registry = registry
        self.queries = queries
        self.page_size = page_size
        self._places: dict[str, tuple[str, str | None]] = {}
        self._names: dict[str, str] = {}
        self._texts_memo: dict[str, dict[tuple[int, str], str]] = {}

    # ---- what is exported -------------------------------------------------------------
    def selection(self, f: CIFilterInput | None) -> CISelection:
        return self.queries.resolve(f)

    def sheet(self, selection: CISelection) -> Sheet:
        """The register's columns and an ``attributes.<name>`` column for each other
        attribute the selected classes declare (not those the CMDB keeps itself)."""
        classes = selection.classes if selection.classes is not None else [
            n for n, i in self.registry.classes.items() if not i.abstract]
        extra: set[str] = set()
        for name in classes:
            for key, d in self.registry.class_info(name).attributes.items():
                if key not in COVERED and not d.system and not d.list \
                        and d.type in CELL_TYPES:
                    extra.add(key)
        attrs = [Column(f"attributes.{k}", f"attributes.{k}", f"attributes.{k}")
                 for k in sorted(extra)]
        return Sheet([*COLUMNS, *attrs])

    async def count(self, selection: CISelection) -> int:
        return await self.store.count_cis(selection)

    async def pages(self, selection: CISelection) -> AsyncIterator[list[CI]]:
        """The selected CIs, a page at a time, in name order (cursor paging). The next
        page is asked for before this one is handed over, so the store reads while the
        caller writes (two pages in memory at most)."""
        order = CIOrder()
        ahead: asyncio.Future[Page[CI]] | None = asyncio.ensure_future(
            self.store.list_cis(selection, order, self.page_size, None))
        try:
            while ahead is not None:
                page = await ahead
                ahead = None
                if page.has_next and page.cursors:
                    ahead = asyncio.ensure_future(self.store.list_cis(
                        selection, order, self.page_size, page.cursors[-1]))
                if page.items:
                    yield page.items
        finally:
            if ahead is not None:
                ahead.cancel()

    # ---- one page's rows ---------------------------------------------------------------
    async def rows(self, cis: Sequence[CI], sheet: Sheet, lang: Lang) -> list[list[Any]]:
        """The register rows of a page of CIs (places and owners read for the page)."""
        ids = [c.id for c in cis]
        location = self.registry.location_type
        links = await self.store.linked_targets(ids, "out", [location, self.registry.owner_type])
        place_of: dict[str, str] = {}
        owner_of: dict[str, str] = {}
        for i, found in links.items():
            for rel_type, target in found:
                (place_of if rel_type == location else owner_of).setdefault(i, target)
        await self._learn_places(list(place_of.values()))
        await self._learn_names(list(owner_of.values()))
        extra = [c.key.removeprefix("attributes.") for c in sheet.columns[len(COLUMNS):]]
        class_text, state_text, maker_text = self._texts(lang)
        names, path = self._names, self.place_path
        out: list[list[Any]] = []
        # Spelled out in the order of COLUMNS (ROW_ORDER): this runs for every CI.
        for ci in cis:
            a = ci.attributes
            place = place_of.get(ci.id)
            owner = a.get("custodian") or (names.get(owner_of[ci.id])
                                           if ci.id in owner_of else None)
            maker = a.get("manufacturer")
            out.append([
                ci.asset_tag, ci.name, class_text(ci.class_name), state_text(ci.state),
                path(place) if place else None, owner, a.get("department"),
                maker_text(maker) if isinstance(maker, str) else maker, a.get("model"),
                ci.serial_number, _joined(a.get("ip_addresses")),
                _joined(a.get("hostnames")), a.get("fqdn"), _joined(a.get("mac_addresses")),
                a.get("os_name"), a.get("os_version"), a.get("purchase_date"),
                a.get("warranty_end"), a.get("note"), ci.id,
                *[_joined(a.get(k)) for k in extra]])
        return out

    def _texts(self, lang: Lang) -> tuple[Callable[[str], str], Callable[[str], str],
                                           Callable[[str], str]]:
        """How a class, a state and a manufacturer are written in ``lang`` (remembered:
        a register repeats a few of each)."""
        memo = self._texts_memo.setdefault(lang, {})

        def cached(kind: int, read: Callable[[str, Lang], str]) -> Callable[[str], str]:
            def text(name: str) -> str:
                found = memo.get((kind, name))
                if found is None:
                    found = memo[kind, name] = read(name, lang)
                return found
            return text

        return (cached(0, self.class_text), cached(1, self._state_text),
                cached(2, self._maker_text))

    def class_text(self, name: str, lang: Lang) -> str:
        label = self.registry.classes[name].definition.label if \
            name in self.registry.classes else None
        text = (label.zh_cn if lang == "zh-CN" else label.en) if label else None
        return text if text and self.registry.resolve_class(text) == name else name

    def _state_text(self, name: str, lang: Lang) -> str:
        d = self.registry.lifecycle.states.get(name)
        text = (d.label.zh_cn if lang == "zh-CN" else d.label.en) if d else None
        return text if text and self.registry.resolve_state(text) == name else name

    def _maker_text(self, name: str, lang: Lang) -> str:
        vendors = self.registry.vendors
        vendor = vendors.vendors.get(name)
        if vendor is None:
            return name
        text = vendor.label.zh_cn if lang == "zh-CN" else vendor.label.en
        return text if text and vendors.normalise(text) == name else name

    def place_path(self, place_id: str) -> str:
        """A place as its path from the site down, as a sheet's location column says it."""
        names: list[str] = []
        current: str | None = place_id
        while current is not None and len(names) < MAX_PLACE_DEPTH:
            known = self._places.get(current)
            if known is None:
                break
            names.append(known[0])
            current = known[1]
        return "/".join(reversed(names))

    async def _learn_places(self, ids: list[str]) -> None:
        """Read the names and parents of places not seen yet, a level at a time."""
        todo = [i for i in dict.fromkeys(ids) if i not in self._places]
        if len(self._places) + len(todo) > NAME_CACHE:
            self._places.clear()
        for _ in range(MAX_PLACE_DEPTH):
            if not todo:
                return
            found = await self.store.get_cis(todo)
            parents = await self.store.linked_targets(todo, "out",
                                                      [self.registry.location_type])
            for i in todo:
                up = parents.get(i) or []
                self._places[i] = (found[i].name if i in found else i,
                                   up[0][1] if up else None)
            todo = [p for i in todo for _t, p in parents.get(i, [])[:1]
                    if p not in self._places]

    async def _learn_names(self, ids: list[str]) -> None:
        todo = [i for i in dict.fromkeys(ids) if i not in self._names]
        if not todo:
            return
        if len(self._names) + len(todo) > NAME_CACHE:
            self._names.clear()
        found = await self.store.get_cis(todo)
        self._names.update({i: ci.name for i, ci in found.items()})

    async def relationships(self, cis: Sequence[CI], lang: Lang
                            ) -> dict[str, tuple[str, str]]:
        """Each CI's relationships as two cells, outgoing and incoming:
        ``运行于: app-01 (ZC-0001)`` one a line."""
        ids = [c.id for c in cis]
        out = await self.store.relationships_of(ids, "out")
        into = await self.store.relationships_of(ids, "in")
        others = {r.target_id for rs in out.values() for r in rs} | {
            r.source_id for rs in into.values() for r in rs}
        found = await self.store.get_cis(sorted(others)) if others else {}

        def name(i: str) -> str:
            ci = found.get(i)
            if ci is None:
                return i
            return f"{ci.name} ({ci.asset_tag})" if ci.asset_tag else ci.name

        def type_text(t: str) -> str:
            d = self.registry.relationship_types.get(t)
            label = (d.label.zh_cn if lang == "zh-CN" else d.label.en) if d else None
            return label or t

        def cell(lines: list[str]) -> str:
            """One a line, within a cell (a core switch has thousands)."""
            shown: list[str] = []
            size = 0
            for n, line in enumerate(lines):
                size += len(line) + 1
                if size > RELATIONSHIP_CELL_CHARS:
                    more = len(lines) - n
                    shown.append(f"… +{more}")
                    break
                shown.append(line)
            return "\n".join(shown)

        return {i: (cell([f"{type_text(r.type)}: {name(r.target_id)}"
                          for r in out.get(i, [])]),
                    cell([f"{type_text(r.type)}: {name(r.source_id)}"
                          for r in into.get(i, [])]))
                for i in ids}


def _joined(value: Any) -> Any:
    """A list as one cell (``10.1.2.4, fd00::4``); anything else as it is."""
    return ", ".join(map(str, value)) if value.__class__ is list else value



# ---- what people type ---------------------------------------------------------------
async def find_ci(queries: CIQueries, ref: str) -> CI | None:
    """A CI by asset tag or id."""
    return await queries.store.find_ci_by_asset_tag(ref) or await queries.get(ci_id=ref)


async def find_place(export: CIExport, rules: Any, ref: str) -> str:
    """A place by its path as a sheet writes it (``北京总部/3楼机房``), asset tag or id."""
    from cmdb.services.cis.places import PlaceResolver
    from importers.normalise import split_location

    found = await find_ci(export.queries, ref)
    if found is not None:
        return found.id
    resolved = await PlaceResolver(export.store, export.registry, rules).resolve(
        split_location(ref), False)
    if resolved.place_id is None:
        raise ValidationError(f"location {ref!r}: {resolved.error or 'no such place'}",
                              field="location")
    return resolved.place_id


async def find_party(export: CIExport, ref: str) -> str:
    """An owner (a person or a team) by asset tag, id or exact name."""
    found = await find_ci(export.queries, ref)
    if found is not None:
        return found.id
    registry = export.registry
    classes = tuple(sorted({*registry.descendants("Person", concrete_only=True),
                            *registry.descendants("Team", concrete_only=True)}))
    page = await export.store.list_cis(CISelection(classes=classes, text=ref), CIOrder(),
                                       20, None)
    named = [c for c in page.items if c.name.strip() == ref.strip()]
    if len(named) != 1:
        raise ValidationError(
            f"owner {ref!r}: " + ("nobody is called so" if not named else
                                  f"{len(named)} people or teams are called so; give an id"),
            field="owner")
    return named[0].id
