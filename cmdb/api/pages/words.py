"""The console's words in zh-CN and English, shared by the console's pages (the landing
page, the CI pages, the lists); a state's badge tone is the schema's (``tone:``)."""

from __future__ import annotations

CONSOLE: dict[str, dict[str, str]] = {
    "en": {
        "cis": "Configuration items", "search": "Search",
        "query": "Name, tag, serial, IP, host or MAC",
        "class": "Class", "state": "State", "any": "Any", "sort": "Sort", "name": "Name",
        "asset_tag": "Asset tag", "serial": "Serial number", "updated": "Updated",
        "created": "Created", "next": "Next page", "first_page": "First page",
        "no_results": "Nothing matches.", "fields": "Fields", "attributes": "Attributes",
        "source": "Set by", "relationships": "Relationships", "outgoing": "This CI",
        "incoming": "Towards this CI", "history": "History", "when": "When", "who": "Who",
        "channel": "Channel", "change": "Change", "label": "Label", "print": "Label file",
        "impact": "Impact", "edit": "Edit", "save": "Save", "reason": "Reason",
        "move": "Change state", "to": "To", "relate": "Relate", "type": "Type",
        "target": "Target (asset tag or id)", "unrelate": "End",
        "unrelate_heading": "End a relationship", "version": "Version",
        "home": "Home", "graphiql": "GraphiQL", "none": "—", "saved": "Saved.",
        "location": "Location", "owner": "Owner", "below": "incl. below",
        "attribute": "Attribute", "value": "Value", "results": "results",
        "export": "Export", "audits": "Seen in audits", "campaign": "Campaign",
        "where": "Where", "dependencies": "Dependencies",
    },
    "zh-CN": {
        "cis": "配置项", "search": "搜索", "query": "名称、编号、序列号、IP、主机名或MAC",
        "class": "类别", "state": "状态", "any": "全部", "sort": "排序", "name": "名称",
        "asset_tag": "资产编号", "serial": "序列号", "updated": "更新时间",
        "created": "创建时间", "next": "下一页", "first_page": "第一页",
        "no_results": "没有匹配的配置项。", "fields": "基本信息", "attributes": "属性",
        "source": "来源", "relationships": "关系", "outgoing": "本配置项",
        "incoming": "指向本配置项", "history": "变更历史", "when": "时间", "who": "操作人",
        "channel": "渠道", "change": "变更", "label": "标签", "print": "标签文件",
        "impact": "影响分析", "edit": "编辑", "save": "保存", "reason": "原因",
        "move": "变更状态", "to": "目标状态", "relate": "建立关系", "type": "关系类型",
        "target": "目标（资产编号或ID）", "unrelate": "解除",
        "unrelate_heading": "解除关系", "version": "版本",
        "home": "首页", "graphiql": "GraphiQL", "none": "—", "saved": "已保存。",
        "location": "位置", "owner": "责任人", "below": "含下级",
        "attribute": "属性", "value": "值", "results": "条结果",
        "export": "导出", "audits": "盘点记录", "campaign": "盘点", "where": "地点",
        "dependencies": "依赖",
    },
}

HOME: dict[str, dict[str, str]] = {
    "en": {"title": "CMDB", "by_class": "By class", "by_state": "By state", "total": "CIs",
           "campaigns": "Open audit campaigns", "imports": "Latest imports",
           "changes": "Changes in the next 7 days", "all": "All", "nothing": "None."},
    "zh-CN": {"title": "配置管理数据库", "by_class": "按类别", "by_state": "按状态",
              "total": "配置项", "campaigns": "进行中的盘点", "imports": "最近导入",
              "changes": "未来7天的变更", "all": "全部", "nothing": "无。"},
}
