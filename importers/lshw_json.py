"""Importer ``lshw``: ``lshw -json`` hardware trees, one observation per system node.

Not streamed: lshw output is small (tens of KB), so the file is read whole after
its size is checked against ``ParseOptions.max_json_bytes`` (default 32 MiB),
and the tree is walked iteratively with a depth bound. Numbers are bounded as they
are read (lshw writes sizes and capacities in bytes: 20 digits at most), so a number
of 100,000 digits is a clear refusal naming its line, not a crash.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from importers.build import RecordBuilder
from importers.errors import ImportFileError, RecordError
from importers.models import Kind, Locator, NetworkInterface, Observation
from importers.options import ParseOptions

SOURCE: Final = "lshw"
KIND: Final[Kind] = "inventory"
DESCRIPTION: Final = "lshw -json hardware tree: product, vendor, serial, NICs"


MAX_DIGITS = 20
"""2**64 has 20 digits: no size, capacity or clock lshw reports is longer."""


class _NumberError(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _NumberError(text)
    return int(text)


def _float(text: str) -> float:
    value = float(text) if len(text) <= 2 * MAX_DIGITS else float("inf")
    if value in (float("inf"), float("-inf")):
        raise _NumberError(text)
    return value


def _constant(text: str) -> float:
    raise _NumberError(text)  # NaN, Infinity: not JSON, not lshw


def _load(path: Path, options: ParseOptions, label: str) -> list[dict[str, object]]:
    """Read the bounded file and return its top-level nodes (object, array or concatenation)."""
    size = path.stat().st_size
    if size > options.max_json_bytes:
        raise ImportFileError(
            "IMPORT_TOO_LARGE", f"file is {size} bytes (bound {options.max_json_bytes})", file=label
        )
    raw = path.read_bytes()
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        raise ImportFileError("IMPORT_NUL_BYTE", "NUL byte in JSON", file=label, line=line)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ImportFileError(
            "IMPORT_BAD_ENCODING", "JSON is not UTF-8", file=label, line=line
        ) from exc
    decoder = json.JSONDecoder(parse_int=_int, parse_float=_float, parse_constant=_constant)
    nodes: list[object] = []
    pos = 0
    try:
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text):
                break
            value, pos = decoder.raw_decode(text, pos)
            nodes.extend(value if isinstance(value, list) else [value])
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            "IMPORT_BAD_FILE",
            f"malformed or truncated JSON: {exc.msg}",
            file=label,
            line=exc.lineno,
        ) from exc
    except RecursionError as exc:
        raise ImportFileError("IMPORT_TOO_LARGE", "JSON nested too deeply", file=label) from exc
    except _NumberError as exc:
        line = text.count("\n", 0, max(text.find(exc.text), 0)) + 1
        shown = exc.text if len(exc.text) <= 30 else f"{exc.text[:20]}… ({len(exc.text)} chars)"
        raise ImportFileError(
            "IMPORT_BAD_FILE", f"number {shown} is out of range (at most {MAX_DIGITS} digits)",
            file=label, line=line) from None
    if not nodes or not all(isinstance(n, dict) and "class" in n for n in nodes):
        raise ImportFileError("IMPORT_BAD_FILE", "not lshw JSON: no hardware nodes", file=label)
    return [n for n in nodes if isinstance(n, dict)]


def _str(node: dict[str, object], key: str) -> str | None:
    """Return ``node[key]`` if it is a string (lshw writes numbers for some keys)."""
    value = node.get(key)
    return value if isinstance(value, str) else None


def _walk(root: dict[str, object], max_depth: int, label: str) -> Iterator[dict[str, object]]:
    """Yield every node of the tree, iteratively, refusing trees deeper than ``max_depth``."""
    stack: list[tuple[dict[str, object], int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise ImportFileError("IMPORT_TOO_LARGE", f"tree deeper than {max_depth}", file=label)
        yield node
        children = node.get("children")
        if isinstance(children, list):
            stack.extend((c, depth + 1) for c in reversed(children) if isinstance(c, dict))


def _system(b: RecordBuilder, root: dict[str, object], options: ParseOptions, label: str) -> None:
    """Fill the builder from one system node and its subtree."""
    config = root.get("configuration")
    conf = config if isinstance(config, dict) else {}
    b.text("name", _str(root, "id"))
    b.hostname(_str(root, "id"))
    b.text("model", _str(root, "product"))
    b.text("manufacturer", _str(root, "vendor"))
    b.text("serial_number", _str(root, "serial"))
    b.text("system_uuid", conf.get("uuid") if isinstance(conf.get("uuid"), str) else None)
    b.text("class_hint", conf.get("chassis") if isinstance(conf.get("chassis"), str) else None)
    b.attribute("description", _str(root, "description"))
    for node in _walk(root, options.max_xml_depth, label):
        cls = node.get("class")
        size = node.get("size")
        if cls == "memory" and node.get("id") == "memory" and isinstance(size, int):
            b.attribute("memory_bytes", size)
        elif cls == "processor":
            b.attribute("cpu", _str(node, "product"))
        elif cls == "network" and isinstance(node.get("logicalname"), str):
            ncfg = node.get("configuration")
            ip = ncfg.get("ip") if isinstance(ncfg, dict) else None
            mac = b.mac(_str(node, "serial"), f"{node.get('id')}/serial")
            addr = b.ip(ip if isinstance(ip, str) else None, f"{node.get('id')}/configuration/ip")
            b.interfaces.append(
                NetworkInterface(
                    name=_str(node, "logicalname"),
                    mac=mac,
                    ip_addresses=[addr] if addr else [],
                    vendor=_str(node, "vendor"),
                )
            )


def _parse(path: Path, options: ParseOptions) -> Iterator[Observation | RecordError]:
    """Yield one observation per top-level system node."""
    label = options.label_for(path)
    for number, root in enumerate(_load(path, options, label), start=1):
        b = RecordBuilder(SOURCE, KIND, Locator(file=label, record=number), options.placeholders)
        _system(b, root, options, label)
        yield from b.finish()


def parse(
    path: Path, *, options: ParseOptions | None = None
) -> Iterator[Observation | RecordError]:
    """Parse ``lshw -json`` output lazily (the file itself is read whole; see module doc)."""
    return _parse(path, options or ParseOptions())
