"""Reading multipart uploads within a size bound, into temporary files.

Used by ``POST /imports/{source}`` and by GraphQL multipart requests. The body is
counted as it arrives, so a request that lies about (or omits) its length is cut
off at the bound instead of filling the disk.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.types import Message

from cmdb.api.web.media import MULTIPART_FORM, content_type
from cmdb.errors import LimitExceededError, ValidationError
from cmdb.model.text import FILE_NAME, check_text

MAX_FIELDS = 20
MAX_FILES = 10
SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


async def read_form(request: Request, limit: int) -> FormData:
    """Parse a ``multipart/form-data`` body of at most ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise LimitExceededError(f"the upload is larger than {limit} bytes", limit=limit)
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise LimitExceededError(f"the upload is larger than {limit} bytes",
                                         limit=limit)
        return message

    bounded = Request(request.scope, receive)
    media = content_type(request.headers)
    if media is None or media.essence != MULTIPART_FORM:
        raise ValidationError("send the file as multipart/form-data", field="file")
    try:
        return await bounded.form(max_files=MAX_FILES, max_fields=MAX_FIELDS,
                                  max_part_size=limit)
    except LimitExceededError:
        raise
    except Exception as exc:  # starlette's MultiPartException and parser errors
        raise ValidationError(f"not a valid multipart body: {exc}", field="file") from exc


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes as it arrives (a body without a
    Content-Length, sent chunked, is counted too) so it is never held whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and len(declared) <= 18 and int(declared) > limit:
        raise LimitExceededError(f"the body is over {limit} bytes", limit=limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise LimitExceededError(f"the body is over {limit} bytes", limit=limit)
    return bytes(body)


def save_upload(upload: UploadFile, folder: Path) -> Path:
    """Copy an uploaded file into ``folder`` as ``upload`` plus the original's suffix
    (``.xlsx``), so the file on disk looks like the one the client has; the original
    name is otherwise kept only for display (it never becomes a path)."""
    suffix = Path(upload.filename or "").suffix
    target = folder / ("upload" + (suffix.lower() if SUFFIX.fullmatch(suffix) else ""))
    upload.file.seek(0)
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out)
    return target


def upload_name(upload: UploadFile) -> str:
    """The name the client gave the file, without folders, as runs and reports show it
    (at most 255 characters, one line of valid text)."""
    name = Path((upload.filename or "upload").replace("\\", "/")).name or "upload"
    checked = check_text(name, "file", FILE_NAME, single_line=True)
    assert checked is not None
    return checked


def upload_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="cmdb-upload-")
