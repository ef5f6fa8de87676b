#!/usr/bin/env python3
"""Generate a synthetic inventory CSV for the importers' memory and speed benchmark.

Example::

    python bench/gen_inventory_csv.py --rows 1000000 --encoding gb18030 -o /tmp/inv.csv

The output uses the Chinese headers the ``csv`` importer recognises (``--headers en``
for English ones), CRLF line ends as Excel writes, and deterministic values (``--seed``).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from typing import BinaryIO

HEADERS = {
    "cn": [
        "资产编号",
        "名称",
        "类别",
        "品牌",
        "型号",
        "序列号",
        "MAC地址",
        "IP地址",
        "主机名",
        "位置",
        "责任人",
        "部门",
        "购置日期",
        "保修到期",
        "状态",
        "备注",
    ],
    "en": [
        "Asset Tag",
        "Name",
        "Category",
        "Manufacturer",
        "Model",
        "Serial Number",
        "MAC Address",
        "IP Address",
        "Hostname",
        "Location",
        "Owner",
        "Department",
        "Purchase Date",
        "Warranty Expires",
        "Status",
        "Notes",
    ],
}
CLASSES = [
    ("服务器", "华为", "RH2288H V5"),
    ("笔记本", "联想", "ThinkPad T14"),
    ("台式机", "戴尔", "OptiPlex 7090"),
    ("交换机", "H3C", "S5130"),
    ("打印机", "惠普", "LaserJet M404n"),
]
SITES = ["北京总部", "上海分部", "深圳研发中心", "成都数据中心"]
PEOPLE = ["张三", "李四", "王五", "赵六", "陈七", "周八"]
DEPTS = ["财务部", "研发部", "网络部", "行政部", "销售部"]
STATES = ["在用", "闲置", "维修中", "报废"]


def rows(count: int, seed: int) -> Iterator[list[str]]:
    """Yield ``count`` deterministic inventory rows."""
    rng = random.Random(seed)
    start = date(2018, 1, 1)
    for i in range(count):
        cls, brand, model = CLASSES[i % len(CLASSES)]
        bought = start + timedelta(days=rng.randrange(2500))
        mac = f"3c:d9:2b:{(i >> 16) & 0xFF:02x}:{(i >> 8) & 0xFF:02x}:{i & 0xFF:02x}"
        ip = f"10.{(i >> 16) & 0xFF}.{(i >> 8) & 0xFF}.{i & 0xFF}"
        site = SITES[i % len(SITES)]
        yield [
            f"A{i:08d}",
            f"{cls}-{i}",
            cls,
            brand,
            model,
            f"SN{rng.getrandbits(40):010X}",
            mac,
            ip,
            f"host-{i:08d}",
            f"{site}/{1 + i % 9}楼机房/R{i % 40:02d}机柜",
            PEOPLE[i % len(PEOPLE)],
            DEPTS[i % len(DEPTS)],
            bought.strftime("%Y/%m/%d"),
            (bought + timedelta(days=1095)).isoformat(),
            STATES[i % len(STATES)],
            "" if i % 7 else "备注：定期巡检",
        ]


def write(out: BinaryIO, count: int, encoding: str, headers: str, seed: int) -> None:
    """Write the header and ``count`` rows to ``out`` in ``encoding``."""
    import io

    text = io.TextIOWrapper(out, encoding=encoding, newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(HEADERS[headers])
    writer.writerows(rows(count, seed))
    text.flush()
    text.detach()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1000, help="number of data rows (1000)")
    parser.add_argument(
        "--encoding",
        choices=["utf-8", "utf-8-sig", "gb18030"],
        default="utf-8",
        help="file encoding: utf-8 (default), utf-8-sig (with BOM) or gb18030 (GBK superset)",
    )
    parser.add_argument("--headers", choices=sorted(HEADERS), default="cn", help="header language")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("-o", "--output", help="output file (default: standard output)")
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must be >= 0")
    if args.output:
        with open(args.output, "wb") as fh:
            write(fh, args.rows, args.encoding, args.headers, args.seed)
    else:
        write(sys.stdout.buffer, args.rows, args.encoding, args.headers, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
