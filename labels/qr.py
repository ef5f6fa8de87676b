"""QR symbol encoding: payload text to a matrix of modules.

Only standard (model 2) QR codes are produced, never Micro QR. The fast encoder is
zxing-cpp's writer (C++); the pure-Python ``qrcode`` package is the fallback when
zxing-cpp is not installed (about 100 symbols/s instead of thousands).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from PIL import Image

from labels.errors import LabelDataError, LabelOptionError

QUIET_ZONE = 4  # modules of white border on every side, as ISO/IEC 18004 requires
Encoder = Literal["auto", "zxing", "qrcode"]
ENCODER_ENV = "CMDB_LABEL_QR_ENCODER"
_DARK_RUN = re.compile(b"\x01+")
_TO_MODULE = bytes(1 if v < 128 else 0 for v in range(256))  # grey pixel -> 1 if dark
_TO_GREY = bytes([255, 0]) + bytes(254)  # module (0/1) -> grey pixel (255 light, 0 dark)


@dataclass(frozen=True, slots=True)
class QrMatrix:
    """A QR symbol without quiet zone: ``rows[y][x]`` is 1 for a dark module."""

    size: int
    rows: tuple[bytes, ...]
    encoder: str

    def mask_bits(self) -> bytes:
        """Rows packed 8 modules per byte, MSB first, bit 0 = dark (a PDF image mask)."""
        raw = b"".join(self.rows).translate(_TO_GREY)
        return Image.frombytes("L", (self.size, self.size), raw).convert("1").tobytes()

    @property
    def size_with_quiet_zone(self) -> int:
        """Number of modules across, quiet zone included."""
        return self.size + 2 * QUIET_ZONE

    def runs(self) -> list[tuple[int, int, int]]:
        """Horizontal runs of dark modules as ``(y, x_start, length)``; for vector drawing."""
        out: list[tuple[int, int, int]] = []
        for y, row in enumerate(self.rows):
            out.extend((y, m.start(), m.end() - m.start()) for m in _DARK_RUN.finditer(row))
        return out


def _zxing(payload: str, ec_level: str) -> QrMatrix:
    """Encode with zxing-cpp (>= 3.0)."""
    import zxingcpp

    try:
        barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level=ec_level)
    except Exception as exc:  # zxing-cpp raises plain exceptions for over-long data
        raise LabelDataError(f"cannot encode QR payload ({len(payload)} chars): {exc}") from exc
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    height, width = (int(v) for v in image.shape)
    # zxingcpp.Image implements the buffer protocol, which its stubs do not declare
    raw = bytes(memoryview(image)).translate(_TO_MODULE)  # type: ignore[arg-type]
    rows = tuple(raw[y * width : (y + 1) * width] for y in range(height))
    return QrMatrix(size=width, rows=rows, encoder="zxing")


def _qrcode(payload: str, ec_level: str) -> QrMatrix:
    """Encode with the pure-Python ``qrcode`` package."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_Q
    from qrcode.exceptions import DataOverflowError

    level = ERROR_CORRECT_H if ec_level == "H" else ERROR_CORRECT_Q
    qr = qrcode.QRCode(error_correction=level, border=0)
    qr.add_data(payload.encode("utf-8"))
    try:
        qr.make(fit=True)
    except DataOverflowError as exc:
        raise LabelDataError(f"cannot encode QR payload ({len(payload)} chars): {exc}") from exc
    matrix: list[list[bool]] = qr.get_matrix()
    rows = tuple(bytes(1 if m else 0 for m in row) for row in matrix)
    return QrMatrix(size=len(rows), rows=rows, encoder="qrcode")


@lru_cache(maxsize=1)
def _zxing_available() -> bool:
    """True when a zxing-cpp with the 3.x writer API is importable."""
    try:
        import zxingcpp
    except ImportError:
        return False
    return hasattr(zxingcpp, "create_barcode")


def qr_matrix(payload: str, ec_level: str = "Q", encoder: Encoder | None = None) -> QrMatrix:
    """Encode ``payload`` (UTF-8 text) as a standard QR symbol at ``ec_level`` (Q or H).

    ``encoder`` (default: env ``CMDB_LABEL_QR_ENCODER`` or ``auto``) picks the backend.
    """
    if ec_level not in ("Q", "H"):
        raise LabelOptionError(f"ec_level must be Q or H, not {ec_level!r}")
    if not payload:
        raise LabelDataError("empty QR payload")
    choice = encoder or os.environ.get(ENCODER_ENV, "auto")
    if choice not in ("auto", "zxing", "qrcode"):
        raise LabelOptionError(f"unknown QR encoder {choice!r} (auto, zxing, qrcode)")
    if choice == "zxing" or (choice == "auto" and _zxing_available()):
        return _zxing(payload, ec_level)
    return _qrcode(payload, ec_level)
