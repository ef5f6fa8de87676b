"""The hostile corpus: every bad file fails with a clear error naming what and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from importers import ImportFileError, ParseOptions

from .helpers import FIXTURES, HOSTILE, run, shared_strings_bomb


@pytest.mark.parametrize(
    ("importer", "name", "code", "line", "text"),
    [
        ("nmap", "billion-laughs.xml", "IMPORT_FORBIDDEN_XML", 3, "entity declaration 'lol'"),
        ("nmap", "quadratic-blowup.xml", "IMPORT_FORBIDDEN_XML", 2, "entity declaration 'a'"),
        ("glpi", "external-entity.xml", "IMPORT_FORBIDDEN_XML", 2, "entity declaration 'xxe'"),
        ("ocs", "parameter-entity.xml", "IMPORT_FORBIDDEN_XML", 2, "entity declaration 'remote'"),
        ("nmap", "dtd-url.xml", "IMPORT_FORBIDDEN_XML", 2, "external DTD 'http://192.0.2.1/"),
        ("glpi", "truncated-glpi.xml", "IMPORT_BAD_FILE", 199, "truncated"),
        ("nmap", "deep.xml", "IMPORT_TOO_LARGE", 2, "nested deeper than 64"),
        ("glpi", "gbk-declared.xml", "IMPORT_BAD_ENCODING", 1, "unsupported XML encoding"),
        ("nmap", "binary-junk.xml", "IMPORT_BAD_FILE", 1, "not well-formed"),
        ("csv", "binary-junk.csv", "IMPORT_NUL_BYTE", 2, "NUL byte(s) at line(s) 2, 3"),
        ("lshw", "binary-junk.json", "IMPORT_NUL_BYTE", 2, "NUL byte"),
        ("xlsx", "binary-junk.xlsx", "IMPORT_BAD_FILE", None, "not an .xlsx workbook"),
        ("csv", "latin1.csv", "IMPORT_BAD_ENCODING", 2, "not UTF-8 or GB18030"),
        ("csv", "nul-bytes.csv", "IMPORT_NUL_BYTE", 3, "line(s) 3"),
        ("csv", "unknown-header.csv", "IMPORT_UNKNOWN_HEADER", 1, "颜色 (C)"),
        ("csv", "bad-quoting.csv", "IMPORT_BAD_FILE", 2, "malformed CSV"),
    ],
)
def test_hostile_file_is_refused_with_a_clear_error(
    importer: str, name: str, code: str, line: int | None, text: str
) -> None:
    with pytest.raises(ImportFileError) as info:
        run(importer, HOSTILE / name)
    err = info.value
    assert err.code == code
    assert err.file == name
    assert err.line == line
    assert text in str(err)


def test_unknown_header_names_the_column() -> None:
    with pytest.raises(ImportFileError) as info:
        run("csv", HOSTILE / "unknown-header.csv")
    assert info.value.column == "颜色 (C)"


def test_external_entity_never_reads_the_file() -> None:
    with pytest.raises(ImportFileError) as info:
        run("glpi", HOSTILE / "external-entity.xml")
    assert "root:" not in str(info.value)


def test_wrong_tool_output_is_refused() -> None:
    with pytest.raises(ImportFileError, match="expected <nmaprun>"):
        run("nmap", FIXTURES / "glpi-vm.xml")
    with pytest.raises(ImportFileError, match="expected <REQUEST>"):
        run("ocs", FIXTURES / "nmap-localhost-v4.xml")
    with pytest.raises(ImportFileError, match="malformed or truncated JSON"):
        run("lshw", FIXTURES / "scans.csv")


def test_json_that_is_not_lshw_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": "world"}', encoding="utf-8")
    with pytest.raises(ImportFileError, match="not lshw JSON"):
        run("lshw", path)


def test_ten_megabyte_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("Asset Tag,Notes\nH-1,ok\nH-2,")
        fh.write("x" * (10 * 1024 * 1024))
        fh.write("\nH-3,ok\n")
    with pytest.raises(ImportFileError) as info:
        run("csv", path)
    assert info.value.code == "IMPORT_TOO_LARGE"
    assert info.value.line == 3
    assert "field size bound" in str(info.value)


def test_ten_megabyte_quoted_multiline_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge-quoted.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write('Asset Tag,Notes\nH-1,"')
        for _ in range(10 * 1024):
            fh.write("y" * 1023 + "\n")
        fh.write('"\n')
    with pytest.raises(ImportFileError) as info:
        run("csv", path)
    assert info.value.code == "IMPORT_TOO_LARGE"
    assert info.value.line is not None


def test_ten_megabyte_xml_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    path.write_text(
        "<REQUEST><CONTENT><HARDWARE><NAME>" + "z" * (10 * 1024 * 1024) + "</NAME></HARDWARE>"
        "</CONTENT></REQUEST>",
        encoding="utf-8",
    )
    with pytest.raises(ImportFileError, match="text longer than") as info:
        run("glpi", path)
    assert info.value.code == "IMPORT_TOO_LARGE"


def test_long_field_within_the_line_bound_is_a_record_error(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("Asset Tag,Notes\nL-1," + "n" * 5000 + "\nL-2,ok\n", encoding="utf-8")
    obs, errors = run("csv", path, ParseOptions(max_field_chars=1000))
    assert [o.asset_tag for o in obs] == ["L-2"]
    assert (errors[0].line, errors[0].field, errors[0].column) == (2, "note", "Notes (B)")


def test_formula_cells_stay_literal_and_flagged() -> None:
    obs, errors = run("csv", HOSTILE / "formulas.csv")
    assert errors == []
    first, second = obs
    assert first.name == "=cmd|' /C calc'!A0"
    assert first.note == "+SUM(1,2)"
    assert second.name == "@SUM(A1)"
    assert second.note == "-2+3"
    for o in obs:
        assert {f.field for f in o.flags if f.code == "FORMULA_TEXT"} == {"name", "note"}


def test_too_many_bad_rows_stop_the_import(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("Asset Tag,MAC\n" + "".join(f"B-{i},zz\n" for i in range(20)))
    with pytest.raises(ImportFileError) as info:
        run("csv", path, ParseOptions(max_errors=5))
    assert info.value.code == "IMPORT_TOO_MANY_ERRORS"
    assert info.value.line == 7


def test_xml_file_size_bound(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="bound 1000") as info:
        run("glpi", FIXTURES / "glpi-vm.xml", ParseOptions(max_xml_bytes=1000))
    assert info.value.code == "IMPORT_TOO_LARGE"


def test_xlsx_zip_bomb_bound(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="unpacks to") as info:
        run("xlsx", FIXTURES / "inventory.xlsx", ParseOptions(max_xlsx_unzipped_bytes=100))
    assert info.value.code == "IMPORT_TOO_LARGE"


def test_shared_strings_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    """~150 KB whose shared strings unpack to 90 MB: refused from the zip's directory,
    without reading the strings (the whole parse stays under a few MB)."""
    import tracemalloc

    bomb = shared_strings_bomb(tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 300_000
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError) as info:
            run("xlsx", bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.code == "IMPORT_TOO_LARGE"
    assert "xl/sharedStrings.xml unpacks to 90066182 bytes" in str(info.value)
    assert peak < 5_000_000


def test_shared_strings_within_the_part_bound_are_counted_as_they_stream(tmp_path: Path) -> None:
    """45 MB of strings, under the part bound: the streaming count stops at 32 Mi
    characters, before openpyxl would load them all."""
    import tracemalloc

    bomb = shared_strings_bomb(tmp_path / "bomb.xlsx", strings=1500)
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError) as info:
            run("xlsx", bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.code == "IMPORT_TOO_LARGE"
    assert "shared strings expand to more than 33554432 characters" in str(info.value)
    assert peak < 5_000_000
    with pytest.raises(ImportFileError, match="more than 100 shared strings"):
        run("xlsx", bomb, ParseOptions(max_xlsx_shared_strings=100))
    with pytest.raises(ImportFileError, match="longer than 32767 characters"):
        run("xlsx", shared_strings_bomb(tmp_path / "long.xlsx", strings=2, length=40_000))


def test_sheet_expansion_is_bounded_as_rows_stream(tmp_path: Path) -> None:
    small = shared_strings_bomb(tmp_path / "small.xlsx", strings=50, length=1000)
    obs, _ = run("xlsx", small)
    assert len(obs) == 50
    with pytest.raises(ImportFileError, match="more than 20 rows") as info:
        run("xlsx", small, ParseOptions(max_xlsx_rows=20))
    assert info.value.line == 21
    with pytest.raises(ImportFileError, match="more than 30 filled cells"):
        run("xlsx", small, ParseOptions(max_xlsx_cells=30))
    with pytest.raises(ImportFileError, match="cells expand to more than 10000 char"):
        run("xlsx", small, ParseOptions(max_xlsx_expanded_chars=10_000))


def test_a_sparse_sheet_cannot_make_millions_of_empty_rows(tmp_path: Path) -> None:
    """openpyxl fills the gap before a row numbered 5,000,000 with empty rows."""
    import zipfile

    small = shared_strings_bomb(tmp_path / "small.xlsx", strings=1, length=10)
    sparse = tmp_path / "sparse.xlsx"
    with zipfile.ZipFile(small) as src, zipfile.ZipFile(sparse, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="5000000"><c r="A5000000" '
                                    b't="inlineStr"><is><t>far</t></is></c></row></sheetData>')
            dst.writestr(item, data)
    with pytest.raises(ImportFileError, match="more than 1048576 rows") as info:
        run("xlsx", sparse)
    assert info.value.line == 1_048_577


def test_a_workbook_is_read_by_its_content_not_its_name(tmp_path: Path) -> None:
    renamed = tmp_path / "upload"
    renamed.write_bytes((FIXTURES / "inventory.xlsx").read_bytes())
    obs, errors = run("xlsx", renamed)
    assert len(obs) == 3
    assert not errors


def test_legacy_xls_is_named(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(ImportFileError, match=r"legacy \.xls"):
        run("xlsx", path)


def test_a_number_of_100000_digits_is_refused_naming_its_line(tmp_path: Path) -> None:
    """json turned it into an int and then failed converting it: an internal error."""
    path = tmp_path / "big-number.json"
    path.write_text('{"id": "host", "class": "system",\n "children": [\n'
                    '  {"id": "memory", "class": "memory", "size": ' + "9" * 100_000 +
                    "}]}", encoding="utf-8")
    with pytest.raises(ImportFileError) as info:
        run("lshw", path)
    assert info.value.code == "IMPORT_BAD_FILE"
    assert info.value.line == 3
    assert "(100000 chars) is out of range (at most 20 digits)" in str(info.value)
    for bad in ("1e999999", "NaN", "-Infinity"):
        path.write_text('{"id": "h", "class": "system", "width": ' + bad + "}",
                        encoding="utf-8")
        with pytest.raises(ImportFileError, match="out of range"):
            run("lshw", path)
    path.write_text('{"id": "h", "class": "system", "width": 64, "size": 1.5e10}',
                    encoding="utf-8")
    obs, _ = run("lshw", path)
    assert len(obs) == 1


def test_anything_else_a_library_raises_on_a_bad_file_is_a_coded_refusal(
        tmp_path: Path) -> None:
    """A workbook whose sheet part is cut off: openpyxl fails while rows stream."""
    import zipfile

    good = FIXTURES / "inventory.xlsx"
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v>", b"<v>not-a-number", 3).replace(b't="n"', b"")
                data = data[: len(data) * 2 // 3]
            dst.writestr(item, data)
    with pytest.raises(ImportFileError) as info:
        run("xlsx", broken)
    assert info.value.code == "IMPORT_BAD_FILE"
    assert info.value.file == "broken.xlsx"
