"""Uploads built to cost the server as much work as possible before it refuses them (issue 11, item 3).

Not a test module: tests/inventory/test_upload_bounds.py and bench/robustness.py both build their
attack files here. `worst_upload()` is the one the benchmark times: the issue's workbook of 200,000
rows x 20 cells (7.9 MB as openpyxl writes numbers), which took 40 s of CPU here before it was
refused (96 s in the issue) and takes 0.4 s now. Refusing any of the others takes less."""
import io
import re
import zipfile

import openpyxl

SHEET = "xl/worksheets/sheet1.xml"
SHARED_STRINGS = "xl/sharedStrings.xml"
MAIN_NAMESPACE = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADER = ["unit_code", "serial"]
# The shared strings of a header and one device: the start of every shared strings part built here.
_REAL_STRINGS = (b'<sst xmlns="' + MAIN_NAMESPACE + b'">'
                 + b"".join(b"<si><t>%s</t></si>" % text for text in [b"unit_code", b"serial", b"W1", b"SST-1"]))


def worst_upload() -> tuple[str, bytes]:
    """The file name and content of the worst upload for `upload_cpu_s` in bench/robustness.py."""
    return "rows.xlsx", openpyxl_rows_xlsx(rows=200_000, columns=20)


def openpyxl_rows_xlsx(*, rows: int, columns: int, encoding: str = "utf-8") -> bytes:
    """The workbook openpyxl's write_only mode writes for a header and `rows` rows of `columns` numbers.

    openpyxl needs about 30 s to write 200,000 x 20 cells one by one, so its XML for the first data row
    is repeated here with each row's number: the same bytes it would write, in under a second."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("devices")
    sheet.append([f"column{n}" for n in range(columns)])
    sheet.append([1] * columns)
    template = zipfile.ZipFile(io.BytesIO(_saved(workbook)))
    xml = template.read(SHEET)
    start, end = xml.index(b'<row r="2"'), xml.index(b"</row>", xml.index(b'<row r="2"')) + len(b"</row>")
    row = re.sub(rb'(r="[A-Z]*)2"', rb'\g<1>%(n)d"', xml[start:end].replace(b"%", b"%%"))

    def sheet_xml():
        yield xml[:start]
        for first in range(2, rows + 2, 10_000):
            yield b"".join(row % {b"n": n} for n in range(first, min(first + 10_000, rows + 2)))
        yield xml[end:]
    if encoding == "utf-8":
        return _replaced(template, {SHEET: sheet_xml()})
    # A blank first: expat reads " \x00<\x00" as UTF-16 by its NUL, where no BOM is needed (issue 11, review 2)
    recoded = (chunk.decode().encode(encoding) for chunk in _chained([b" "], sheet_xml()))
    return _replaced(template, {SHEET: recoded})


def _chained(*parts):
    for part in parts:
        yield from part


def long_attribute_xlsx(*, value_bytes: int) -> bytes:
    """A sheet whose root element has one attribute of `value_bytes` bytes: expat 2.5 parses a start tag
    again from its "<" at every buffer it reads, quadratic in the tag's length (a 20 KB upload)."""
    return _sheet_with_root_attributes(iter([b' a="', b"a" * value_bytes, b'"']))


def many_attributes_xlsx(*, attributes: int) -> bytes:
    """A sheet whose root element has `attributes` attributes: one start tag, parsed again and again."""
    def attributes_xml():
        for first in range(0, attributes, 100_000):
            yield b"".join(b' a%d=""' % n for n in range(first, min(first + 100_000, attributes)))
    return _sheet_with_root_attributes(attributes_xml())


def long_comment_xlsx(*, comment_bytes: int) -> bytes:
    """A sheet holding one XML comment of `comment_bytes` bytes: as quadratic to expat as a long tag."""
    sheet = (b'<worksheet xmlns="' + MAIN_NAMESPACE + b'"><sheetData>' + _inline_row(1, HEADER) + b"<!--",
             b"a" * comment_bytes, b"--></sheetData></worksheet>")
    return _replaced(zipfile.ZipFile(io.BytesIO(_write_only_workbook())), {SHEET: iter(sheet)})


def _sheet_with_root_attributes(attributes) -> bytes:
    sheet = _chained([b'<worksheet xmlns="' + MAIN_NAMESPACE + b'"'], attributes,
                     [b"><sheetData>" + _inline_row(1, HEADER) + b"</sheetData></worksheet>"])
    return _replaced(zipfile.ZipFile(io.BytesIO(_write_only_workbook())), {SHEET: sheet})


