"""``POST /imports/{source}``: import a file over HTTP, for other tools.

The file comes as ``multipart/form-data`` (field ``file``), with ``dryRun``,
``applyValidOnly`` and ``createPlaces`` as form fields (``true``/``false``), and
``campaign`` (a scans or discovery file feeds only that open audit campaign). The
answer is the run as JSON (id, status, counts per outcome, rejected records, the
first outcomes); a refused file answers 422 with the coded error and the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from cmdb.api.http.labels import request_actor
from cmdb.api.web.cpu import run_cpu
from cmdb.api.web.errors import coded_errors
from cmdb.api.web.import_worker import run_import
from cmdb.api.web.uploads import read_form, save_upload, upload_dir, upload_name
from cmdb.errors import ImportRejectedError, ValidationError
from cmdb.services import Cmdb
from cmdb.services.imports.service import ImportRequest
from cmdb.settings import Settings

SHOWN_OUTCOMES = 500


def flag(value: Any, name: str) -> bool:
    text = str(value or "false").strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise ValidationError(f"{name} must be true or false", field=name)
    return text in ("true", "1")


def text_field(value: Any) -> str | None:
    """An optional text form field (a file sent there is refused)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError("campaign: send a name or id as text", field="campaign")
    return value


class ImportEndpoints:
    """The import route over one CMDB."""

    def __init__(self, cmdb: Cmdb, settings: Settings) -> None:
        self.cmdb = cmdb
        self.settings = settings

    def routes(self) -> list[BaseRoute]:
        return [Route("/imports/{source}", coded_errors(self.post), methods=["POST"])]

    async def post(self, request: Request) -> Response:
        actor = request_actor(request)
        form = await read_form(request, self.settings.max_upload_bytes)
        try:
            return await self._import(request, actor.name, form)
        finally:
            await form.close()

    async def _import(self, request: Request, who: str, form: FormData) -> Response:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationError("send the file in the form field `file`", field="file")
        with upload_dir() as folder:
            path = save_upload(upload, Path(folder))
            request_ = ImportRequest(
                request.path_params["source"], path,
                file_name=upload_name(upload),
                dry_run=flag(form.get("dryRun"), "dryRun"),
                apply_valid_only=flag(form.get("applyValidOnly"), "applyValidOnly"),
                create_places=flag(form.get("createPlaces"), "createPlaces"),
                campaign=text_field(form.get("campaign")))
            try:
                # Parsing and planning are seconds of CPU: in the worker process.
                run = await run_cpu(run_import, self.cmdb.settings, who, request_)
            except ImportRejectedError as exc:
                body: dict[str, Any] = {"code": exc.code, "message": exc.message,
                                        "details": exc.details}
                if "runId" in exc.details:
                    body["run"] = await self.cmdb.imports.report(exc.details["runId"],
                                                                 SHOWN_OUTCOMES)
                return JSONResponse(body, status_code=422)
        return JSONResponse(await self.cmdb.imports.report(run.id, SHOWN_OUTCOMES))
