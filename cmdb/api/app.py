"""The web application: ``create_app(settings) -> Starlette``.

Routes: ``/graphql`` (GraphQL over HTTP, GraphiQL in a browser),
``/static/...`` (GraphiQL's own assets: nothing loads from a CDN),
``/labels/...`` (asset labels, see ``labels_http``), ``/imports/{source}`` (file
imports, see ``imports_http``), ``/cis/export`` (the register as CSV or XLSX, see
``export_http``), ``/a/{asset_tag}`` (the
asset page a label's QR opens, see ``pages``), ``/campaigns/...`` (auditors' pages,
see ``campaign_pages``), ``/cis/{id}/impact``, ``/impact?ids=`` and
``/changes/{id}/impact`` (the impact drawn, see ``impact_pages``), ``/login`` and
``/logout`` (sign-in for the browser pages),
``/healthz`` (the process is up), ``/readyz`` (the store answers) and ``/metrics``
(Prometheus).

Every request passes the request log (``logs``), the security headers (``headers``)
and the access checks (``access``: who is calling, rate limits, roles, CSRF) before it
reaches a route. Every HTML answer is a template (``html``); errors answer a browser
with a page and other clients with coded JSON (``error_pages``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from cmdb.api.graphql.context import Context
from cmdb.api.graphql.endpoint import GraphQLHTTP
from cmdb.api.graphql.schema import build_schema
from cmdb.api.http.access import AccessMiddleware
from cmdb.api.http.cis import ExportEndpoints
from cmdb.api.http.imports import ImportEndpoints
from cmdb.api.http.labels import LabelEndpoints
from cmdb.api.pages.access import LoginPages
from cmdb.api.pages.audit import CampaignPages
from cmdb.api.pages.changes import ChangePages
from cmdb.api.pages.cis import AssetPages, CIPages
from cmdb.api.pages.home import HomePage
from cmdb.api.pages.impact import ImpactPages
from cmdb.api.pages.imports import ImportPages
from cmdb.api.web import cpu
from cmdb.api.web.error_pages import exception_handlers
from cmdb.api.web.headers import SecurityHeadersMiddleware
from cmdb.api.web.html import Html
from cmdb.api.web.logs import RequestLogMiddleware
from cmdb.api.web.metrics import Metrics
from cmdb.api.web.offload import Offloader
from cmdb.errors import CmdbError
from cmdb.model.access import LOCAL, Principal
from cmdb.model.records import Actor, Channel
from cmdb.root import connect
from cmdb.services import Cmdb
from cmdb.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("cmdb.api")


def create_app(settings: Settings | None = None, cmdb: Cmdb | None = None) -> Starlette:
    """Build the ASGI app. The store opens when the app starts and closes when it stops."""
    settings = settings or Settings()
    core = cmdb or connect(settings)
    schema = build_schema()
    metrics = Metrics()
    core.store.observe_calls(metrics.store_call)
    secret = settings.session_secret.get_secret_value() if settings.session_secret else None
    html = Html(settings.organisation_name, core.clock.label)

    async def context(request: Request) -> Context:
        language = "zh-CN" if request.headers.get("accept-language", "").lower().startswith(
            "zh") else "en"
        principal = getattr(request.state, "principal", None)
        principal = principal if isinstance(principal, Principal) else LOCAL
        return Context(cmdb=core, actor=Actor(name=principal.name, channel=Channel.API),
                       language=language, principal=principal)

    offloader = Offloader()
    graphql = GraphQLHTTP(schema, settings, context, html, metrics=metrics,
                          offloader=offloader)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            await core.store.ping()
            pending = await core.store.incomplete_load()
        except CmdbError as exc:
            return JSONResponse({"status": "unavailable", "code": exc.code,
                                 "message": exc.message}, status_code=503)
        if pending is not None:
            return JSONResponse({"status": "loading", "code": "LOAD_INCOMPLETE", "message": (
                f"the store holds a load that stopped after {pending[1]:,} records: run "
                "the same restore or migrate again to finish it")}, status_code=503)
        return JSONResponse({"status": "ready", "store": core.store.kind})

    async def metrics_text(_: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with core:
            threading.Thread(target=cpu.warm_up, name="cmdb-cpu-warm-up", daemon=True).start()
            try:
                yield
            finally:
                offloader.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_text),
            *LoginPages(core, html, secret.encode("utf-8") if secret else None).routes(),
            *LabelEndpoints(core, settings).routes(),
            *ImportEndpoints(core, settings).routes(),
            *HomePage(core, html).routes(),
            *ExportEndpoints(core).routes(),
            *AssetPages(core, html).routes(),
            *CIPages(core, html).routes(),
            *CampaignPages(core, html).routes(),
            *ImpactPages(core, html).routes(),
            *ImportPages(core, html).routes(),
            *ChangePages(core, html).routes(),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[
            Middleware(RequestLogMiddleware, metrics=metrics),
            Middleware(SecurityHeadersMiddleware),
            Middleware(AccessMiddleware, core=core, settings=settings, html=html,
                       metrics=metrics),
            Middleware(GZipMiddleware, minimum_size=2048),
        ],
        exception_handlers=exception_handlers(html),
        lifespan=lifespan,
    )
    metrics.routes = app.router.routes
    app.state.cmdb = core
    app.state.schema = schema
    app.state.metrics = metrics
    return app
