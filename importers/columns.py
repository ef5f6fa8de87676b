"""Spreadsheet header recognition: built-in English/Chinese aliases plus a user mapping file."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

IGNORE = "ignore"
ATTR_PREFIX = "attributes."

INVENTORY_TARGETS: dict[str, tuple[str, ...]] = {
    "asset_tag": (
        "asset tag",
        "asset_tag",
        "asset number",
        "asset no",
        "asset id",
        "tag number",
        "资产编号",
        "资产编码",
        "资产标签",
        "资产号",
        "固定资产编号",
        "固定资产编码",
        "资产条码",
    ),
    "ci_id": ("ci id", "cmdb id", "configuration item id", "配置项id", "配置项编号"),
    "name": (
        "name",
        "asset name",
        "device name",
        "device",
        "名称",
        "资产名称",
        "设备名称",
        "设备名",
    ),
    "class_hint": (
        "class",
        "category",
        "asset type",
        "role",
        "device role",
        "asset class",
        "类别",
        "类型",
        "资产类别",
        "资产类型",
        "设备类型",
        "分类",
        "资产分类",
    ),
    "manufacturer": (
        "manufacturer",
        "vendor",
        "brand",
        "make",
        "品牌",
        "厂商",
        "制造商",
        "生产厂商",
        "厂家",
        "生产厂家",
    ),
    "model": (
        "model",
        "model name",
        "model number",
        "model no",
        "device type",
        "规格型号",
        "型号",
        "设备型号",
    ),
    "serial_number": (
        "serial",
        "serial number",
        "serial no",
        "sn",
        "s/n",
        "service tag",
        "序列号",
        "设备序列号",
        "sn号",
        "出厂编号",
        "序列号码",
    ),
    "system_uuid": ("uuid", "system uuid", "系统uuid"),
    "mac_addresses": (
        "mac",
        "mac address",
        "mac addresses",
        "mac地址",
        "物理地址",
        "网卡地址",
        "网卡mac",
    ),
    "ip_addresses": (
        "ip",
        "ip address",
        "ip addresses",
        "primary ip",
        "primary ipv4",
        "primary ipv6",
        "primary ip4",
        "primary ip6",
        "management ip",
        "ip地址",
        "管理ip",
        "管理地址",
    ),
    "hostnames": (
        "hostname",
        "host name",
        "host",
        "dns name",
        "computer name",
        "主机名",
        "计算机名",
        "机器名",
    ),
    "fqdn": ("fqdn", "完整域名"),
    "location:site": ("site", "站点", "园区", "区域"),
    "location": (
        "location",
        "place",
        "位置",
        "存放位置",
        "存放地点",
        "所在位置",
        "地点",
        "安装位置",
        "放置位置",
    ),
    "location:room": ("room", "机房", "房间"),
    "location:rack": ("rack", "机柜", "机架"),
    "owner": (
        "owner",
        "assigned to",
        "assignee",
        "user",
        "custodian",
        "checked out to",
        "责任人",
        "使用人",
        "负责人",
        "保管人",
        "领用人",
        "管理员",
    ),
    "department": ("department", "dept", "部门", "使用部门", "所属部门", "归属部门"),
    "purchase_date": (
        "purchase date",
        "purchased",
        "purchase_date",
        "购置日期",
        "购买日期",
        "采购日期",
        "购入日期",
    ),
    "warranty_end": (
        "warranty",
        "warranty end",
        "warranty expires",
        "warranty expiration",
        "warranty expiry",
        "保修到期",
        "保修截止",
        "保修期至",
        "维保到期",
        "保修到期日",
    ),
    "state_hint": ("state", "status", "状态", "资产状态", "使用状态"),
    "note": (
        "note",
        "notes",
        "comment",
        "comments",
        "description",
        "remark",
        "remarks",
        "备注",
        "说明",
        "描述",
    ),
    "os_name": ("os", "operating system", "platform", "操作系统"),
    "os_version": ("os version", "系统版本", "操作系统版本"),
    "attributes.source_id": ("id",),
    "attributes.order_number": ("order number", "order no", "订单号", "合同号"),
    "attributes.purchase_cost": (
        "purchase cost",
        "cost",
        "price",
        "价格",
        "金额",
        "购置金额",
        "原值",
    ),
    "attributes.supplier": ("supplier", "供应商"),
    "attributes.tenant": ("tenant", "租户"),
    "attributes.rack_position": ("position", "u position", "rack position", "u位", "机柜位置"),
    "attributes.tags": ("tags", "标签"),
    "attributes.cpu": ("cpu", "处理器"),
    "attributes.memory": ("memory", "ram", "内存"),
    "attributes.disk": ("disk", "storage", "硬盘", "磁盘"),
    "attributes.warranty_months": ("warranty months", "保修期(月)", "保修月数"),
}
"""Inventory sheet targets and their header aliases (compared after :func:`fold_header`)."""

SCAN_TARGETS: dict[str, tuple[str, ...]] = {
    "asset_tag": INVENTORY_TARGETS["asset_tag"] + ("tag", "标签号", "条码", "二维码"),
    "location": INVENTORY_TARGETS["location"],
    "auditor": (
        "auditor",
        "inspector",
        "scanned by",
        "checked by",
        "盘点人",
        "审核人",
        "检查人",
        "巡检人",
        "扫描人",
    ),
    "seen_at": (
        "time",
        "seen at",
        "scanned at",
        "scan time",
        "timestamp",
        "checked at",
        "date",
        "盘点时间",
        "扫描时间",
        "巡检时间",
        "时间",
        "日期",
    ),
    "condition": ("condition", "状况", "设备状况", "外观", "检查结果", "盘点结果"),
    "note": INVENTORY_TARGETS["note"],
}
"""Inspection scan targets and their header aliases."""

_ATTR_HEADER = re.compile(r"^attributes\.[a-z][a-z0-9_]*$")
_FOLD_DROP = re.compile(r"[\s_\-.:：*()（）\[\]【】#]+")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def fold_header(header: str) -> str:
    """Fold a header for matching: NFKC, case-folded, spaces/punctuation/required-marks removed."""
    folded = unicodedata.normalize("NFKC", header).casefold().replace("\ufeff", "")
    return _FOLD_DROP.sub("", folded)


def column_letter(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = _LETTERS[rem] + letters
    return letters


def describe_column(index: int, header: str) -> str:
    """Describe a column for error messages: ``MAC地址 (D)``."""
    return f"{header} ({column_letter(index)})"


UnknownPolicy = Literal["error", "ignore", "attributes"]


@dataclass(frozen=True)
class ColumnMapping:
    """A user's header mapping: header -> target field, ``attributes.<key>`` or ``ignore``.

    File format (YAML)::

        columns:
          资产编码: asset_tag
          IMEI: attributes.imei
          内部备注: ignore
        unknown_headers: error    # error (default) | ignore | attributes
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    unknown_headers: UnknownPolicy = "error"

    @classmethod
    def load(cls, path: Path) -> ColumnMapping:
        """Load and check a mapping file; ``ValueError`` names the file and the bad entry."""
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        if not isinstance(data, dict) or not set(data) <= {"columns", "unknown_headers"}:
            raise ValueError(f"{path}: expected keys 'columns' and 'unknown_headers' only")
        columns = data.get("columns") or {}
        if not isinstance(columns, dict):
            raise ValueError(f"{path}: 'columns' must map header -> field")
        clean: dict[str, str] = {}
        for header, target in columns.items():
            target_text = IGNORE if target is None else str(target)
            known = target_text in INVENTORY_TARGETS or target_text in SCAN_TARGETS
            if not (known or target_text == IGNORE or target_text.startswith(ATTR_PREFIX)):
                raise ValueError(f"{path}: header {header!r} maps to unknown field {target_text!r}")
            clean[str(header)] = target_text
        policy = data.get("unknown_headers", "error")
        if policy not in ("error", "ignore", "attributes"):
            raise ValueError(f"{path}: unknown_headers must be error, ignore or attributes")
        return cls(columns=clean, unknown_headers=policy)


