"""What the console's list pages share (``/campaigns``, ``/imports``, ``/changes``): a
cell with an optional link, and the rendering of one page of rows through ``list.html``
(a filter, a table, a "next page" link)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from cmdb.api.pages.words import CONSOLE, HOME
from cmdb.api.web.html import Html

PAGE = 50


@dataclass(frozen=True)
class Cell:
    text: str | None
    url: str | None = None


def render_list(html: Html, request: Request, lang: str, *, title: str, action: str,
                headers: Sequence[str], rows: Sequence[Sequence[Cell]],
                next_after: str | None, keep: dict[str, str],
                filter_name: str = "", filter_label: str = "",
                filter_options: Sequence[tuple[str, str]] = ()) -> Response:
    other = "en" if lang == "zh-CN" else "zh-CN"
    context: dict[str, Any] = {
        "t": {**CONSOLE[lang], **HOME[lang]}, "title": title, "action": action,
        "columns": headers, "rows": rows,
        "filter_name": filter_name, "filter_label": filter_label,
        "filter_options": filter_options, "filter_value": keep.get(filter_name, ""),
        "next_url": f"{action}?{urlencode({**keep, 'after': next_after, 'lang': lang})}"
        if next_after else None,
        "switch_url": f"{action}?{urlencode({**keep, 'lang': other})}"}
    return html.render(request, "list.html", lang=lang, **context)
