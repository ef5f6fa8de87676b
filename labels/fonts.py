"""Font discovery, glyph coverage and metrics.

A font is looked for, in this order:

1. ``LabelOptions.font_path`` or the ``CMDB_LABEL_FONT`` environment variable
   (``/path/font.ttc`` or ``/path/font.ttc#1`` for face 1 of a collection): if set,
   it is the only font used;
2. fonts shipped in ``labels/fonts/`` and the PyPI package
   ``paperang-p2-fonts-cjk`` (WenQuanYi Micro Hei: Latin, Chinese, Japanese kana,
   Korean hangul);
3. well-known system locations (Debian ``fonts-wqy-microhei``, ``fonts-noto-cjk``,
   ``fonts-dejavu-core``, macOS and Windows CJK fonts).

The first font whose character map covers every character to print is used; if
none does, :class:`LabelGlyphMissingError` names the characters. Text is never
drawn with missing glyphs (no tofu boxes).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import io
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from fontTools import subset
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.ttLib import TTFont

from labels.errors import LabelFontMissingError, LabelGlyphMissingError

FONT_ENV = "CMDB_LABEL_FONT"
PACKAGED_DIR = Path(__file__).resolve().parent / "fonts"
PT_TO_MM = 25.4 / 72.0
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")

SYSTEM_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "C:/Windows/Fonts/arial.ttf",
)


@dataclass(frozen=True, slots=True)
class FontFace:
    """A font file and the face index inside it (0 unless a .ttc/.otc collection)."""

    path: Path
    index: int = 0
    source: str = "configured"

    def __str__(self) -> str:
        return f"{self.path}#{self.index}" if self.index else str(self.path)


@dataclass(eq=False)
class LoadedFont:
    """A parsed font: character map, advance widths and vertical metrics."""

    face: FontFace
    family: str
    cmap: dict[int, str]
    metrics: dict[str, tuple[int, int]]  # glyph name -> (advance width, left side bearing)
    units_per_em: int
    ascent: float  # fraction of the em above the baseline
    descent: float  # fraction of the em below the baseline (positive)
    _ttfont: TTFont = field(repr=False)
    _data: bytes = field(repr=False)
    _paths: dict[str, str] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` this font has no glyph for, in order, without repeats."""
        seen: dict[str, None] = {}
        for ch in text:
            if ord(ch) not in self.cmap and ch not in seen:
                seen[ch] = None
        return list(seen)

    def width_pt(self, text: str, size_pt: float) -> float:
        """Advance width of ``text`` at ``size_pt`` in points (no kerning)."""
        notdef = self.units_per_em // 2
        total = 0
        for ch in text:
            glyph = self.cmap.get(ord(ch))
            total += self.metrics[glyph][0] if glyph else notdef
        return total * size_pt / self.units_per_em

    def width_mm(self, text: str, size_pt: float) -> float:
        """Advance width of ``text`` at ``size_pt`` in millimetres."""
        return self.width_pt(text, size_pt) * PT_TO_MM

    def glyph_path(self, ch: str) -> tuple[str, int]:
        """SVG path data (font units, y up) and advance of the glyph for ``ch``."""
        glyph = self.cmap[ord(ch)]
        with self._lock:
            d = self._paths.get(glyph)
            if d is None:
                glyph_set = self._ttfont.getGlyphSet()
                pen = SVGPathPen(glyph_set)
                glyph_set[glyph].draw(pen)
                d = pen.getCommands()
                self._paths[glyph] = d
        return d, self.metrics[glyph][0]


def _parse_spec(spec: str) -> FontFace:
    """Parse ``path`` or ``path#index`` into a :class:`FontFace`."""
    path, sep, idx = spec.rpartition("#")
    if sep and idx.isdigit():
        return FontFace(Path(path).expanduser(), int(idx), "CMDB_LABEL_FONT")
    return FontFace(Path(spec).expanduser(), 0, "CMDB_LABEL_FONT")


def _packaged_faces() -> list[FontFace]:
    """Fonts shipped inside the package or brought by a font package from PyPI."""
    faces = [
        FontFace(p, 0, "packaged")
        for p in sorted(PACKAGED_DIR.glob("*"))
        if p.suffix.lower() in _FONT_SUFFIXES
    ]
    spec = importlib.util.find_spec("paperang_p2_fonts_cjk")
    if spec is not None and spec.origin:
        ttc = Path(spec.origin).parent / "fonts" / "wqy-microhei.ttc"
        if ttc.is_file():
            faces.append(FontFace(ttc, 0, "paperang-p2-fonts-cjk"))
    return faces


