"""Loading the optional organisation logo (cached per process)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from labels.errors import LabelDataError


@lru_cache(maxsize=8)
def load_logo(path: Path) -> Image.Image:
    """Return the logo as an RGBA image composited on white (labels print on white)."""
    try:
        with Image.open(path) as src:
            rgba = src.convert("RGBA")
    except (OSError, UnidentifiedImageError) as exc:
        raise LabelDataError(f"cannot read logo {path}: {exc}") from exc
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    background.alpha_composite(rgba)
    return background.convert("RGB")


def logo_size(path: Path) -> tuple[int, int]:
    """Pixel width and height of the logo."""
    return load_logo(path).size
