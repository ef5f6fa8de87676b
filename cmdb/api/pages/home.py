"""The console's landing page, ``GET /``: one search box, the register in numbers (by
class and by state), the open audit campaigns, the latest import runs and the changes
planned for the next seven days, with links to the lists and to GraphiQL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmdb.api.pages.changes import upcoming
from cmdb.api.pages.words import CONSOLE, HOME
from cmdb.api.web.html import Html, language, segment, when
from cmdb.services import Cmdb


class HomePage:
    """Renders ``/`` for one CMDB."""

    def __init__(self, cmdb: Cmdb, html: Html) -> None:
        self.cmdb = cmdb
        self.html = html

    def routes(self) -> list[BaseRoute]:
        return [Route("/", self.page, methods=["GET"])]

    async def page(self, request: Request) -> Response:
        lang = language(request)
        registry = self.cmdb.registry
        by_class, by_state = await self.cmdb.store.ci_counts()
        classes = []
        for name, count in sorted(by_class.items(), key=lambda c: (-c[1], c[0])):
            info = registry.classes.get(name)
            classes.append({"name": name, "count": count,
                            "label": (info.definition.label.get(lang) if info else None)
                            or name, "url": f"/cis?{urlencode({'class': name, 'lang': lang})}"})
        states = []
        for name in [*registry.lifecycle.states, *sorted(set(by_state)
                                                          - set(registry.lifecycle.states))]:
            if name in by_state:
                state = registry.lifecycle.states.get(name)
                states.append({"name": name, "count": by_state[name],
                               "tone": registry.state_tone(name).value,
                               "label": (state.label.get(lang) if state else None) or name,
                               "url": f"/cis?{urlencode({'state': name, 'lang': lang})}"})
        campaigns, _ = await self.cmdb.campaigns.find("open", 5)
        runs, _ = await self.cmdb.imports.runs(5)
        changes = await upcoming(self.cmdb)
        clock = self.cmdb.clock
        other = "en" if lang == "zh-CN" else "zh-CN"
        context: dict[str, Any] = {
            "campaigns": [{"name": c.name, "url": f"/campaigns/{segment(c.id)}?lang={lang}",
                           "period": " – ".join(str(d) for d in (c.period_start, c.period_end)
                                                if d)} for c in campaigns],
            "runs": [{"name": r.file, "url": f"/imports/{segment(r.id)}?lang={lang}",
                      "when": when(r.started_at.isoformat(), clock), "status": r.status}
                     for r in runs],
            "changes": [{"name": c.title,
                         "url": f"/changes/{segment(c.id)}/impact?lang={lang}",
                         "when": when(c.window_start.isoformat(), clock), "status": c.state}
                        for c in changes],
            "t": {**CONSOLE[lang], **HOME[lang]}, "classes": classes, "states": states,
            "total": sum(by_class.values()), "switch_url": f"/?lang={other}"}
        return self.html.render(request, "home.html", lang=lang, **context)