def shared_strings_bomb_xlsx(*, unpacked_bytes: int) -> bytes:
    """A real one-row workbook whose shared strings part unpacks to `unpacked_bytes` of one string repeated:
    a few hundred kilobytes on the wire."""
    one = b"<si><t>x</t></si>"
    block = one * (2**20 // len(one))

    def strings_xml():
        yield _REAL_STRINGS
        for _ in range(unpacked_bytes // len(block) + 1):
            yield block
        yield b"</sst>"
    return _replaced(_shared_strings_workbook(), {SHARED_STRINGS: strings_xml()})


def many_shared_strings_xlsx(*, strings: int) -> bytes:
    """A one-row workbook with `strings` shared strings that no cell uses, in few enough bytes to pass
    any size bound: the work is in parsing them, each one a Python object in openpyxl."""
    def strings_xml():
        yield _REAL_STRINGS
        for first in range(0, strings, 100_000):
            yield b"".join(b"<si><t>%d</t></si>" % n for n in range(first, min(first + 100_000, strings)))
        yield b"</sst>"
    return _replaced(_shared_strings_workbook(), {SHARED_STRINGS: strings_xml()})


def styles_bomb_xlsx(*, formats: int) -> bytes:
    """A one-row workbook whose styles part lists `formats` cell formats (each one parsed in Python)."""
    template = zipfile.ZipFile(io.BytesIO(_shared_strings_workbook()))
    styles = template.read("xl/styles.xml")
    start = styles.index(b"<cellXfs")
    body_start = styles.index(b">", start) + 1
    xf = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    return _replaced(template, {"xl/styles.xml": iter([
        styles[:start], b'<cellXfs count="%d">' % (formats + 1), styles[body_start:styles.index(b"</cellXfs>")],
        xf * formats, styles[styles.index(b"</cellXfs>"):]])})


def entity_rows_xlsx(*, rows: int) -> bytes:
    """A workbook whose sheet declares an XML entity for a whole row and uses it `rows` times: a few
    bytes per row on the wire, each one a row once the XML parser expands it."""
    row = b"<row><c t='inlineStr'><is><t>W1</t></is></c><c t='inlineStr'><is><t>S</t></is></c></row>"
    sheet = (b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY r "' + row + b'">]><worksheet xmlns="'
             + MAIN_NAMESPACE + b'"><sheetData>' + _inline_row(1, HEADER) + b"&r;" * rows
             + b"</sheetData></worksheet>")
    return _replaced(zipfile.ZipFile(io.BytesIO(_write_only_workbook())), {SHEET: iter([sheet])})


def far_row_xlsx(*, row_number: int) -> bytes:
    """A header, one device, and one more on row `row_number`: openpyxl yields every row in between,
    each as wide as the sheet says it is (here 26 cells)."""
    sheet = (b'<worksheet xmlns="' + MAIN_NAMESPACE + b'"><dimension ref="A1:Z%d"/><sheetData>' % row_number
             + _inline_row(1, HEADER) + _inline_row(2, ["W1", "FAR-1"]) + _inline_row(row_number, ["W1", "FAR-2"])
             + b"</sheetData></worksheet>")
    return _replaced(zipfile.ZipFile(io.BytesIO(_write_only_workbook())), {SHEET: iter([sheet])})


def prefixed_xlsx(rows: list[list[str]], prefix: bytes = b"x") -> bytes:
    """A workbook whose sheet names the spreadsheet namespace with a prefix (<x:row>, <x:c>), as files
    written with Microsoft's Open XML SDK do."""
    body = b"".join(_inline_row(n, row) for n, row in enumerate(rows, start=1))
    body = re.sub(rb"<(/?)(row|c|is|t)\b", rb"<\1" + prefix + rb":\2", body)
    sheet = (b"<" + prefix + b":worksheet xmlns:" + prefix + b'="' + MAIN_NAMESPACE + b'"><' + prefix
             + b":sheetData>" + body + b"</" + prefix + b":sheetData></" + prefix + b":worksheet>")
    return _replaced(zipfile.ZipFile(io.BytesIO(_write_only_workbook())), {SHEET: iter([sheet])})


def replaced_sheet(sheet: bytes) -> bytes:
    """A real workbook whose first sheet is `sheet`."""
    return _replaced(zipfile.ZipFile(io.BytesIO(_write_only_workbook())), {SHEET: iter([sheet])})


def with_parts(content: bytes, parts: dict[str, bytes]) -> bytes:
    """The workbook with parts added (pictures, printer settings) that no relation names."""
    return _replaced(content, {name: iter([part]) for name, part in parts.items()})


def inline_row(number: int, values: list[str]) -> bytes:
    return _inline_row(number, values)


def _inline_row(number: int, values: list[str]) -> bytes:
    cells = b"".join(b'<c t="inlineStr"><is><t>' + value.encode() + b"</t></is></c>" for value in values)
    return b'<row r="%d">' % number + cells + b"</row>"


def _write_only_workbook() -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    workbook.create_sheet("devices").append(HEADER)
    return _saved(workbook)


def _shared_strings_workbook() -> bytes:
    """A header and one device, the text kept in xl/sharedStrings.xml as Excel keeps it (openpyxl writes
    inline strings, so the parts are written here)."""
    template = zipfile.ZipFile(io.BytesIO(_write_only_workbook()))
    cells = [b'<c r="%s" t="s"><v>%d</v></c>' % (ref, n) for n, ref in enumerate([b"A1", b"B1", b"A2", b"B2"])]
    sheet = (b'<worksheet xmlns="' + MAIN_NAMESPACE + b'"><sheetData><row r="1">' + cells[0] + cells[1]
             + b'</row><row r="2">' + cells[2] + cells[3] + b"</row></sheetData></worksheet>")
    strings = _REAL_STRINGS + b"</sst>"
    types = template.read("[Content_Types].xml").replace(b"</Types>", (
        b'<Override PartName="/' + SHARED_STRINGS.encode() + b'" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>'))
    return _replaced(template, {SHEET: iter([sheet]), "[Content_Types].xml": iter([types]),
                                SHARED_STRINGS: iter([strings])})


def _saved(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _replaced(template: zipfile.ZipFile | bytes, parts: dict) -> bytes:
    """The template's zip with some parts replaced or added, each written from chunks (never all in memory)."""
    if isinstance(template, bytes):
        template = zipfile.ZipFile(io.BytesIO(template))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        names = [item.filename for item in template.infolist()]
        for name in names + [name for name in parts if name not in names]:
            if name not in parts:
                archive.writestr(name, template.read(name))
                continue
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                for chunk in parts[name]:
                    member.write(chunk)
    return out.getvalue()