@dataclass(frozen=True)
class ResolvedColumn:
    """One column of a sheet: its index, header text and target (``None`` = ignored)."""

    index: int
    header: str
    target: str | None

    @property
    def label(self) -> str:
        """The column as error messages name it."""
        return describe_column(self.index, self.header)


@dataclass(frozen=True)
class HeaderProblem:
    """Why a header row cannot be used: a message and the offending column, if one."""

    message: str
    column: str | None = None
    unknown: tuple[str, ...] = ()


def resolve_headers(
    headers: Sequence[str],
    targets: Mapping[str, tuple[str, ...]],
    mapping: ColumnMapping | None,
    multi_valued: frozenset[str],
) -> list[ResolvedColumn] | HeaderProblem:
    """Map each header to its target, or say which header is unknown or duplicated."""
    aliases = {fold_header(alias): target for target, names in targets.items() for alias in names}
    user = {fold_header(k): v for k, v in (mapping.columns if mapping else {}).items()}
    policy: UnknownPolicy = mapping.unknown_headers if mapping else "error"
    resolved: list[ResolvedColumn] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(headers):
        header = raw.replace("\ufeff", "").strip()
        key = fold_header(header)
        if not key:
            resolved.append(ResolvedColumn(index, header, None))
            continue
        target: str | None = user.get(key) or aliases.get(key)
        if target is None and _ATTR_HEADER.match(header):
            target = header  # ``attributes.cpu_cores``, as the register export writes it
        if target is None:
            if policy == "error":
                unknown.append(describe_column(index, header))
            target = ATTR_PREFIX + header if policy == "attributes" else IGNORE
        if target == IGNORE:
            resolved.append(ResolvedColumn(index, header, None))
            continue
        if target in seen and target not in multi_valued and not target.startswith("location"):
            return HeaderProblem(
                f"columns {seen[target]} and {describe_column(index, header)} both map to {target}",
                column=describe_column(index, header),
            )
        seen[target] = describe_column(index, header)
        resolved.append(ResolvedColumn(index, header, target))
    if unknown:
        return HeaderProblem(
            "unknown header(s): "
            + ", ".join(unknown)
            + "; map them in a mapping file (columns: {header: field or ignore})",
            column=unknown[0],
            unknown=tuple(unknown),
        )
    return resolved