def candidate_faces(font_path: Path | None = None) -> list[FontFace]:
    """The fonts to try, best first; a configured font is the only candidate."""
    configured: FontFace | None = None
    if font_path is not None:
        configured = _parse_spec(str(font_path))
        configured = FontFace(configured.path, configured.index, "LabelOptions.font_path")
    elif os.environ.get(FONT_ENV):
        configured = _parse_spec(os.environ[FONT_ENV])
    if configured is not None:
        if not configured.path.is_file():
            raise LabelFontMissingError(
                f"label font not found: {configured.path} (from {configured.source})"
            )
        return [configured]
    faces = _packaged_faces()
    faces += [FontFace(Path(p), 0, "system") for p in SYSTEM_FONTS if Path(p).is_file()]
    if not faces:
        raise LabelFontMissingError(
            "no font found for labels: install the PyPI package 'paperang-p2-fonts-cjk' "
            "or the Debian package 'fonts-wqy-microhei', or set CMDB_LABEL_FONT=/path/font.ttf"
        )
    return faces


@lru_cache(maxsize=16)
def load_font(face: FontFace) -> LoadedFont:
    """Parse a font face (cached per process; a CJK font takes ~0.2 s)."""
    try:
        data = face.path.read_bytes()  # in memory: no file handle left open in the cache
        tt = TTFont(io.BytesIO(data), fontNumber=face.index, lazy=True)
        cmap = dict(tt.getBestCmap() or {})
        metrics: dict[str, tuple[int, int]] = tt["hmtx"].metrics
        upm = int(tt["head"].unitsPerEm)
        hhea = tt["hhea"]
        family = str(tt["name"].getDebugName(1) or face.path.stem)
    except Exception as exc:  # fontTools raises many kinds of errors on bad files
        raise LabelFontMissingError(f"cannot read font {face}: {exc}") from exc
    return LoadedFont(
        face=face,
        family=family,
        cmap=cmap,
        metrics=metrics,
        units_per_em=upm,
        ascent=hhea.ascent / upm,
        descent=-hhea.descent / upm,
        _ttfont=tt,
        _data=data,
    )


def _describe(chars: list[str]) -> str:
    """Name characters for an error message: ``'𓀀' (U+13000)``."""
    return ", ".join(f"'{c}' (U+{ord(c):04X})" for c in chars)


def font_for_text(text: str, font_path: Path | None = None) -> LoadedFont:
    """Return the first candidate font that has a glyph for every character of ``text``.

    Raises :class:`LabelGlyphMissingError` naming the characters no font covers.
    """
    faces = candidate_faces(font_path)
    best: tuple[LoadedFont, list[str]] | None = None
    for face in faces:
        font = load_font(face)
        missing = font.missing(text)
        if not missing:
            return font
        if best is None or len(missing) < len(best[1]):
            best = (font, missing)
    assert best is not None
    font, missing = best
    tried = "; ".join(str(f) for f in faces)
    raise LabelGlyphMissingError(
        f"no label font has a glyph for {_describe(missing)} (tried: {tried}); "
        f"set {FONT_ENV} to a font that covers them",
        missing,
    )


_subset_lock = threading.Lock()
_subset_dir: Path | None = None


def _cache_dir() -> Path:
    """A private per-process directory for font subsets, removed at exit."""
    global _subset_dir
    if _subset_dir is None:
        _subset_dir = Path(tempfile.mkdtemp(prefix="cmdb-labels-fonts-"))
        atexit.register(shutil.rmtree, _subset_dir, True)
    return _subset_dir


def subset_font_file(font: LoadedFont, chars: str) -> Path:
    """Write a TrueType subset of ``font`` holding ``chars`` and return its path.

    fpdf2 parses a whole font on ``add_font`` (about 1 s for a 5 MB CJK collection);
    a subset of the few hundred characters of a batch loads in milliseconds. fpdf2
    subsets again when it embeds the font. Cached per process by face and characters.
    """
    wanted = "".join(sorted(set(chars) | {" "}))
    key = hashlib.sha256(f"{font.face}|{wanted}".encode()).hexdigest()[:24]
    with _subset_lock:
        target = _cache_dir() / f"{key}.ttf"
        if target.exists():
            return target
        options = subset.Options()
        options.layout_features = []
        options.hinting = False
        options.notdef_outline = True
        options.glyph_names = False
        options.name_IDs = [0, 1, 2, 3, 4, 5, 6]
        options.drop_tables = [*options.drop_tables, "FFTM"]
        tt = TTFont(io.BytesIO(font._data), fontNumber=font.face.index, lazy=True)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=wanted)
        logger = logging.getLogger("fontTools.subset")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            subsetter.subset(tt)
        finally:
            logger.setLevel(level)
        buf = io.BytesIO()
        tt.save(buf)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, target)
        return target


def describe_font_sources() -> str:
    """Human-readable list of the fonts that would be tried (for diagnostics/CLI)."""
    try:
        faces = candidate_faces()
    except LabelFontMissingError as exc:
        return str(exc)
    return "\n".join(f"{f.source}: {f}" for f in faces)
