"""Reading the page forms (sign in, sign out, "seen here", resolve) within small bounds.

A page form is a few fields typed by a person: :func:`read_page_form` takes
``application/x-www-form-urlencoded`` (what a browser sends) or ``multipart/form-data``
without files, of at most :data:`PAGE_FORM_BYTES` counted as the body arrives (a
request that lies about its length, or sends none, is cut off at the bound), with at
most :data:`PAGE_FORM_FIELDS` fields. Anything else is refused before it is stored
anywhere: 415 for another media type, 413 past the bound, 400 for a broken body.

The access checks read a signed-in page form first (its CSRF token is a field); the
form they read is kept on the request, so the endpoint does not read the body twice.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import Message, Receive

from cmdb.api.web.media import FORM, MULTIPART_FORM, content_type

PAGE_FORM_BYTES = 64 * 1024
PAGE_FORM_FIELDS = 200
STATE_KEY = "page_form"
BODY_KEY = "page_form_body"


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"a page form is at most {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) past ``limit`` bytes declared or received."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands ``body`` out again, then waits on the real one (for the
    client going away)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def is_page_form(request: Request) -> bool:
    media = content_type(request.headers)
    return media is not None and media.essence in (FORM, MULTIPART_FORM)


async def read_page_form(request: Request, limit: int = PAGE_FORM_BYTES) -> FormData:
    """The fields of a page form (see the module's docstring for the bounds)."""
    state: dict[str, Any] = request.scope.setdefault("state", {})
    kept = state.get(STATE_KEY)
    if isinstance(kept, FormData):
        return kept
    if not is_page_form(request):
        raise HTTPException(415, f"send the form as {FORM}")
    body = await read_body(request, limit)
    state[BODY_KEY] = body
    parsed = Request(request.scope, replay(body, request.receive))
    try:
        form = await parsed.form(max_files=0, max_fields=PAGE_FORM_FIELDS,
                                 max_part_size=limit)
    except HTTPException:
        raise
    except Exception as exc:  # python-multipart's parser errors: a broken body
        raise HTTPException(400, "the form's body is not well-formed") from exc
    state[STATE_KEY] = form
    return form


def form_text(form: FormData, name: str, limit: int = 500) -> str:
    """A text field of a page form ('' when absent), cut at ``limit`` characters."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
