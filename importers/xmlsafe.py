"""Safe streaming XML: expat with entities, external references and remote DTDs refused.

A plain ``<!DOCTYPE nmaprun>`` (as nmap writes) is accepted; any entity
declaration (billion laughs, quadratic blowup, external entities), a DOCTYPE
with a system/public identifier (a DTD URL), and external references are
refused with ``IMPORT_FORBIDDEN_XML``.  File size, depth and text size are bounded.
Records are small element trees, built only for the subtrees the caller asks
for and dropped once yielded, so memory is bounded by the largest record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from importers.errors import ImportErrorCode, ImportFileError

CHUNK = 64 * 1024


@dataclass
class Node:
    """A small XML element: tag, attributes, text, children and its 1-based start line."""

    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def text(self) -> str:
        """The element's own text, stripped."""
        return "".join(self.parts).strip()

    def find(self, tag: str) -> Node | None:
        """Return the first child with this tag."""
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[Node]:
        """Return every child with this tag."""
        return [c for c in self.children if c.tag == tag]

    def findtext(self, tag: str) -> str | None:
        """Return the stripped text of the first child with this tag, or ``None`` if blank."""
        child = self.find(tag)
        return (child.text or None) if child is not None else None


class _RefusedError(Exception):
    """Raised inside expat callbacks; turned into ImportFileError by the driver."""

    def __init__(self, code: ImportErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ImportErrorCode = code


Selector = Callable[[tuple[str, ...]], bool]


def iter_records(
    path: Path,
    wanted: Selector,
    *,
    label: str,
    max_bytes: int,
    max_depth: int,
    max_text: int,
) -> Iterator[tuple[tuple[str, ...], Node]]:
    """Yield ``(path_of_tags, node)`` for each element whose tag path ``wanted`` accepts.

    Raises :class:`ImportFileError` for forbidden constructs, bounds and malformed or
    truncated XML, naming the line.
    """
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportFileError(
            "IMPORT_TOO_LARGE", f"file is {size} bytes (bound {max_bytes})", file=label
        )
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[str] = []
    building: list[Node] = []
    done: list[tuple[tuple[str, ...], Node]] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        stack.append(tag)
        if len(stack) > max_depth:
            raise _RefusedError("IMPORT_TOO_LARGE", f"elements nested deeper than {max_depth}")
        if building or wanted(tuple(stack)):
            node = Node(tag, attrs, parser.CurrentLineNumber)
            if building:
                building[-1].children.append(node)
            building.append(node)

    def end(tag: str) -> None:
        if building:
            node = building.pop()
            if not building:
                done.append((tuple(stack), node))
        stack.pop()

    def chars(data: str) -> None:
        if building:
            node = building[-1]
            node.parts.append(data)
            node.size += len(data)
            if node.size > max_text:
                raise _RefusedError("IMPORT_TOO_LARGE", f"text longer than {max_text} characters")

    def doctype(name: str, sysid: str | None, pubid: str | None, internal: int) -> None:
        if sysid or pubid:
            raise _RefusedError(
                "IMPORT_FORBIDDEN_XML", f"DOCTYPE {name} refers to an external DTD {sysid!r}"
            )

    def entity_decl(name: str, *_: object) -> None:
        raise _RefusedError("IMPORT_FORBIDDEN_XML", f"entity declaration {name!r} is not allowed")

    def external_ref(*_: object) -> int:
        raise _RefusedError("IMPORT_FORBIDDEN_XML", "external reference is not allowed")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity_decl
    parser.UnparsedEntityDeclHandler = entity_decl
    parser.ExternalEntityRefHandler = external_ref
    parser.buffer_text = True

    def fail(code: ImportErrorCode, message: str) -> ImportFileError:
        return ImportFileError(code, message, file=label, line=parser.CurrentLineNumber or None)

    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            try:
                parser.Parse(chunk, not chunk)
            except _RefusedError as exc:
                raise fail(exc.code, str(exc)) from None
            except ValueError as exc:  # pyexpat: "multi-byte encodings are not supported"
                raise fail("IMPORT_BAD_ENCODING", f"unsupported XML encoding: {exc}") from None
            except expat.ExpatError as exc:
                reason = expat.errors.messages[exc.code]
                message = f"malformed or truncated XML: {reason} (column {exc.offset})"
                raise ImportFileError(
                    "IMPORT_BAD_FILE", message, file=label, line=exc.lineno
                ) from None
            yield from done
            done.clear()
            if not chunk:
                return
