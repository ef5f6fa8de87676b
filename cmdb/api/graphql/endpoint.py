"""GraphQL over HTTP at ``/graphql``, following the GraphQL-over-HTTP specification.

- POST with ``application/json``; GET with query parameters, for queries only
  (a mutation over GET is 405); POST ``multipart/form-data`` for file uploads
  (the GraphQL multipart request convention, see ``graphql_multipart``).
- The response media type follows ``Accept``: ``application/graphql-response+json``
  (request errors are 4xx) or ``application/json`` (well-formed requests are 200).
- A browser asking for HTML gets GraphiQL, served from the app itself (rendered from
  ``templates/graphiql.html``, its script a static file, under ``GRAPHIQL_CSP``; it
  sends the session's CSRF token in ``X-CSRF-Token``).
- Limits (body size, JSON nesting, tokens, nesting, field repetitions, depth, aliases,
  estimated cost) refuse early with ``LIMIT_EXCEEDED``; see ``documents`` and ``cost``.
- Documents are parsed and validated once per query text (``documents``), and
  everything after reading the body runs on a worker loop (``offload``), so a large
  query never holds the server's event loop.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    specified_rules,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from cmdb.api.graphql.context import Context
from cmdb.api.graphql.cost import CostModel, estimate, over_budget
from cmdb.api.graphql.documents import Bounds, Documents
from cmdb.api.graphql.multipart import close_uploads, multipart_params
from cmdb.api.graphql.schema import CmdbSchema
from cmdb.api.web.errors import STATUS, format_error, request_error, status_of
from cmdb.api.web.headers import GRAPHIQL_CSP
from cmdb.api.web.html import Html
from cmdb.api.web.jsonsafe import check_value, load_json
from cmdb.api.web.limits import alias_rule, depth_rule
from cmdb.api.web.media import MULTIPART_FORM, content_type
from cmdb.api.web.metrics import Metrics
from cmdb.api.web.offload import Offloader
from cmdb.api.web.permissions import check_operation
from cmdb.errors import (
    AuthenticationError,
    CmdbError,
    LimitExceededError,
    PermissionDeniedError,
)
from cmdb.model import jsontext
from cmdb.model.access import Principal
from cmdb.settings import Settings

GQL_RESPONSE = "application/graphql-response+json"
JSON_TYPE = "application/json"

ContextFactory = Callable[[Request], Awaitable[Context]]
MAX_NESTING = 64
"""Deepest nesting of braces, brackets and parentheses in a document."""
MAX_SELECTIONS = 500
"""Most selections (fields, spreads, inline fragments) in one selection set."""


class BadRequestError(Exception):
    """A request that is not a well-formed GraphQL-over-HTTP request."""

    def __init__(self, status: int, message: str, code: str = "BAD_REQUEST",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}


def _accepted(header: str | None) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for part in (header or "").split(","):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        out.append((bits[0].lower(), q))
    return sorted(out, key=lambda x: -x[1])


def choose_media_type(accept: str | None) -> str | None:
    """The response type for this Accept header; None when we can offer none of them."""
    if not accept:
        return JSON_TYPE
    for media, q in _accepted(accept):
        if q <= 0:
            continue
        if media == GQL_RESPONSE:
            return GQL_RESPONSE
        if media in (JSON_TYPE, "application/*", "*/*"):
            return JSON_TYPE
    return None


def wants_html(request: Request) -> bool:
    if request.method != "GET" or "query" in request.query_params:
        return False
    for media, q in _accepted(request.headers.get("accept")):
        if q > 0 and media == "text/html":
            return True
        if q > 0 and media in (GQL_RESPONSE, JSON_TYPE):
            return False
    return False


class GraphQLHTTP:
    """The ``/graphql`` endpoint over a strawberry schema."""

    def __init__(self, schema: CmdbSchema, settings: Settings, context: ContextFactory,
                 html: Html, metrics: Metrics | None = None,
                 offloader: Offloader | None = None) -> None:
        self.schema = schema
        self.metrics = metrics or Metrics()
        self.settings = settings
        self.context = context
        self.html = html
        self.offloader = offloader or Offloader()
        rules = [*specified_rules, MaybeNullValidationRule, OneOfInputValidationRule,
                 depth_rule(settings.max_query_depth), alias_rule(settings.max_aliases)]
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        self.rules = tuple(rules)
        self.documents = Documents(schema._schema, self.rules, Bounds(
            max_tokens=settings.max_tokens, max_nesting=MAX_NESTING,
            max_repeats=settings.max_field_repeats, max_selections=MAX_SELECTIONS))
        self.cost = CostModel(budget=settings.max_query_cost, max_page=settings.max_page_size)

    async def handle(self, request: Request) -> Response:
        if wants_html(request):
            return self.html.render(request, "graphiql.html", lang="en", csp=GRAPHIQL_CSP)
        media = choose_media_type(request.headers.get("accept"))
        if media is None:
            return JSONResponse(
                {"errors": [request_error(
                    f"cannot answer with any of: {request.headers.get('accept')}; "
                    f"accept {GQL_RESPONSE} or {JSON_TYPE}", "NOT_ACCEPTABLE")]},
                status_code=406,
            )
        try:
            params = await self._params(request)
            return await self._execute(request, params, media)
        except BadRequestError as exc:
            return self._respond({"errors": [request_error(exc.message, exc.code)]},
                                 exc.status, media, exc.headers)
        finally:
            await close_uploads(request)

    def _respond(self, body: dict[str, Any], status: int, media: str,
                 headers: dict[str, str] | None = None) -> Response:
        payload = jsontext.dumps_bytes(body)
        return Response(payload, status_code=status, headers=headers,
                        media_type=f"{media}; charset=utf-8")

    async def _params(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            raw: dict[str, Any] = dict(request.query_params)
            for key in ("variables", "extensions"):
                if raw.get(key):
                    raw[key] = self._json(raw[key], f"`{key}`")
                else:
                    raw.pop(key, None)
            return self._check(raw)
        if request.method != "POST":
            raise BadRequestError(405, "use GET or POST", "METHOD_NOT_ALLOWED",
                             {"Allow": "GET, POST"})
        media = content_type(request.headers)
        mime = media.essence if media else None
        if mime == MULTIPART_FORM:
            try:
                return self._check(await multipart_params(request,
                                                          self.settings.max_upload_bytes))
            except CmdbError as exc:
                status = 413 if isinstance(exc, LimitExceededError) else 400
                raise BadRequestError(status, exc.message, exc.code) from None
        if mime != JSON_TYPE:
            raise BadRequestError(415, f"POST a JSON body with Content-Type {JSON_TYPE}",
                             "UNSUPPORTED_MEDIA_TYPE")
        if media is not None and media.charset not in (None, "utf-8", "utf8"):
            raise BadRequestError(415, "the body must be UTF-8", "UNSUPPORTED_MEDIA_TYPE")
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise BadRequestError(413, f"the body is larger than {limit} bytes", "LIMIT_EXCEEDED")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise BadRequestError(413, f"the body is larger than {limit} bytes",
                                      "LIMIT_EXCEEDED")
        data = self._json(bytes(body), "the body", "BAD_JSON")
        if not isinstance(data, dict):
            raise BadRequestError(400, "the body must be a JSON object")
        return self._check(data)

    @staticmethod
    def _json(raw: bytes | str, what: str, code: str = "BAD_REQUEST") -> Any:
        try:
            data = load_json(raw, what, max_string=None)
            # the texts of variables are bounded here; the document's by ``documents``
            values = data.get("variables") if isinstance(data, dict) and "query" in data \
                else data
            check_value(values, what)
            return data
        except LimitExceededError as exc:
            raise BadRequestError(400, exc.message, exc.code) from None
        except CmdbError as exc:
            raise BadRequestError(400, exc.message, code) from None

    def _check(self, data: dict[str, Any]) -> dict[str, Any]:
        query = data.get("query")
        if not isinstance(query, str) or not query.strip():
            raise BadRequestError(400, "a non-empty `query` string is required")
        variables = data.get("variables")
        if variables is not None and not isinstance(variables, dict):
            raise BadRequestError(400, "`variables` must be a JSON object")
        name = data.get("operationName")
        if name is not None and not isinstance(name, str):
            raise BadRequestError(400, "`operationName` must be a string")
        extensions = data.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            raise BadRequestError(400, "`extensions` must be a JSON object")
        return {"query": query, "variables": variables, "operationName": name}

    async def _execute(self, request: Request, params: dict[str, Any], media: str) -> Response:
        return await self.offloader.run(lambda: self._run(request, params, media))

    async def _run(self, request: Request, params: dict[str, Any], media: str) -> Response:
        """Everything after the body is read; on a worker loop (see ``offload``)."""
        request_status = 400 if media == GQL_RESPONSE else 200
        prepared = self.documents.prepare(params["query"])
        if prepared.document is None:
            for error in prepared.errors:
                if (error.extensions or {}).get("code") == "LIMIT_EXCEEDED":
                    self.metrics.refusal("LIMIT_EXCEEDED")
            return self._respond({"errors": [format_error(e) for e in prepared.errors]},
                                 request_status, media)
        document = prepared.document
        operation = get_operation_ast(document, params["operationName"])
        if operation is None:
            return self._respond(
                {"errors": [request_error("cannot tell which operation to run; "
                                          "give operationName", "BAD_REQUEST")]},
                request_status, media)
        if request.method == "GET" and operation.operation is not OperationType.QUERY:
            raise BadRequestError(405, "only queries may be sent with GET; POST mutations",
                             "METHOD_NOT_ALLOWED", {"Allow": "POST"})
        principal = getattr(request.state, "principal", None)
        if not isinstance(principal, Principal):  # no access middleware in front: refuse
            refused = AuthenticationError("not signed in")
            return self._respond({"errors": [request_error(refused.message, refused.code)]},
                                 status_of(refused), media)
        label = _operation_label(operation)
        request.state.operation = label
        request.state.operation_name = params["operationName"] or (
            operation.name.value if operation.name else None)
        denied = check_operation(document, operation, principal)
        if denied:
            self.metrics.operation(label, "forbidden", 0.0)
            self.metrics.refusal(PermissionDeniedError.code)
            return self._respond({"errors": [format_error(e) for e in denied]},
                                 STATUS[PermissionDeniedError.code], media)
        cost = estimate(self.schema._schema, document, operation, params["variables"],
                        self.cost)
        request.state.cost = cost
        if cost > self.cost.budget:
            self.metrics.operation(label, "refused", 0.0)
            self.metrics.refusal("LIMIT_EXCEEDED")
            return self._respond({"errors": [format_error(over_budget(
                cost, self.cost, operation))]}, request_status, media)
        context = await self.context(request)
        context.document = document
        started = time.perf_counter()
        result = await self.schema.execute(
            params["query"], variable_values=params["variables"], context_value=context,
            operation_name=params["operationName"],
        )
        self.metrics.operation(label, "error" if result.errors else "ok",
                               time.perf_counter() - started)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [format_error(e) for e in result.errors]
        if result.data is None and result.errors and _is_request_error(result.errors):
            return self._respond(body, request_status, media)
        body["data"] = result.data
        return self._respond(body, 200, media)


def _operation_label(operation: OperationDefinitionNode) -> str:
    """``mutation updateCI``: the operation type and its first root field, for logs and
    metrics (bounded by the schema, unlike client-chosen operation names)."""
    for sel in operation.selection_set.selections:
        if isinstance(sel, FieldNode) and not sel.name.value.startswith("__"):
            return f"{operation.operation.value} {sel.name.value}"
    return f"{operation.operation.value} -"


def _is_request_error(errors: list[GraphQLError]) -> bool:
    """Errors raised before execution (e.g. bad variables) have no path."""
    return all(e.path is None and (e.original_error is None
                                   or isinstance(e.original_error, GraphQLError))
               for e in errors)
