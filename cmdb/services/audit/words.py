"""The words of an audit in the auditor's language (zh-CN or English), for the campaign
page and the report PDF alike: finding types, statuses, resolutions, campaign states,
the roads a sighting came by, the usual conditions and the report's columns.

Attributes are named by the schema's labels (``schema/classes.yaml``); this table
only holds what the schema does not declare. A code or value it does not know is
shown as it was stored, never dropped.
"""

from __future__ import annotations

from cmdb.model.registry import Registry

LANGUAGES = ("zh-CN", "en")

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "type.VERIFIED": "Verified", "type.MISPLACED": "Misplaced",
        "type.ATTRIBUTE_MISMATCH": "Attribute mismatch", "type.UNREGISTERED": "Unregistered",
        "type.AMBIGUOUS": "Ambiguous", "type.DUPLICATE": "Duplicate", "type.MISSING": "Missing",
        "status.ok": "OK", "status.open": "Open", "status.resolved": "Resolved",
        "status.carried": "Carried over",
        "resolution.ACCEPT_OBSERVED": "Accept what was seen",
        "resolution.KEEP_REGISTERED": "Keep the register",
        "resolution.REGISTER_NEW": "Register as new", "resolution.MARK_LOST": "Mark lost",
        "resolution.MERGE_DUPLICATES": "Merge duplicates",
        "campaign.planned": "Planned", "campaign.open": "Open", "campaign.closed": "Closed",
        "source.scan": "Inspection scan", "source.page": "Asset page",
        "source.discovery": "Discovery",
        "condition.good": "Good", "condition.damaged": "Damaged", "condition.faulty": "Faulty",
        "condition.label damaged": "Label damaged",
        "field.condition": "Condition", "field.name": "Name", "field.asset_tag": "Asset tag",
        "field.serial_number": "Serial number", "field.state": "State",
        "field.class_name": "Class", "field.location": "Location",
        "col.type": "Finding", "col.status": "Status", "col.asset_tag": "Asset tag",
        "col.name": "Name", "col.registered_place": "Registered place",
        "col.seen_place": "Seen at", "col.detail": "Difference", "col.seen_by": "Seen by",
        "col.seen_at": "Seen on", "col.resolution": "Resolution",
        "col.resolved_by": "Resolved by", "col.reason": "Reason",
    },
    "zh-CN": {
        "type.VERIFIED": "已核实", "type.MISPLACED": "位置不符",
        "type.ATTRIBUTE_MISMATCH": "属性不符", "type.UNREGISTERED": "未登记",
        "type.AMBIGUOUS": "无法确定", "type.DUPLICATE": "重复登记", "type.MISSING": "未找到",
        "status.ok": "正常", "status.open": "未决", "status.resolved": "已处理",
        "status.carried": "转入下次",
        "resolution.ACCEPT_OBSERVED": "采纳所见", "resolution.KEEP_REGISTERED": "保留登记",
        "resolution.REGISTER_NEW": "登记新资产", "resolution.MARK_LOST": "标记遗失",
        "resolution.MERGE_DUPLICATES": "合并重复",
        "campaign.planned": "计划中", "campaign.open": "进行中", "campaign.closed": "已结束",
        "source.scan": "巡检扫描", "source.page": "资产页面", "source.discovery": "自动发现",
        "condition.good": "完好", "condition.damaged": "外观破损", "condition.faulty": "故障",
        "condition.label damaged": "标签损坏",
        "field.condition": "状况", "field.name": "名称", "field.asset_tag": "资产编号",
        "field.serial_number": "序列号", "field.state": "状态", "field.class_name": "类别",
        "field.location": "位置",
        "col.type": "发现类型", "col.status": "状态", "col.asset_tag": "资产编号",
        "col.name": "名称", "col.registered_place": "登记位置", "col.seen_place": "所见位置",
        "col.detail": "差异", "col.seen_by": "盘点人", "col.seen_at": "盘点时间",
        "col.resolution": "处理方式", "col.resolved_by": "处理人", "col.reason": "原因",
    },
}

# The same condition as the asset page offers it in each language (its form posts the
# Chinese words in zh-CN, the English ones in English), folded for lookup.
_CONDITIONS = {text.casefold(): key.removeprefix("condition.")
               for words in WORDS.values() for key, text in words.items()
               if key.startswith("condition.")}


def lang_of(lang: str | None) -> str:
    """``zh-CN`` for any Chinese, else English."""
    return "zh-CN" if (lang or "").lower().startswith("zh") else "en"


def word(lang: str, kind: str, code: object) -> str:
    """The word for ``code`` of ``kind`` (``type``, ``status``, ``resolution``,
    ``campaign``, ``source``, ``col``); an unknown code as it is."""
    text = str(code or "")
    return WORDS[lang_of(lang)].get(f"{kind}.{text}", text)


def codes(lang: str, kind: str) -> dict[str, str]:
    """Every code of ``kind`` with its word, e.g. ``{"MISSING": "未找到", ...}``."""
    prefix = kind + "."
    return {k.removeprefix(prefix): v for k, v in WORDS[lang_of(lang)].items()
            if k.startswith(prefix)}


def condition(lang: str, value: object) -> str:
    """A condition as the auditor reads it: the usual ones in ``lang`` (``damaged`` is
    外观破损 in zh-CN), anything else as written."""
    text = str(value or "").strip()
    key = _CONDITIONS.get(text.casefold())
    return WORDS[lang_of(lang)][f"condition.{key}"] if key else text


def field_label(registry: Registry | None, lang: str, field: str,
                class_name: str | None = None) -> str:
    """The name of a CI field in ``lang``: the schema's label of the attribute (of
    ``class_name`` when known, else of the first class declaring it), else this
    table's word (core fields, ``condition``), else the field's own name."""
    if registry is not None:
        info = registry.classes.get(class_name or "")
        found = info.attributes.get(field) if info else None
        if found is None:
            found = next((i.attributes[field] for i in registry.classes.values()
                          if field in i.attributes), None)
        if found is not None and found.label is not None:
            return found.label.get(lang_of(lang))
    return WORDS[lang_of(lang)].get(f"field.{field}", field)


def value_text(lang: str, field: str, value: object) -> str:
    """A registered or observed value of ``field`` as shown (conditions translated)."""
    if value is None or value == "":
        return "—"
    if field == "condition":
        return condition(lang, value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
