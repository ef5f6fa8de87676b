"""Shared fixtures of the label tests: sample data, options, the offline ZPL renderer."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from labels import LabelData, LabelOptions

RENDERER_DIR = Path(__file__).resolve().parent / "zpl_renderer"
BASE_URL = "https://cmdb.example.com"

ZplRenderer = Callable[[str, float, float, int], list[Image.Image]]


@pytest.fixture
def options() -> LabelOptions:
    """Options with the QR holding the asset page URL."""
    return LabelOptions(public_base_url=BASE_URL, organisation="Example Networks GmbH")


@pytest.fixture
def latin() -> LabelData:
    """An asset described in Latin script."""
    return LabelData(
        asset_tag="ZC-2024-0042",
        name="Core switch Frankfurt rack 12",
        model="Cisco C9300-48P",
        serial_number="FOC2311X0AB",
        owner="Network Operations",
    )


@pytest.fixture
def chinese() -> LabelData:
    """An asset described in Chinese."""
    return LabelData(
        asset_tag="ZC-2024-0043",
        name="核心交换机 北京",
        model="华为 S5735-L48T4X",
        serial_number="2102353SJP10L3000123",
        owner="信息技术部",
        organisation="北京示例科技有限公司",
    )


def _unavailable(reason: str) -> None:
    """The renderer is part of the suite: without it the ZPL tests fail, never skip."""
    pytest.fail(reason)


@pytest.fixture(scope="session")
def zpl_renderer(tmp_path_factory: pytest.TempPathFactory) -> ZplRenderer:
    """Render ZPL to images offline with zpl-renderer-js (zebrash in WebAssembly, on node).

    Installs the pinned npm package into tests/labels/zpl_renderer on first use.
    """
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node/npm not installed: cannot run the offline ZPL renderer")
    assert node is not None
    assert npm is not None
    if not (RENDERER_DIR / "node_modules" / "zpl-renderer-js").is_dir():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=RENDERER_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            _unavailable(f"npm ci failed for the ZPL renderer: {done.stderr[-500:]}")
    workdir = tmp_path_factory.mktemp("zpl")
    counter = iter(range(1_000_000))

    def render(zpl: str, width_mm: float, height_mm: float, dpi: int) -> list[Image.Image]:
        n = next(counter)
        source = workdir / f"in{n}.zpl"
        source.write_text(zpl, encoding="utf-8")
        prefix = workdir / f"out{n}-"
        dpmm = {203: 8, 300: 12}[dpi]
        done = subprocess.run(
            [
                node,
                str(RENDERER_DIR / "render.cjs"),
                str(source),
                str(width_mm),
                str(height_mm),
                str(dpmm),
                str(prefix),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        count = int(done.stdout.strip())
        images = []
        for i in range(count):
            with Image.open(f"{prefix}{i}.png") as img:
                images.append(img.convert("L"))
        return images

    return render
