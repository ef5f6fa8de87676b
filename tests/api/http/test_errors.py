"""One table gives every coded error its HTTP status."""

from __future__ import annotations

import cmdb.errors as errors_module
from cmdb.api.web.errors import CODES, JSON_ENDPOINT_STATUS, STATUS, status_of
from cmdb.errors import (
    CmdbError,
    LabelRenderError,
    LimitExceededError,
    NoCmdbError,
    PermissionDeniedError,
    RateLimitedError,
)


def subclasses(kind: type[CmdbError]) -> list[type[CmdbError]]:
    out: list[type[CmdbError]] = []
    for sub in kind.__subclasses__():
        out += [sub, *subclasses(sub)]
    return out


def test_every_coded_error_has_a_status() -> None:
    kinds = subclasses(CmdbError)
    declared = [k for k in vars(errors_module).values()
                if isinstance(k, type) and issubclass(k, CmdbError) and k is not CmdbError]
    assert set(declared) <= set(kinds)
    missing = sorted(k.__name__ for k in kinds if k.code not in STATUS)
    assert not missing, f"codes without an HTTP status in STATUS: {missing}"


def test_statuses_by_kind() -> None:
    assert status_of(PermissionDeniedError("no")) == 403
    assert status_of(RateLimitedError("slow down", "3")) == 429
    assert status_of(LimitExceededError("too big")) == 413
    assert status_of(LimitExceededError("too big"), JSON_ENDPOINT_STATUS) == 400
    assert status_of(NoCmdbError("none here")) == 404
    # a label layer's own code takes its class's status
    assert status_of(LabelRenderError("no such template", "TEMPLATE_NOT_FOUND")) == 400
    assert (CODES[400], CODES[404], CODES[500]) == ("BAD_REQUEST", "NOT_FOUND", "INTERNAL")
