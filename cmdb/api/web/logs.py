"""Structured logs: one JSON line per event, and one per HTTP request.

The request line (logger ``cmdb.access``) says the request id (taken from a
valid ``X-Request-ID`` header or made up, and echoed back), method, path,
status, duration, who called (token or user name, role) and, for GraphQL, the
operation (``mutation updateCI``), the client's operation name and the estimated cost. The auth
audit log (``cmdb.audit``) and errors use the same format.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cmdb.api.web.metrics import Metrics
from cmdb.model.access import Principal

access_log = logging.getLogger("cmdb.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
QUIET = ("/healthz", "/readyz", "/metrics", "/static/")
# A request line may be long; its log line need not be.
MAX_LOGGED_METHOD = 32
MAX_LOGGED_PATH = 2048


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg`` and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Send every log (ours and uvicorn's) to standard error, as JSON lines or plain text."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class RequestLogMiddleware:
    """Gives each request an id, times it, counts it in the metrics and logs it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else secrets.token_hex(8)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        start = time.perf_counter()
        logged = False

        def log_once() -> None:
            nonlocal logged
            if not logged:
                logged = True
                self._log(scope, state, request_id, status, time.perf_counter() - start)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Logged before the last byte leaves: whoever has the answer can read its
                # line (a log reader, a test) instead of racing the server for it.
                log_once()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log_once()

    def _log(self, scope: Scope, state: dict[str, Any], request_id: str, status: int,
             seconds: float) -> None:
        path: str = scope["path"]
        route = self.metrics.route_of(path, scope["method"])
        self.metrics.request(scope["method"], route, status, seconds)
        principal = state.get("principal")
        fields: dict[str, Any] = {
            "request_id": request_id, "method": scope["method"][:MAX_LOGGED_METHOD],
            "path": path[:MAX_LOGGED_PATH], "route": route,
            "status": status, "duration_ms": round(seconds * 1000, 2),
            "client": (scope.get("client") or ("-",))[0],
        }
        if isinstance(principal, Principal):
            fields.update(principal=principal.name, principal_kind=principal.kind,
                          role=principal.role.value)
        for key in ("operation", "operation_name", "cost", "refusal"):
            if state.get(key):
                fields[key] = state[key]
        level = logging.DEBUG if path.startswith(QUIET) and status < 400 else logging.INFO
        access_log.log(level, "request", extra={"fields": fields})
