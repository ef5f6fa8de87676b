"""Benchmark of the label layer: 1000 labels into one PDF, and QR codes per second.

Targets: a 1000-label PDF in <= 2 s, and >= 500 QR symbols/s. Prints each figure
and its ratio to the target (ratio >= 1.0 means the target is met).

    .venv/bin/python bench/bench_labels.py [--labels 1000] [--qr 2000] [--template avery-l7160]
"""

from __future__ import annotations

import argparse
import time

from labels import LabelData, LabelOptions, render_pdf
from labels.fonts import load_font
from labels.qr import qr_matrix

PDF_TARGET_S = 2.0
QR_TARGET_PER_S = 500.0


def _items(count: int) -> list[LabelData]:
    """Mixed Latin and Chinese sample assets."""
    return [
        LabelData(
            asset_tag=f"ZC-2024-{i:05d}",
            name=f"核心交换机 北京 {i}" if i % 2 else f"Core switch Frankfurt {i}",
            model="Cisco C9300-48P",
            serial_number=f"FOC{i:08d}",
            owner="信息技术部" if i % 3 == 0 else "Network Operations",
        )
        for i in range(count)
    ]


def main() -> None:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1000, help="labels in the PDF")
    parser.add_argument("--qr", type=int, default=2000, help="QR symbols to encode")
    parser.add_argument("--template", default="avery-l7160", help="template name")
    parser.add_argument("--encoder", choices=["auto", "zxing", "qrcode"], default="auto")
    args = parser.parse_args()

    options = LabelOptions(public_base_url="https://cmdb.example.com", organisation="Example Ltd")
    items = _items(args.labels)

    load_font.cache_clear()
    start = time.perf_counter()
    pdf = render_pdf(items, options, args.template)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    render_pdf(items, options, args.template)
    warm = time.perf_counter() - start
    print(
        f"PDF, {args.labels} labels ({args.template}, {len(pdf) / 1024:.0f} KiB): "
        f"cold {cold:.2f} s (font load + subset), warm {warm:.2f} s; "
        f"target <= {PDF_TARGET_S:.1f} s -> ratio cold {PDF_TARGET_S / cold:.2f}, "
        f"warm {PDF_TARGET_S / warm:.2f}"
    )

    payloads = [f"https://cmdb.example.com/a/ZC-2024-{i:05d}" for i in range(args.qr)]
    start = time.perf_counter()
    for payload in payloads:
        qr_matrix(payload, "Q", encoder=args.encoder)
    rate = args.qr / (time.perf_counter() - start)
    print(
        f"QR encoding ({args.encoder}, EC Q): {rate:.0f} symbols/s; "
        f"target >= {QR_TARGET_PER_S:.0f}/s -> ratio {rate / QR_TARGET_PER_S:.2f}"
    )


if __name__ == "__main__":
    main()
