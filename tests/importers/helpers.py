"""Helpers shared by the importer tests."""

from __future__ import annotations

from pathlib import Path

from cmdb.importers import Observation, ParseOptions, RecordError, get_importer

FIXTURES = Path(__file__).with_name("fixtures")
HOSTILE = FIXTURES / "hostile"


def run(
    name: str, path: Path, options: ParseOptions | None = None
) -> tuple[list[Observation], list[RecordError]]:
    """Parse ``path`` with importer ``name``; split observations from record errors."""
    observations: list[Observation] = []
    errors: list[RecordError] = []
    for record in get_importer(name).run(path, options=options):
        if isinstance(record, Observation):
            observations.append(record)
        else:
            errors.append(record)
    return observations, errors


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="资产" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
}


def shared_strings_bomb(path: Path, strings: int = 3000, length: int = 30_000) -> Path:
    """A small workbook whose shared strings expand to ``strings * length`` characters
    (3,000 x 30,000 = 90 MB from ~200 KB): each row names an asset with one of them.
    Written part by part, so making it costs no memory."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in _XLSX_PARTS.items():
            zf.writestr(name, text)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns='
                     b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     b"<si><t>\xe8\xb5\x84\xe4\xba\xa7\xe7\xbc\x96\xe5\x8f\xb7</t></si>"
                     b"<si><t>\xe5\x90\x8d\xe7\xa7\xb0</t></si>")
            filler = b"A" * length
            for i in range(strings):
                fh.write(b"<si><t>" + f"{i:06d}".encode() + filler + b"</t></si>")
            fh.write(b"</sst>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
                     b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
                     b'<c r="B1" t="s"><v>1</v></c></row>')
            for i in range(strings):
                r = i + 2
                fh.write(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>B-{i}</t></is></c>'
                         f'<c r="B{r}" t="s"><v>{i + 2}</v></c></row>'.encode())
            fh.write(b"</sheetData></worksheet>")
    return path
