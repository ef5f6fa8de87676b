"""The errors a CMDB user can meet, each with a stable code.

Every error raised on purpose by the CMDB is a :class:`CmdbError`. Its ``code``
is part of the public contract: GraphQL clients read it from
``errors[].extensions.code``, the CLI prints it, scripts branch on it. Anything
that is not a ``CmdbError`` is an internal error and is masked before it
leaves the process.

The tree::

    CmdbError                       INTERNAL (never raised itself)
    ├── ValidationError             VALIDATION_ERROR   bad input: a field, a value, a type
    │   ├── UnknownClassError       UNKNOWN_CLASS
    │   ├── RelationshipRuleError   RELATIONSHIP_NOT_ALLOWED
    │   ├── ReservedFieldError      RESERVED_FIELD     a field only the CMDB itself sets
    │   ├── UnsupportedMediaTypeError UNSUPPORTED_MEDIA_TYPE  a malformed Content-Type
    │   └── LabelRenderError        the label layer's code: TEMPLATE_NOT_FOUND,
    │                               TEMPLATE_INVALID, LABEL_FONT_MISSING,
    │                               LABEL_GLYPH_MISSING, LABEL_DATA_INVALID,
    │                               LABEL_OPTION_INVALID
    │   └── ImportRejectedError     the importer's code (IMPORT_BAD_FILE, IMPORT_BAD_ENCODING,
    │                               IMPORT_FORBIDDEN_XML, ...) or IMPORT_REJECTED (bad records)
    ├── NotFoundError               NOT_FOUND
    │   └── NoCmdbError             NO_CMDB            no CMDB at the store a command names
    ├── ConflictError               CONFLICT
    │   ├── VersionConflictError    VERSION_CONFLICT   a stale ``expectedVersion``
    │   └── DuplicateError          DUPLICATE          a unique value already taken
    ├── InvalidTransitionError      INVALID_TRANSITION a lifecycle move that is not allowed
    ├── SchemaDefinitionError       SCHEMA_ERROR       a bad file in ``schema/``
    ├── LimitExceededError          LIMIT_EXCEEDED     a request over a configured bound
    │   └── RateLimitedError        RATE_LIMITED       too many requests for one caller
    ├── AuthenticationError         UNAUTHENTICATED    no, or a bad, token or session
    ├── PermissionDeniedError       FORBIDDEN          the caller's role does not allow it
    ├── StoreUnavailableError       STORE_UNAVAILABLE  the database cannot be reached
    └── IncompleteLoadError         LOAD_INCOMPLETE    a restore that stopped part-way
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pydantic


class CmdbError(Exception):
    """Root of every error the CMDB raises on purpose."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = {k: v for k, v in details.items() if v is not None}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled whole (code and details too): an import run in a worker process
        # hands its refusal back to the server as it was raised.
        return (_restore, (type(self), self.message, self.code, self.details))


def _restore(kind: type[CmdbError], message: str, code: str,
             details: dict[str, Any]) -> CmdbError:
    error = kind.__new__(kind)
    CmdbError.__init__(error, message, **details)
    if code != kind.code:
        error.__dict__["code"] = code
    return error


class ValidationError(CmdbError):
    """Input that breaks a rule of the schema: a missing field, a wrong type, a bad value."""

    code = "VALIDATION_ERROR"


class UnknownClassError(ValidationError):
    """A CI class name that ``schema/`` does not declare."""

    code = "UNKNOWN_CLASS"


class RelationshipRuleError(ValidationError):
    """A relationship whose type, source class or target class is not allowed."""

    code = "RELATIONSHIP_NOT_ALLOWED"


class ReservedFieldError(ValidationError):
    """A field the CMDB keeps itself (audit and label stamps, when a source last saw a
    CI: ``system: true`` in ``schema/``), sent by a caller or a sheet."""

    code = "RESERVED_FIELD"


class LabelRenderError(ValidationError):
    """A label that cannot be drawn: unknown template, a character no font has, bad option.

    Its ``code`` is the one the label layer gave (``labels.LabelError.code``),
    so a client can tell a missing template from a missing font.
    """

    code = "LABEL_ERROR"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        if code is not None:
            # The one error whose code varies per instance: it carries the label layer's.
            self.code = code  # type: ignore[misc]


class ImportRejectedError(ValidationError):
    """A file an import refused: nothing was changed. The message names file, line, field.

    ``code`` is the importer's code for a whole-file problem, or ``IMPORT_REJECTED``
    when records were invalid; ``details`` carry ``runId`` and where it went wrong.
    """

    code = "IMPORT_REJECTED"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        if code is not None:
            # Like LabelRenderError: the code is the importer's, per instance.
            self.code = code  # type: ignore[misc]


class NotFoundError(CmdbError):
    """A CI, relationship or other record that does not exist."""

    code = "NOT_FOUND"


class NoCmdbError(NotFoundError):
    """The store a command names holds no CMDB (a missing or mistyped path); only the
    commands that may create one do so."""

    code = "NO_CMDB"


class ConflictError(CmdbError):
    """The change cannot apply to the current state of the data."""

    code = "CONFLICT"


class VersionConflictError(ConflictError):
    """Someone changed the record since the caller read it (optimistic concurrency)."""

    code = "VERSION_CONFLICT"


class DuplicateError(ConflictError):
    """A value that must be unique (asset tag, serial number, ...) is already taken."""

    code = "DUPLICATE"


class InvalidTransitionError(CmdbError):
    """A lifecycle transition that the lifecycle does not allow from the current state."""

    code = "INVALID_TRANSITION"


class SchemaDefinitionError(CmdbError):
    """A file in ``schema/`` that cannot be loaded; the message names file and entry."""

    code = "SCHEMA_ERROR"


class LimitExceededError(CmdbError):
    """A request beyond a configured bound (page size, depth, body size, ...)."""

    code = "LIMIT_EXCEEDED"


class RateLimitedError(LimitExceededError):
    """A caller sending requests faster than its rate limit; ``retry_after`` is the
    ``Retry-After`` header's value (whole seconds)."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: str = "1", **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class AuthenticationError(CmdbError):
    """The request carries no credentials, or a token or session that is unknown,
    expired, revoked or disabled."""

    code = "UNAUTHENTICATED"


class PermissionDeniedError(CmdbError):
    """The caller is known, but its role does not allow what it asked for."""

    code = "FORBIDDEN"


class UnsupportedMediaTypeError(ValidationError):
    """A request whose ``Content-Type`` is not a well-formed media type."""

    code = "UNSUPPORTED_MEDIA_TYPE"


class StoreUnavailableError(CmdbError):
    """The database behind the CMDB cannot be reached right now."""

    code = "STORE_UNAVAILABLE"


def from_pydantic(exc: pydantic.ValidationError, prefix: str = "") -> ValidationError:
    """A pydantic refusal as the CMDB's ``ValidationError``, naming the first bad field
    (``filter.text: String should have at most 200 characters``)."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    if field and prefix:
        field = f"{prefix}.{field}"
    message = str(first["msg"]).removeprefix("Value error, ")
    return ValidationError(f"{field}: {message}" if field else message, field=field)


class IncompleteLoadError(CmdbError):
    """A bulk load (restore, migrate) that stopped part-way; ``done`` records made it in.

    The target keeps them, marked as an incomplete load, and the same load resumes
    after the last one.
    """

    code = "LOAD_INCOMPLETE"

    def __init__(self, message: str, done: int, **details: Any) -> None:
        super().__init__(message, done=done, **details)
        self.done = done
