"""GraphQL multipart requests: file uploads as in the GraphQL multipart request spec.

A ``multipart/form-data`` POST to ``/graphql`` carries ``operations`` (the usual
JSON request with ``null`` where files go), ``map`` (which file part goes to
which variable path, e.g. ``{"0": ["variables.file"]}``) and the file parts
(https://github.com/jaydenseric/graphql-multipart-request-spec). Files become
``Upload`` variable values. Batched operations (a JSON array) are not accepted.
The whole body is bounded by ``CMDB_MAX_UPLOAD_BYTES``.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from cmdb.api.web.jsonsafe import check_value, load_json
from cmdb.api.web.uploads import read_form
from cmdb.errors import ValidationError

MAX_PATHS = 10


def _json(raw: Any, name: str) -> Any:
    if not isinstance(raw, str):
        raise ValidationError(f"the multipart request needs a `{name}` field", field=name)
    # bounded like a JSON body: nesting, numbers, lone surrogates (see jsonsafe)
    data = load_json(raw, f"`{name}`", max_string=None)
    check_value(data.get("variables") if isinstance(data, dict) else data, f"`{name}`")
    return data


def _place(operations: dict[str, Any], path: str, upload: UploadFile) -> None:
    """Put ``upload`` where ``path`` (``variables.file``, ``variables.files.0``) points."""
    *parents, last = path.split(".")
    if not parents or parents[0] != "variables":
        raise ValidationError(f"map path {path!r} must start with `variables.`", field="map")
    node: Any = operations
    for key in [*parents, last][:-1]:
        if isinstance(node, list):
            index = int(key) if key.isdigit() and len(key) <= 9 else -1
            node = node[index] if 0 <= index < len(node) else None
        else:
            node = node.get(key)
        if not isinstance(node, dict | list):
            raise ValidationError(f"map path {path!r} does not exist in operations",
                                  field="map")
    if isinstance(node, list):
        index = int(last) if last.isdigit() and len(last) <= 9 else -1
        if not 0 <= index < len(node):
            raise ValidationError(f"map path {path!r} does not exist in operations",
                                  field="map")
        node[index] = upload
    else:
        node[last] = upload


async def multipart_params(request: Request, limit: int) -> dict[str, Any]:
    """The GraphQL request in a multipart body, with its files in the variables."""
    form = await read_form(request, limit)
    request.state.upload_form = form
    operations = _json(form.get("operations"), "operations")
    if not isinstance(operations, dict):
        raise ValidationError("`operations` must be one JSON object (no batches)",
                              field="operations")
    mapping = _json(form.get("map"), "map")
    if not isinstance(mapping, dict) or sum(
            len(v) if isinstance(v, list) else 1 for v in mapping.values()) > MAX_PATHS:
        raise ValidationError(f"`map` must be an object of at most {MAX_PATHS} paths",
                              field="map")
    if not isinstance(operations.get("variables"), dict):
        operations["variables"] = {}
    for key, paths in mapping.items():
        upload = form.get(key)
        if not isinstance(upload, UploadFile):
            raise ValidationError(f"the file part {key!r} named in `map` is missing",
                                  field="map")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValidationError(f"`map.{key}` must be a list of paths", field="map")
        for path in paths:
            _place(operations, path, upload)
    return operations


async def close_uploads(request: Request) -> None:
    """Close (and so delete) the files of a multipart request once it is answered."""
    form = getattr(request.state, "upload_form", None)
    if form is not None:
        await form.close()
