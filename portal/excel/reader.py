"""Reading an uploaded spreadsheet the way office workbooks really arrive.

:func:`open_workbook` takes a file on disk and the name it was uploaded under and returns a
:class:`Workbook`: its sheets (name and size) and, per sheet, its rows as plain Python values.
What the file is comes from its bytes, not its name: a zip holding ``xl/workbook.xml`` is an
.xlsx, one holding an OpenDocument ``content.xml`` an .ods, an OLE compound file an .xls (or an
encrypted workbook), anything else that reads as text a CSV. Every way a file can be unusable —
empty, too large, not a spreadsheet, cut off, password-protected, a zip bomb, unreadable text,
too many rows, columns or characters — is a :class:`ReadError` whose ``message`` is a lazy
translated sentence for the clerk; nothing else escapes.

Cells come out as ``None``, ``str``, ``int``, ``float``, ``bool``, ``datetime.date`` or
``datetime.datetime``: formula cells as their cached value (an error cell as its text, ``#N/A``,
in every kind of workbook: calamine would give it empty, or 0), Excel
dates as dates, a whole number
stored as a float (``3.0``) as ``int`` while it is exact (below 10**15, Excel's 15 significant
digits), times and durations as text. CSV cells are text: the import engine cleans them per field.

Memory: CSV rows are decoded and parsed as they are read. python-calamine (0.9, the newest)
has no streaming reader: it reads a whole sheet into its (Rust) memory before the first row is
handed out — about 95 bytes per filled cell, 150 MB for 100,000 rows x 16 columns. So an .xlsx
sheet is never given to it whole: :meth:`Workbook.head` (the header, the sample) parses only
the first rows, and :meth:`Workbook.rows` cuts the sheet's XML into pieces of whole rows as it
unpacks and has calamine parse one piece at a time (:class:`_SheetPieces`, ≈ 20 MB each), with
the same cells as a whole read. .xls and .ods sheets are loaded whole. The limits below are
checked before a sheet is loaded wherever the file says how big it is.

Merged cells: only a range's first cell holds its value. :meth:`Workbook.merged` gives the
ranges (an .xlsx's found in its XML while it is unpacked and checked, an .xls's from calamine;
.ods: none), and :func:`data_rows` gives a value merged down to each of its data rows and
passes over a note merged across the columns.

Helpers for the import engine: :func:`find_header` (which row holds the column titles),
:func:`data_rows` (numbered data rows after it, empty rows skipped, a totals row dropped),
:func:`cell_text` (a cell's display text) and :func:`identifier_text` (phone, ID and card
numbers, refusing what Excel has already rounded). No Flask here but lazy messages.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import os
import re
import shutil
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Callable, Iterable, Iterator

import python_calamine
from flask_babel import lazy_gettext as _l

from portal.fields.validation import BLANK, FieldInvalid

from . import xls_errors

KINDS = ("xlsx", "xls", "ods", "csv")

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Files people rename to .xlsx by mistake; each is refused as "not a spreadsheet" at once.
_OTHER_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b",
                b"{\\rtf", b"BZh")
# The name of the stream an encrypted .xlsx keeps inside its OLE container, as UTF-16.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")

_HEAD = 64 * 1024           # bytes looked at to tell the kind, the encoding's BOM and the delimiter
_CHUNK = 1024 * 1024        # bytes read at a time when scanning a whole file
_RATIO_FLOOR = 16 * 1024 * 1024  # members smaller than this unpacked cannot hurt, whatever their ratio
_EXACT_FLOAT = 1e15         # Excel keeps 15 significant digits: whole floats below this are exact
_DELIMITERS = ",\t;|"       # in order of preference when two are as likely
# An .xlsx sheet of more cells is parsed in pieces of about this many (≈ 20 MB in calamine):
# a whole sheet of 100,000 rows x 16 columns would take 150 MB at once.
PIECE_CELLS = 200_000
_MIN_PIECE_ROWS = 1000      # however wide the sheet (its width is within Limits.max_columns)
# The first rows are parsed as a piece of their own while the rest of the sheet is unpacked:
# a dry run's first chunk of rows (2,000) is then there in a twentieth of a second, not half a
# second of a 100,000-row sheet.
FIRST_PIECE_ROWS = 2500

# Python's csv refuses fields over 128 KiB with a message that names no cell; raised so an
# over-long cell reaches our own check, which names its row and column. A process-wide cap,
# only ever raised here.
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))

# What the clerk is told. Messages with values are functions, so each value is filled in
# when the message is shown, in the reader's language (and pybabel finds every msgid).
EMPTY_FILE = _l("The file is empty.")
NOT_SPREADSHEET = _l("This file is not a spreadsheet. Upload an Excel workbook (.xlsx or .xls), "
                     "an OpenDocument spreadsheet (.ods) or a CSV file.")
WEB_PAGE = _l("This file is a web page or an XML file with a spreadsheet's name. Open it in Excel "
              "and save it as an Excel workbook (.xlsx), then upload that.")
XLSB = _l("Excel binary workbooks (.xlsb) cannot be imported. Open it in Excel and save it as .xlsx.")
DAMAGED = _l("The file is damaged or incomplete (perhaps the upload was cut off). "
             "Save it again and upload it again.")
NOT_XLS = _l("The file could not be read as an Excel 97-2003 workbook (.xls); it may be damaged "
             "or another kind of document. Open it in Excel and save it as .xlsx.")
ENCRYPTED = _l("The workbook is password-protected or encrypted. Open it in Excel, remove the "
               "password (File > Info > Protect Workbook) and upload it again.")
ENCODING = _l("Could not read the text encoding of the file. Save it as \"CSV UTF-8\" "
              "(or as an Excel workbook) and upload it again.")
GARBLED = _l("The text of the file does not read as Chinese: it may be saved in another encoding, such as "
             "Big5 or Shift-JIS. Save it as \"CSV UTF-8\" (or as an Excel workbook) and upload it again.")
ROUNDED = _l("This number has more than 15 digits and was rounded by Excel; "
             "format the column as text and enter it again.")
# The values Excel (and LibreOffice) show for a formula that failed. calamine reads an error
# cell as empty; an .xlsx's are read as their text (see _SheetPieces), a CSV holds the text.
# LibreOffice shows most as Excel does and the rest as Err:501 … Err:539 (an .ods's are read as
# their text too, see _OdsCensus; an .xls's, see xls_errors.py); a text is looked up only if it
# begins as one (ERROR_STARTS).
EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!",
                          "#SPILL!", "#CALC!", "#GETTING_DATA", *(f"Err:{code}" for code in range(501, 540))})
ERROR_STARTS = "#E"
SCIENTIFIC = _l("This number was saved in scientific notation (such as 1.38E+10) and has lost "
                "its digits; format the column as text and enter it again.")


def formula_error(error: str):
    """What a cell holding the Excel error ``error`` (#N/A, one of :data:`EXCEL_ERRORS`) is told."""
    return _l("The cell holds the formula error %(error)s; correct the formula or type the value in.", error=error)


def _too_large(size: int, limit: int):
    return _l("The file is %(size)s MB; at most %(limit)s MB can be imported.",
              size=_megabytes(size), limit=_megabytes(limit))


def _zip_bomb(size: int):
    return _l("The file unpacks to %(size)s MB, far more than a workbook of its size can hold; "
              "it was refused.", size=_megabytes(size))


def _unpacks_too_large(size: int, limit: int):
    return _l("The file unpacks to %(size)s MB; at most %(limit)s MB can be imported. "
              "Split it into smaller files.", size=_megabytes(size), limit=_megabytes(limit))


def _bad_csv_row(row: int):
    return _l("Row %(row)s of the file could not be read (a stray quote mark or a NUL character?).", row=row)


def _no_sheet(sheet: str):
    return _l("The workbook has no sheet named \"%(sheet)s\".", sheet=sheet)


def _too_many_rows(sheet: str, count: int, limit: int):
    return _l("Sheet \"%(sheet)s\" has %(count)s rows; at most %(limit)s can be imported. "
              "Split it into smaller files.", sheet=sheet, count=count, limit=limit)


def _too_many_merged(sheet: str, limit: int):
    return _l("Sheet \"%(sheet)s\" has more than %(limit)s merged cell ranges. Unmerge its cells "
              "and upload it again.", sheet=sheet, limit=limit)


def _more_rows_than(sheet: str, limit: int):
    return _l("Sheet \"%(sheet)s\" has more than %(limit)s rows. Split it into smaller files.",
              sheet=sheet, limit=limit)


def _too_many_columns(sheet: str, count: int, limit: int):
    return _l("Sheet \"%(sheet)s\" has %(count)s columns; at most %(limit)s can be imported.",
              sheet=sheet, count=count, limit=limit)


def _too_many_cells(sheet: str, count: int, limit: int):
    return _l("Sheet \"%(sheet)s\" has %(count)s cells; at most %(limit)s can be imported. "
              "Split it into smaller files.", sheet=sheet, count=count, limit=limit)


def _cell_too_long(row: int, column: int, count: int, limit: int):
    return _l("Row %(row)s, column %(column)s: the cell holds %(count)s characters; "
              "a cell may hold at most %(limit)s.", row=row, column=column_letter(column),
              count=count, limit=limit)


def _no_header(look: int):
    return _l("No header row was found in the first %(look)s rows: the sheet is empty "
              "or has no row of column titles.", look=look)


class ReadError(Exception):
    """A file or sheet that cannot be read; ``message`` is a lazy sentence for the clerk."""

    def __init__(self, message: Any):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class FileTooLarge(ReadError):
    """The upload is over ``Limits.max_bytes`` (an API answers 413 for this one)."""


class IdentifierRounded(FieldInvalid):
    """A phone, ID or card number that Excel has already rounded or cut; ``message`` says how to fix it.

    A :class:`~portal.fields.validation.FieldInvalid` (so a :class:`ValueError`): the import
    engine reports it on the cell like any other invalid value.
    """


@dataclass(frozen=True)
class Limits:
    """What one upload may hold. The cell budget bounds the memory a sheet takes to load
    (about 95 bytes a filled cell in python-calamine, so 10,000,000 cells is about 1 GB)."""

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 500
    max_cell_chars: int = 32_767
    max_uncompressed_ratio: int = 100           # unpacked / packed size of one zip member
    max_uncompressed_bytes: int = 1_000_000_000  # all members of a zip, unpacked
    max_cells: int = 10_000_000                  # rows x columns of one sheet (xlsx, ods)
    max_merged: int = 100_000                    # merged ranges of one sheet (kept with its batch)


@dataclass
class SheetInfo:
    """A sheet's name and size: rows and columns up to the last filled cell, counted from A1
    (an upper bound where the file declares it: the xlsx ``dimension``, a CSV's line count)."""

    name: str
    rows: int
    columns: int
    hidden: bool = False

    @property
    def has_data(self) -> bool:
        return self.rows > 0 and self.columns > 0


@dataclass
class Parsed:
    """What calamine has parsed of a workbook: ``rows`` in all (sheet rows from the first filled
    one, each time a sheet or a piece of one is loaded) and ``most`` held at once — the memory a
    read takes is about ``most`` rows' cells. CSV files are parsed as they are read: zeros."""

    rows: int = 0
    most: int = 0

    def add(self, sheet) -> None:
        held = sheet.height if sheet.end is not None else 0
        self.rows += held
        self.most = max(self.most, held)


@dataclass
class Workbook:
    """An opened file: its sheets in workbook order and its kind (one of :data:`KINDS`).

    A CSV file is one sheet named after the file. Close it (or use ``with``) to free the
    parsed workbook; :meth:`rows` keeps working on what it has already started.
    """

    sheets: list[SheetInfo]
    kind: str
    _source: Any = field(default=None, repr=False, compare=False)

    def with_data(self) -> Iterator[str]:
        """The names of the sheets with a filled cell: the visible ones, then the hidden ones."""
        for hidden in (False, True):
            for sheet in self.sheets:
                if sheet.hidden == hidden and sheet.has_data:
                    yield sheet.name

    def first_with_data(self) -> str | None:
        """The name of the first visible sheet with a filled cell (else the first hidden one), or None."""
        return next(self.with_data(), None)

    def sheet(self, name: str) -> SheetInfo:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise ReadError(_no_sheet(name))

    def rows(self, sheet: str) -> Iterator[list]:
        """Every row of ``sheet`` from row 1, as lists of cells (see the module's docstring).

        Row ``i`` of the iteration (from 0) is Excel's row ``i + 1`` and cell ``j`` is column
        ``j`` from A, empty rows included, so row and column numbers are the ones the clerk sees.
        The sheet's size is checked against the limits before anything is loaded (raises
        :class:`ReadError` at once); a CSV's rows are checked as they are read, so iterating may
        raise :class:`ReadError` too.
        """
        return self._source.rows(self.sheet(sheet))

    def merged(self, sheet: str) -> list[list[int]]:
        """The merged ranges of ``sheet`` as ``[first row, first column, last row, last
        column]`` (from 0; the first cell holds the value). An .xlsx sheet's XML is scanned for
        them, not parsed; a CSV has none."""
        source = self._source
        return source.merged(self.sheet(sheet)) if hasattr(source, "merged") else []

    @property
    def parsed(self) -> "Parsed":
        """How much of the file the parser has read so far (see :class:`Parsed`)."""
        return getattr(self._source, "parsed", None) or Parsed()

    def head(self, sheet: str, count: int) -> list[list]:
        """The first ``count`` rows of ``sheet``, as :meth:`rows` gives them: for finding the
        header and a sample. An .xlsx sheet is not parsed past them (its size is still checked
        against the limits); other kinds read as :meth:`rows` does."""
        source = self._source
        info = self.sheet(sheet)
        if hasattr(source, "head"):
            return source.head(info, count)
        return list(itertools.islice(source.rows(info), count))

    def close(self) -> None:
        if self._source is not None:
            self._source.close()

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_workbook(path: str | os.PathLike, file_name: str, *, limits: Limits = Limits(),
                  unpacked_before: bool = False) -> Workbook:
    """Open the uploaded file at ``path`` (uploaded as ``file_name``) or raise :class:`ReadError`.

    Checks, in order and before any parser sees the file: its size (:class:`FileTooLarge`), its
    first bytes (the kind), then for zip files the declared and the real unpacked sizes of every
    member (zip bombs, cut-off uploads), for CSV the whole file's encoding.
    ``unpacked_before``: the portal's own copy of a file whose members were all unpacked and
    checked when it was uploaded; an .xlsx's members are then not unpacked again (a tenth of a
    second per 90 MB, before a dry run's first row).
    """
    size = os.path.getsize(path)
    if size == 0:
        raise ReadError(EMPTY_FILE)
    if size > limits.max_bytes:
        raise FileTooLarge(_too_large(size, limits.max_bytes))
    with open(path, "rb") as stream:
        head = stream.read(_HEAD)
    if head.startswith(_ZIP_MAGIC):
        kind, declared, members, merges = _inspect_zip(path, limits, unpack=not unpacked_before)
        return _open_calamine(path, kind, declared, limits, members, merges)
    if head.startswith(_OLE_MAGIC):
        if _holds_encrypted_package(path):
            raise ReadError(ENCRYPTED)
        return _open_calamine(path, "xls", {}, limits)
    if head.startswith(_OTHER_MAGIC):
        raise ReadError(NOT_SPREADSHEET)
    return _open_csv(path, file_name, head, size, limits)


def _megabytes(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return (f"{megabytes:.1f}" if megabytes >= 0.1 else f"{megabytes:.2g}").removesuffix(".0")


def _check_size(sheet: str, rows: int, columns: int, limits: Limits) -> None:
    """A sheet of ``rows`` x ``columns`` (counted from A1) within the limits, or ReadError."""
    if columns > limits.max_columns:
        raise ReadError(_too_many_columns(sheet, columns, limits.max_columns))
    if rows > limits.max_rows:
        raise ReadError(_too_many_rows(sheet, rows, limits.max_rows))
    if rows * columns > limits.max_cells:
        raise ReadError(_too_many_cells(sheet, rows * columns, limits.max_cells))


# --- zip containers (xlsx, ods) -------------------------------------------------------------

def _inspect_zip(path, limits: Limits, unpack: bool = True) -> tuple[str, dict[str, tuple[int, int]], dict[str, str],
                                                                     dict[str, list]]:
    """The kind of a zip file, the sizes its sheets declare, (xlsx) the zip member of each
    sheet and, when unpacked, each sheet's merged ranges (:class:`_MergeScan`), after checking
    that it unpacks to what it says and within the limits.

    The declared sizes are checked first (an honest zip bomb is refused without unpacking a
    byte); then every member is unpacked once, in chunks, by Python's zipfile, which stops at
    the declared size and checks the CRC, so a member that lies about its size is refused as
    damaged before calamine unpacks it. That pass costs about 0.1 s per 90 MB unpacked; without
    ``unpack`` (a file checked so before) an .xlsx sheet's first chunk is read for its size.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ReadError(DAMAGED) from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        names = {m.filename for m in members}
        kind = _zip_kind(archive, names)
        total = sum(m.file_size for m in members)
        if total > limits.max_uncompressed_bytes:
            raise ReadError(_unpacks_too_large(total, limits.max_uncompressed_bytes))
        for member in members:
            if (member.file_size > _RATIO_FLOOR
                    and member.file_size > limits.max_uncompressed_ratio * max(member.compress_size, 1)):
                raise ReadError(_zip_bomb(total))
        parts = _xlsx_sheet_parts(archive, names) if kind == "xlsx" else {}
        declared: dict[str, tuple[int, int]] = {}
        merges: dict[str, list] = {}
        census = _OdsCensus(limits) if kind == "ods" else None
        try:
            for member in members:
                if member.flag_bits & 0x1:
                    raise ReadError(ENCRYPTED)
                sheet = parts.get(member.filename)
                if not unpack and census is None and sheet is None:
                    continue
                scan = _MergeScan(sheet, limits.max_merged) if sheet is not None and unpack else None
                with archive.open(member) as stream:
                    first = True
                    while chunk := stream.read(_CHUNK):
                        if first and sheet is not None:
                            dimension = _dimension(chunk)
                            if dimension:
                                declared[sheet] = dimension
                        if census is not None and member.filename == "content.xml":
                            census.feed(chunk)
                        elif scan is not None:
                            scan.feed(chunk)   # found on this pass, not by unpacking the sheet again
                        elif not unpack:
                            break   # its size is in its first chunk
                        first = False
                if scan is not None:
                    merges[sheet] = scan.ranges
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError):
            raise ReadError(DAMAGED) from None
    return kind, declared, {sheet: member for member, sheet in parts.items()}, merges


def _zip_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        raise ReadError(XLSB)
    if "content.xml" in names:
        mimetype = b""
        if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
            try:
                mimetype = archive.read("mimetype")
            except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, RuntimeError):
                raise ReadError(DAMAGED) from None
        if not mimetype or b"opendocument.spreadsheet" in mimetype:
            return "ods"
    raise ReadError(NOT_SPREADSHEET)   # a .docx, a zipped folder, ...


def _xlsx_sheet_parts(archive: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Zip member -> sheet name, from the workbook and its relationships (empty if unreadable:
    the sizes are then asked of calamine)."""
    try:
        workbook = _small_xml(archive, "xl/workbook.xml")
        rels = _small_xml(archive, "xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else None
    except (ET.ParseError, zipfile.BadZipFile, zlib.error, OSError, NotImplementedError, RuntimeError, ValueError):
        return {}
    if workbook is None or rels is None:
        return {}
    targets = {}
    for rel in rels.iter():
        if rel.tag.rsplit("}", 1)[-1] == "Relationship" and rel.get("Target"):
            target = rel.get("Target").replace("\\", "/")
            target = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            targets[rel.get("Id")] = target
    parts = {}
    for sheet in workbook.iter():
        if sheet.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.rsplit("}", 1)[-1] == "id" and k != "sheetId"), None)
        if rid in targets and sheet.get("name") is not None:
            parts[targets[rid]] = sheet.get("name")
    return parts


def _small_xml(archive: zipfile.ZipFile, name: str):
    if archive.getinfo(name).file_size > 16 * 1024 * 1024:
        return None
    return ET.fromstring(archive.read(name))


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s[^>]*?ref="\$?([A-Za-z]{1,3})\$?(\d{1,7})'
                        rb'(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?"')


def _dimension(head: bytes) -> tuple[int, int] | None:
    """(rows, columns) from A1 to the last cell of an xlsx sheet's ``<dimension ref>``, or None
    when it is missing or a single cell (what writers put on an empty sheet)."""
    match = _DIMENSION.search(head, 0, _HEAD)
    if not match or not match.group(3):
        return None
    return int(match.group(4)), column_number(match.group(3).decode())


class _OdsCensus:
    """Counts the filled cells an .ods ``content.xml`` expands to, as it streams past.

    OpenDocument repeats a row or cell with one attribute, so 900 bytes can stand for a
    billion cells; calamine would expand them all in memory. Empty repeated cells (how
    LibreOffice pads every sheet to its full size) cost nothing and are not counted.
    """

    _TAG = re.compile(rb"<(/?)(?:\w+:)?(table-row|table-cell|covered-table-cell|table)(?=[\s/>])([^>]*)>")
    _REPEAT = re.compile(rb'number-(?:rows|columns)-repeated="(\d+)"')
    _NAME = re.compile(rb'(?:\w+:)?name="([^"]*)"')

    # A cell whose formula failed: LibreOffice writes value-type float (value 0) or string
    # (value "") with calcext:value-type="error", and the text shown (#DIV/0!, Err:502) as its
    # paragraph. calamine reads the value — a 0 that was never there — so the sheet's reading
    # puts the text back (:meth:`_CalamineSource.rows`) and the import names the error.
    _ERROR_TYPE = b'value-type="error"'
    _CELL_END = re.compile(rb"</(?:\w+:)?table-cell>")
    _MARKUP = re.compile(rb"<[^>]*>")
    MAX_ERRORS = 100_000   # error cells kept per sheet (memory); a sheet with more is rare

    def __init__(self, limits: Limits, errors_of: str | None = None):
        self.limits = limits
        self.errors_of = errors_of   # the sheet whose error cells are wanted, if any
        self.errors: dict[tuple[int, int], str] = {}   # (row, column), from 0 → the text shown
        self.buffer = b""
        self.sheet = ""
        self.row = 0           # rows of the sheet so far, repeats counted
        self.last_row = 0      # the last row holding a value
        self.width = 0         # the last column holding a value, over all rows
        self.repeat = 1
        self.column = 0
        self.last_column = 0
        self.row_cells = 0

    def feed(self, chunk: bytes) -> None:
        data = self.buffer + chunk
        end = 0
        for match in self._TAG.finditer(data):
            end = match.end()
            closing, tag, attrs = match.group(1), match.group(2), match.group(3)
            if tag == b"table":
                if not closing:
                    name = self._NAME.search(attrs)
                    self.sheet = name.group(1).decode("utf-8", "replace") if name else ""
                    self.row = self.last_row = self.width = 0
            elif tag == b"table-row":
                if not closing:
                    self.repeat, self.column, self.last_column, self.row_cells = self._repeats(attrs), 0, 0, 0
                if closing or attrs.endswith(b"/"):
                    self._end_row()
            elif not closing:
                count = self._repeats(attrs)
                if self.errors_of == self.sheet and self._ERROR_TYPE in attrs and not attrs.endswith(b"/"):
                    cell_end = self._CELL_END.search(data, end)
                    if cell_end is None:   # its text comes with the next chunk: read the cell then
                        self.buffer = data[match.start():]
                        return
                    self._error(self._MARKUP.sub(b"", data[end:cell_end.start()]).strip(), count)
                self.column += count
                if b"value-type" in attrs:
                    self.row_cells += count
                    self.last_column = self.column
        cut = data.rfind(b"<")
        self.buffer = data[cut:] if cut >= end else b""

    def _repeats(self, attrs: bytes) -> int:
        match = self._REPEAT.search(attrs)
        return int(match.group(1)) if match else 1

    def _error(self, shown: bytes, columns: int) -> None:
        text = shown.decode("utf-8", "replace") or "#VALUE!"
        for row in range(self.row, self.row + min(self.repeat, self.MAX_ERRORS)):
            for column in range(self.column, self.column + min(columns, self.MAX_ERRORS)):
                if len(self.errors) < self.MAX_ERRORS:
                    self.errors[(row, column)] = text

    def _end_row(self) -> None:
        self.row += self.repeat
        if self.row_cells:
            self.last_row = self.row
            self.width = max(self.width, self.last_column)
            _check_size(self.sheet, self.last_row, self.width, self.limits)


def _holds_encrypted_package(path) -> bool:
    """Whether an OLE file is an encrypted Office document (its directory names EncryptedPackage)."""
    tail = b""
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            if _ENCRYPTED_PACKAGE in tail + chunk:
                return True
            tail = chunk[-len(_ENCRYPTED_PACKAGE):]
    return False


# --- calamine (xlsx, xls, ods) --------------------------------------------------------------

def _calamine(call: Callable, failure: Any):
    """``call()``, with calamine's errors (and Rust panics, which are BaseExceptions) as ReadError."""
    try:
        return call()
    except python_calamine.PasswordError:
        raise ReadError(ENCRYPTED) from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
        raise
    except BaseException:   # noqa: B036 - CalamineError, XmlError, ZipError, pyo3 PanicException
        raise ReadError(failure) from None


def _open_calamine(path, kind: str, declared: dict[str, tuple[int, int]], limits: Limits,
                   members: dict[str, str] | None = None, merges: dict[str, list] | None = None) -> Workbook:
    failure = NOT_XLS if kind == "xls" else DAMAGED

    def load():
        if members:   # an .xlsx read in pieces: only its workbook's parts (sheet names, kinds)
            return python_calamine.CalamineWorkbook.from_filelike(_skeleton(path))
        return _whole_workbook(path)

    book = _calamine(load, failure)
    source = _CalamineSource(path, book, failure, limits, members or {})
    source.kind = kind
    source.merges = merges or {}
    sheets = []
    for meta in _calamine(lambda: book.sheets_metadata, failure):
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue   # chart and macro sheets have no cells
        hidden = meta.visible != python_calamine.SheetVisibleEnum.Visible
        size = declared.get(meta.name)
        if size is None:
            size = source.measure(meta.name)
        sheets.append(SheetInfo(meta.name, size[0], size[1], hidden))
    return Workbook(sheets, kind, source)


def _whole_workbook(path):
    with open(path, "rb") as stream:   # calamine copies the file; the handle is not kept
        return python_calamine.CalamineWorkbook.from_filelike(stream)


def _skeleton(path) -> io.BytesIO:
    """The workbook parts of an .xlsx without its sheets and shared strings, as a zip: what
    calamine reads on opening a workbook (it would copy the whole file and parse every shared
    string first)."""
    data = io.BytesIO()
    try:
        with zipfile.ZipFile(path) as archive, zipfile.ZipFile(data, "w", zipfile.ZIP_STORED) as out:
            for name in _xlsx_parts(archive, strings=False):
                out.writestr(name, archive.read(name))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, NotImplementedError, RuntimeError):
        raise ReadError(DAMAGED) from None
    data.seek(0)
    return data


def _xlsx_parts(archive: zipfile.ZipFile, *, strings: bool) -> list[str]:
    """The parts calamine reads besides a sheet: the workbook, its relationships and styles
    (dates), and with ``strings`` the shared strings."""
    found = []
    for member in archive.infolist():
        name = member.filename.lower()
        if name in _PARTS or name.endswith(".rels") or (strings and name.endswith("sharedstrings.xml")):
            found.append(member.filename)
    return found


class _CalamineSource:
    """A calamine workbook and the one sheet loaded last: reading the first rows for the
    header and then all rows parses the sheet once, not twice.

    An .xlsx sheet whose zip member is known is not given to calamine whole: :meth:`head`
    parses only its first rows, and :meth:`rows` parses the sheet in pieces of about
    :data:`PIECE_CELLS` cells (:class:`_SheetPieces`), so memory holds one piece at a time;
    ``book`` then holds only the workbook's parts, and the whole file is opened (``whole``)
    only for a sheet that must be loaded whole (one without a declared size, an odd XML).
    """

    def __init__(self, path, book, failure, limits: Limits, members: dict[str, str]):
        self.path = path
        self.book = book
        self.whole = None if members else book
        self.failure = failure
        self.limits = limits
        self.members = members
        self.loaded: tuple[str, Any] | None = None
        self.pieces: list[_SheetPieces] = []
        self.parsed = Parsed()
        self.merges: dict[str, list] = {}   # sheet → merged ranges, where the check found them
        self.errors: dict[str, dict] = {}   # sheet → its error cells (.ods, .xls: _error_cells)
        self.kind = "xlsx"

    def _whole(self):
        if self.whole is None:
            self.whole = _calamine(lambda: _whole_workbook(self.path), self.failure)
        return self.whole

    def measure(self, name: str) -> tuple[int, int]:
        """The size of a sheet whose file does not declare it; the first one with data is kept
        (it is the one likely read next)."""
        book = self._whole()
        sheet = _calamine(lambda: book.get_sheet_by_name(name), self.failure)
        self.parsed.add(sheet)
        size = _extent(sheet)
        if size[0] and self.loaded is None:
            self.loaded = (name, sheet)
        return size

    def _load(self, name: str):
        if self.loaded is not None and self.loaded[0] == name:
            return self.loaded[1]
        self.loaded = None   # free the last sheet before loading another
        book = self._whole()
        sheet = _calamine(lambda: book.get_sheet_by_name(name), self.failure)
        self.parsed.add(sheet)
        return sheet

    def _split(self, info: SheetInfo) -> "_SheetPieces | None":
        """Pieces of an xlsx sheet not loaded already, or None where the sheet is read whole."""
        member = self.members.get(info.name)
        if member is None or (self.loaded is not None and self.loaded[0] == info.name):
            return None
        pieces = _SheetPieces.open(self.path, member, self.failure)
        if pieces is not None:
            self.pieces.append(pieces)
        return pieces

    def head(self, info: SheetInfo, count: int) -> list[list]:
        _check_size(info.name, info.rows, info.columns, self.limits)   # as declared
        pieces = self._split(info)
        if pieces is None:
            return list(itertools.islice(self.rows(info), count))
        with pieces:
            sheet = pieces.first(info.name, count)
            if sheet is None:
                return []
            self.parsed.add(sheet)
            _check_size(info.name, *_extent(sheet), self.limits)
            return list(itertools.islice(_calamine_rows(sheet, sheet.start[1], self.limits.max_cell_chars), count))

    def rows(self, info: SheetInfo) -> Iterator[list]:
        _check_size(info.name, info.rows, info.columns, self.limits)   # before loading, as declared
        pieces = self._split(info)
        if pieces is not None:
            return self._piece_rows(info, pieces)
        sheet = self._load(info.name)
        self.loaded = (info.name, sheet)
        rows, columns = _extent(sheet)
        _check_size(info.name, rows, columns, self.limits)
        if not rows:
            return iter(())
        # calamine yields every row from row 1 but starts each at the first filled column.
        offset = sheet.start[1]
        rows = _calamine_rows(sheet, offset, self.limits.max_cell_chars)
        errors = self._error_cells(info.name)
        return _with_errors(rows, errors) if errors else rows

    def _error_cells(self, name: str) -> dict[tuple[int, int], str]:
        """An .ods or .xls sheet's error cells, which calamine reads as 0 or empty; found once
        (the header's rows and then all rows are read from the same sheet)."""
        if self.kind not in ("ods", "xls"):
            return {}
        if name not in self.errors:
            self.errors[name] = (_ods_error_cells(self.path, name, self.limits) if self.kind == "ods"
                                 else xls_errors.error_cells(self.path, name))
        return self.errors[name]

    def _piece_rows(self, info: SheetInfo, pieces: "_SheetPieces") -> Iterator[list]:
        per_piece = max(_MIN_PIECE_ROWS, PIECE_CELLS // max(info.columns, 1))
        done = 0   # rows given so far: a piece's rows from row 1 up to them are the earlier pieces'
        with pieces:
            for sheet in pieces.all(per_piece, first=(info.name, min(FIRST_PIECE_ROWS, per_piece))):
                self.parsed.add(sheet)
                rows, columns = _extent(sheet)
                _check_size(info.name, rows, columns, self.limits)
                if rows > done:
                    yield from _calamine_rows(sheet, sheet.start[1], self.limits.max_cell_chars, skip=done)
                    done = rows
                del sheet

    def merged(self, info: SheetInfo) -> list[list[int]]:
        member = self.members.get(info.name)
        if info.name in self.merges:
            ranges = self.merges[info.name]   # found when the file was unpacked and checked
        elif member is not None and not (self.loaded is not None and self.loaded[0] == info.name):
            ranges = _merged_ranges(self.path, member, info.name, self.limits.max_merged)
        else:
            ranges = self._load(info.name).merged_cell_ranges or []
            if len(ranges) > self.limits.max_merged:
                raise ReadError(_too_many_merged(info.name, self.limits.max_merged))
        return [[first[0], first[1], last[0], last[1]] for first, last in ranges]

    def close(self) -> None:
        self.loaded = None
        for pieces in self.pieces:
            pieces.close()
        self.pieces = []
        for book in {id(b): b for b in (self.book, self.whole) if b is not None}.values():
            try:
                book.close()
            except python_calamine.CalamineError:
                pass


def _extent(sheet) -> tuple[int, int]:
    end = sheet.end
    return (0, 0) if end is None else (end[0] + 1, end[1] + 1)


class _MergeScan:
    """The merged ranges an .xlsx sheet lists after its rows, found in its XML as it is
    unpacked, chunk by chunk, without parsing it (a cell's text cannot hold the tag: it would
    be escaped). :attr:`ranges` as calamine gives them: ``((first row, first column), (last
    row, last column))``, from 0."""

    def __init__(self, sheet: str, limit: int):
        self.sheet, self.limit = sheet, limit
        self.ranges: list[tuple[tuple[int, int], tuple[int, int]]] = []
        self.carry = b""

    def feed(self, chunk: bytes) -> None:
        # Most sheets have none: the chunk is searched, not copied (the carry is a tag's start
        # cut by the last chunk's end).
        if b"mergeCell" not in chunk and b"mergeCell" not in self.carry + chunk[:16]:
            self.carry = (self.carry + chunk)[-32:] if len(chunk) < 32 else chunk[-32:]
            return
        text = self.carry + chunk
        end = text.rfind(b"<")   # a tag cut by the chunk's end is read with the next chunk
        if end < 0 or text.find(b">", end) >= 0:
            end = len(text)
        self.ranges += [((int(r1) - 1, _column_index(c1)), (int(r2) - 1, _column_index(c2)))
                        for c1, r1, c2, r2 in _MERGE_CELL.findall(text, 0, end)]
        if len(self.ranges) > self.limit:   # a sheet of nothing but merges would fill the memory
            raise ReadError(_too_many_merged(self.sheet, self.limit))
        self.carry = text[end:]


def _merged_ranges(path, member: str, sheet: str, limit: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The merged ranges of the .xlsx sheet in zip ``member`` (:class:`_MergeScan`)."""
    scan = _MergeScan(sheet, limit)
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                scan.feed(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, NotImplementedError, RuntimeError):
        raise ReadError(DAMAGED) from None
    return scan.ranges


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index - 1


def _ods_error_cells(path, sheet: str, limits: Limits) -> dict[tuple[int, int], str]:
    """The error cells of ``sheet`` of the .ods at ``path``: (row, column) from 0 → the text shown."""
    census = _OdsCensus(limits, errors_of=sheet)
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as stream:
            while chunk := stream.read(_CHUNK):
                census.feed(chunk)
    except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError):
        raise ReadError(DAMAGED) from None
    return census.errors


def _with_errors(rows: Iterator[list], errors: dict[tuple[int, int], str]) -> Iterator[list]:
    """``rows`` with each error cell holding the error's text instead of what calamine read."""
    by_row: dict[int, list[tuple[int, str]]] = {}
    for (row, column), text in errors.items():
        by_row.setdefault(row, []).append((column, text))
    for index, cells in enumerate(rows):
        for column, text in by_row.get(index, ()):
            if column >= len(cells):
                cells.extend([None] * (column + 1 - len(cells)))
            cells[column] = text
        yield cells


def _calamine_rows(sheet, offset: int, max_chars: int, skip: int = 0) -> Iterator[list]:
    pad = [None] * offset
    exact = _EXACT_FLOAT
    for number, row in enumerate(sheet.iter_rows(), 1):
        if number <= skip:
            continue
        cells = pad.copy() if offset else []
        append = cells.append
        for value in row:
            kind = type(value)
            if kind is str:
                if not value:
                    value = None
                elif len(value) > max_chars:
                    raise ReadError(_cell_too_long(number, len(cells), len(value), max_chars))
            elif kind is float:
                if value.is_integer() and -exact < value < exact:
                    value = int(value)
            elif kind is dt.time:
                value = _time_text(value)
            elif kind is dt.timedelta:
                value = _duration_text(value)
            append(value)
        yield cells


# --- xlsx sheets in pieces ------------------------------------------------------------------

_NAME = rb"(?:[A-Za-z_][\w.-]*:)?"
_ROOT_TAG = re.compile(rb"<(" + _NAME + rb"worksheet)[\s>]")
_SHEET_DATA = re.compile(rb"<(" + _NAME + rb")sheetData\b[^>]*?(/?)>")
_DIMENSION_TAG = re.compile(rb"<" + _NAME + rb"dimension\b[^>]*>(?:\s*</" + _NAME + rb"dimension>)?")
_SST_ROOT = re.compile(rb"<(" + _NAME + rb"sst)[\s>]")
_SST_ITEM_END = re.compile(rb"</" + _NAME + rb"si\s*>|<" + _NAME + rb"si\s*/>")
_MERGE_CELL = re.compile(rb"<" + _NAME + rb"mergeCell\b[^>]*?\bref=\"([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)\"")
_DATE1904 = re.compile(rb"<" + _NAME + rb"workbookPr\b[^>]*\bdate1904=\"(?:1|true)\"")
_MAX_PREFIX = 4 * 1024 * 1024   # what may come before <sheetData> (views, columns, ...)
_PARTS = ("[content_types].xml", "xl/workbook.xml", "xl/styles.xml")


class _SheetPieces:
    """An .xlsx sheet's XML cut into pieces of whole rows as it unpacks, written with the parts
    calamine needs (workbook, relationships, styles, shared strings) into an uncompressed .xlsx
    in a temporary file and parsed there — by the very parser that reads a whole sheet, so the
    cells are the same — one piece in memory at a time. :meth:`first` is the first rows alone
    (with only the shared strings they use), :meth:`all` every piece in turn.

    Each piece keeps its rows' own numbers (calamine's rows of a piece start at row 1, the
    earlier rows empty). Whatever follows the rows (merged cells, hyperlinks …) is left out:
    it holds no values.
    """

    def __init__(self, archive: zipfile.ZipFile, stream, member: str, failure, head: bytes, tail: bytes,
                 close_tag: bytes, buffer: bytes, empty: bool):
        self.archive, self.stream, self.member, self.failure = archive, stream, member, failure
        self.head, self.tail, self.close_tag, self.buffer = head, tail, close_tag, buffer
        self.row_end = close_tag.replace(b"sheetData", b"row>")
        self.finished = empty
        self.content = False
        self.parts = _xlsx_parts(archive, strings=True)
        fd, self.temporary = tempfile.mkstemp(prefix="portal-sheet-", suffix=".xlsx")
        os.close(fd)
        self.writing = None   # the thread writing the pieces after the first (:meth:`all`)

    @classmethod
    def open(cls, path, member: str, failure) -> "_SheetPieces | None":
        """The pieces of ``member`` of the xlsx at ``path``, or None when its XML does not have
        the usual shape (the sheet is then read whole)."""
        archive = zipfile.ZipFile(path)
        try:
            stream = archive.open(member)
            buffer = b""
            while (found := _SHEET_DATA.search(buffer)) is None:
                chunk = stream.read(_CHUNK // 4)
                if not chunk or len(buffer) > _MAX_PREFIX:
                    archive.close()
                    return None
                buffer += chunk
            root = _ROOT_TAG.search(buffer, 0, found.start())
            if root is None:
                archive.close()
                return None
            prefix = found.group(1)
            head = _DIMENSION_TAG.sub(b"", buffer[:found.start()])   # the piece's own extent, not the sheet's
            head += b"<" + prefix + b"sheetData>"
            tail = b"</" + prefix + b"sheetData></" + root.group(1) + b">"
            return cls(archive, stream, member, failure, head, tail, b"</" + prefix + b"sheetData",
                       buffer[found.end():], bool(found.group(2)))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, NotImplementedError, RuntimeError):
            archive.close()
            raise ReadError(DAMAGED) from None

    def first(self, sheet: str, rows: int):
        """The calamine sheet of the first ``rows`` rows of the XML (with the shared strings up
        to the last one they use), or None for a sheet without rows."""
        if self.finished:
            return None
        try:
            with zipfile.ZipFile(self.temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
                kept: list[bytes] = []
                with out.open(self.member, "w", force_zip64=True) as piece:
                    piece.write(self.head)
                    count = self._copy_rows(piece, rows, kept)
                    piece.write(self.tail)
                if not count and not self.content:
                    return None
                used = _strings_used(self.head + b"".join(kept) + self.tail)
                for name in self.parts:
                    with self.archive.open(name) as source, out.open(name, "w", force_zip64=True) as target:
                        if name.lower().endswith("sharedstrings.xml"):
                            _copy_strings(source, target, used)
                        else:
                            shutil.copyfileobj(source, target, _CHUNK)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
            raise ReadError(DAMAGED) from None
        book = _calamine(lambda: python_calamine.CalamineWorkbook.from_path(self.temporary), self.failure)
        try:
            return _calamine(lambda: book.get_sheet_by_name(sheet), self.failure)
        finally:
            book.close()

    def all(self, rows: int, first: tuple[str, int] | None = None) -> Iterator:
        """The calamine sheet of each piece of ``rows`` rows, in order. The pieces are written
        first, as the sheets of one temporary workbook with the file's shared strings, so those
        are parsed once for all pieces (once per piece would double a read of Excel's files).
        ``first`` (the sheet's name, a number of rows): those first rows come as a piece of
        their own (:meth:`first`), while the others are written in a thread: a dry run's first
        rows then wait a twentieth of a second, not the whole sheet's unpacking."""
        with ThreadPoolExecutor(1, thread_name_prefix="sheet-piece") as ahead:
            if first is None:
                count = self._write_pieces(rows)
            else:
                sheet = self.first(*first)
                written = self.writing = ahead.submit(self._write_pieces, rows)   # unpacking lets go of the GIL
                if sheet is not None:
                    yield sheet
                    del sheet
                count = written.result()
            book = _calamine(lambda: python_calamine.CalamineWorkbook.from_path(self.temporary), self.failure)

            def parse(number: int):
                return _calamine(lambda: book.get_sheet_by_name(f"piece{number}"), self.failure)

            try:
                # The next piece is parsed in the thread while the caller converts this one's
                # rows: calamine lets go of the GIL while it parses (a tenth of a dry run's time).
                coming = ahead.submit(parse, 1) if count else None
                for number in range(1, count + 1):
                    sheet = coming.result()
                    coming = ahead.submit(parse, number + 1) if number < count else None
                    yield sheet
                    del sheet
            finally:
                book.close()

    def _write_pieces(self, rows: int) -> int:
        """The rest of the sheet as pieces of ``rows`` rows in the temporary workbook; how many."""
        count = 0
        try:
            with zipfile.ZipFile(self.temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
                while not self.finished:
                    with out.open(f"xl/worksheets/piece{count + 1}.xml", "w", force_zip64=True) as piece:
                        piece.write(self.head)
                        copied = self._copy_rows(piece, rows, None)
                        piece.write(self.tail)
                    if not copied and not self.content:
                        break   # nothing after the last piece but white space
                    count += 1
                self._write_parts(out, count)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
            raise ReadError(DAMAGED) from None
        return count

    def _write_parts(self, out: zipfile.ZipFile, count: int) -> None:
        """A workbook of ``count`` piece sheets, with the file's styles (what makes a number a
        date) and shared strings under the names calamine looks for, and its date system."""
        main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        styles = strings = None
        for name in self.parts:
            lower = name.lower()
            if lower == "xl/styles.xml":
                styles = name
            elif lower.endswith("sharedstrings.xml") and strings is None:
                strings = name
        date1904 = _DATE1904.search(self.archive.read("xl/workbook.xml"))
        sheets = "".join(f'<sheet name="piece{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, count + 1))
        out.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" '
                     f'xmlns:r="{rel}"><workbookPr date1904="{1 if date1904 else 0}"/><sheets>{sheets}</sheets>'
                     '</workbook>')
        links = [(f"rId{n}", "worksheet", f"worksheets/piece{n}.xml") for n in range(1, count + 1)]
        for part, kind, target in ((styles, "styles", "styles.xml"), (strings, "sharedStrings", "sharedStrings.xml")):
            if part is not None:
                links.append((f"rId{kind}", kind, target))
                with self.archive.open(part) as source, out.open(f"xl/{target}", "w", force_zip64=True) as copy:
                    shutil.copyfileobj(source, copy, _CHUNK)
        for name, targets in (("_rels/.rels", [("rId1", "officeDocument", "xl/workbook.xml")]),
                              ("xl/_rels/workbook.xml.rels", links)):
            out.writestr(name, '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                         'openxmlformats.org/package/2006/relationships">' + "".join(
                             f'<Relationship Id="{i}" Type="{rel}/{kind}" Target="{target}"/>'
                             for i, kind, target in targets) + "</Relationships>")

    def _copy_rows(self, target, limit: int, kept: list | None) -> int:
        """Copy the sheet's XML to ``target`` up to the end of the ``limit``-th row from here
        (rows counted by their closing tags: empty ``<row/>`` ones come along uncounted) or to
        the end of the rows; the rows counted. Streams: holds a chunk and a tag's length."""
        count = 0
        row_end, close_tag = self.row_end, self.close_tag
        keep = max(len(row_end), len(close_tag)) - 1   # a tag cut off at the end of the buffer

        self.content = False   # copied something other than white space (rows without </row>?)

        def write(part):
            target.write(part)
            if kept is not None:
                kept.append(bytes(part))
            if not self.content and bytes(part).strip():
                self.content = True

        while True:
            buffer = self.buffer
            end = buffer.find(close_tag)
            stop = len(buffer) if end < 0 else end
            cut = at = 0
            while count < limit and (at := buffer.find(row_end, at, stop)) >= 0:
                count += 1
                at += len(row_end)
                cut = at
            if count == limit or end >= 0:
                if count < limit:
                    cut = end
                    self.finished = True
                write(_errors_as_text(buffer, cut))
                self.buffer = buffer[cut:]
                return count
            middle = len(buffer) - keep   # all of it belongs to this piece; cut after a tag
            if middle > cut:
                tag_end = buffer.rfind(b">", cut, middle)
                cut = tag_end + 1 if tag_end >= 0 else middle
            write(_errors_as_text(buffer, cut))
            chunk = self.stream.read(_CHUNK)
            if not chunk:   # no end of the rows: calamine says what is wrong with the XML
                write(memoryview(buffer)[cut:])
                self.finished = True
                self.buffer = b""
                return count
            self.buffer = buffer[cut:] + chunk

    def close(self) -> None:
        self.finished = True   # a writer still unpacking stops after its piece
        if self.writing is not None:
            # Waited for before the file is removed: a read left after its first rows would
            # otherwise have the thread create it again, and leave it behind.
            wait([self.writing])
            self.writing = None
        self.buffer = b""
        self.archive.close()
        try:
            os.unlink(self.temporary)
        except OSError:
            pass

    def __enter__(self) -> "_SheetPieces":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_ERROR_CELL = re.compile(rb"(<" + _NAME + rb"c\s[^>]*?\bt=)\"e\"")


def _errors_as_text(buffer: bytes, cut: int):
    """``buffer[:cut]`` with its error cells (``t="e"``, cached value #N/A, #DIV/0! …) made
    formula-string cells, so calamine gives their text, not an empty cell: the import then
    names the error on its cell. A part without a "#" (Excel keeps text in its shared strings,
    so nearly every part) is neither searched further nor copied: one memchr."""
    if buffer.find(b"#", 0, cut) < 0 or buffer.find(b't="e"', 0, cut) < 0:
        return memoryview(buffer)[:cut]
    return _ERROR_CELL.sub(rb'\1"str"', buffer[:cut])


def _strings_used(xml: bytes) -> int:
    """How many shared strings a piece of sheet XML needs: one past the highest index it uses."""
    if b'"s"' not in xml and b"'s'" not in xml:
        return 0   # no cell of type s (inline strings, as big exports write): nothing to parse
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return 1 << 62   # calamine will say what is wrong; all the strings, meanwhile
    highest = -1
    for cell in root.iter():
        if cell.tag.rsplit("}", 1)[-1] == "c" and cell.get("t") == "s":
            for value in cell:
                if value.tag.rsplit("}", 1)[-1] == "v" and (value.text or "").strip().isdigit():
                    highest = max(highest, int(value.text))
    return highest + 1


def _copy_strings(source, target, count: int) -> None:
    """The shared strings part with only its first ``count`` strings."""
    buffer, seen, root = b"", 0, None
    while True:
        chunk = source.read(_CHUNK // 4)
        if not chunk:
            target.write(buffer)   # fewer strings than asked: all of them, as they are
            return
        buffer += chunk
        if root is None:
            found = _SST_ROOT.search(buffer)
            if found is None:
                continue
            root = found.group(1)
            if count == 0:
                close = buffer.find(b">", found.end() - 1)
                if close < 0:
                    root = None
                    continue
                head = buffer[:close + 1]
                if head.endswith(b"/>"):
                    target.write(head)
                else:
                    target.write(head + b"</" + root + b">")
                return
        cut = 0
        for match in _SST_ITEM_END.finditer(buffer):
            seen += 1
            cut = match.end()
            if seen == count:
                target.write(buffer[:cut] + b"</" + root + b">")
                return
        target.write(buffer[:cut])
        buffer = buffer[cut:]


# --- CSV ------------------------------------------------------------------------------------

def _open_csv(path, file_name: str, head: bytes, size: int, limits: Limits) -> Workbook:
    """A text file as a one-sheet workbook, after finding its encoding (BOM, else strict UTF-8
    over the whole file, else GB18030, what Chinese Excel saves "CSV" in) and its delimiter."""
    if head.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        if b"\x00" in head:
            raise ReadError(NOT_SPREADSHEET)
        if head.lstrip(b" \t\r\n").startswith(b"<"):
            raise ReadError(WEB_PAGE)
        candidates = ("utf-8", "gb18030")
    encoding, lines = next(((e, n) for e in candidates if (n := _line_count(path, e)) is not None), (None, 0))
    if encoding is None:
        raise ReadError(ENCODING)
    sample = codecs.getincrementaldecoder(encoding)().decode(head, final=size <= _HEAD)
    if size > _HEAD and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]   # whole lines only
    text = sample.lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        raise ReadError(WEB_PAGE)
    if encoding == "gb18030" and _garbled(sample):
        raise ReadError(GARBLED)
    if _looks_binary(text):
        raise ReadError(NOT_SPREADSHEET)
    delimiter = _delimiter(sample)
    columns = max(map(len, _sample_rows(sample, delimiter, limit=10_000)), default=0)
    if not text.strip():
        lines = columns = 0
    name = PurePosixPath(file_name.replace("\\", "/")).stem or "Sheet1"
    return Workbook([SheetInfo(name, lines, columns)], "csv", _CsvSource(path, encoding, delimiter, limits))


def _line_count(path, encoding: str) -> int | None:
    """Lines of the file decoded strictly as ``encoding`` (an upper bound of its CSV rows),
    or None when it is not valid in that encoding."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = 0
    last = ""
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                text = decoder.decode(chunk)
                lines += text.count("\n")
                last = text[-1:] or last
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return lines + (1 if last and last != "\n" else 0)


_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def _garbled(text: str) -> bool:
    """Whether text decoded as GB18030 is another encoding's bytes read wrongly: Big5 gives
    private-use characters (GBK's user-defined areas), Shift-JIS rare characters — Chinese
    written in GB18030 is mostly GB2312's common ones (traditional characters about a third)."""
    if text.isascii():
        return False
    foreign = len(text) - len(text.encode("ascii", "ignore"))
    private = len(_PRIVATE_USE.findall(text))
    # Characters GB2312 has no code for, each one "?" in its encoding.
    rare = text.encode("gb2312", "replace").count(b"?") - text.count("?")
    return 20 * private > foreign or (rare >= 3 and 2 * rare > foreign)


def _looks_binary(text: str) -> bool:
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\f\v")
    return controls > max(2, len(text) // 100)


def _delimiter(sample: str) -> str:
    """The delimiter of a CSV sample among , TAB ; | — csv.Sniffer's guess when it splits the
    sample into rows of more than one cell, else the most frequent of them."""
    try:
        guess = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        guess = None
    if guess and any(len(row) > 1 for row in _sample_rows(sample, guess)):
        return guess
    counts = {d: sample.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _sample_rows(sample: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    try:
        reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
        return [row for _, row in zip(range(limit), reader)]
    except csv.Error:
        return []


class _CsvSource:
    def __init__(self, path, encoding: str, delimiter: str, limits: Limits):
        self.path = path
        self.encoding = encoding
        self.delimiter = delimiter
        self.limits = limits

    def rows(self, info: SheetInfo) -> Iterator[list]:
        return self._rows(info.name)

    def _rows(self, sheet: str) -> Iterator[list]:
        limits = self.limits
        number = 0
        with open(self.path, "rb") as raw, io.TextIOWrapper(raw, encoding=self.encoding, newline="") as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except (csv.Error, UnicodeDecodeError):
                    raise ReadError(_bad_csv_row(number + 1)) from None
                number += 1
                if number > limits.max_rows:
                    raise ReadError(_more_rows_than(sheet, limits.max_rows))
                if len(record) > limits.max_columns:
                    raise ReadError(_too_many_columns(sheet, len(record), limits.max_columns))
                cells = []
                for value in record:
                    if not value:
                        value = None
                    elif len(value) > limits.max_cell_chars:
                        raise ReadError(_cell_too_long(number, len(cells), len(value), limits.max_cell_chars))
                    cells.append(value)
                yield cells

    def close(self) -> None:
        pass


# --- header and data rows -------------------------------------------------------------------

_NUMBER_TEXT = re.compile(r"^[+-]?[\d,.\s]+%?$")
_DATE_TEXT = re.compile(r"^\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日号]?([\s(（].*)?$")
_LABEL_NOISE = re.compile(r"[\s\u3000:：()（）\[\]【】]+")
# A totals row's label: the word, then perhaps a count and its unit (合计：2家, 合计（2家）,
# Total (3 rows)), once spaces, colons and brackets are dropped — not 合计科技有限公司.
_TOTAL_LABEL = re.compile(r"(?:总合计|合计|合計|总计|總計|小计|小計|共计|共計|总数|總數|累计|累計"
                          r"|grandtotal|subtotal|totals?|sum)"
                          r"(?:金额|数量|人数|户数|家数)?"
                          r"(?:[\d,.]+(?:家|户|戶|个|個|位|名|人|条|條|笔|筆|项|項|行|份|张|張|单|單"
                          r"|rows?|records?|customers?|companies|contacts?|items?|entries)?)?", re.IGNORECASE)
_TOTAL_FIRST = frozenset("合总總小共累GgSsTt")   # what a totals label starts with: a cheap test first
# A line under a list: who made it, checked it, when, a note — a word and a colon (制表人：张三,
# 注：以上数据截至3月1日, 打印日期: 2026-03-01).
_FOOTER_LABEL = re.compile(r"(?:制表人?|制单人?|填表人?|填报人?|审核人?|审批人?|复核人?|核对人?|经办人|负责人"
                           r"|注|备注|附注|说明|打印人|打印日期|打印时间|打印|日期|填表日期|填报日期|统计日期"
                           r"|截至日期|截止日期|数据来源|来源|单位|prepared\s*by|checked\s*by|approved\s*by"
                           r"|notes?|remarks?|printed(?:\s*on)?|date|source)\s*\d*\s*[:：]", re.IGNORECASE)
_FOOTER_FIRST = frozenset("制填审复核经负注备附说打日统截数来单PpCcAaNnRrDdSs")


def find_header(rows: list[list], score: Callable[[str], bool], *, look: int = 30) -> int:
    """The index (from 0) of the header row among the first ``look`` rows.

    The row with the most cells ``score`` recognises as a known field header wins (the first of
    equals). When no cell is recognised: the first row with at least two filled cells, most of
    them text rather than numbers or dates — a merged title row above the header has one. Raises
    :class:`ReadError` when there is neither.
    """
    head = rows[:look]
    best, best_count = None, 0
    for index, row in enumerate(head):
        count = sum(1 for cell in row if (text := cell_text(cell)) and score(text))
        if count > best_count:
            best, best_count = index, count
    if best is not None:
        return best
    for index, row in enumerate(head):
        filled = [cell for cell in row if cell_text(cell)]
        if len(filled) >= 2 and 2 * sum(1 for cell in filled if _is_text(cell)) > len(filled):
            return index
    raise ReadError(_no_header(look))


def _is_text(cell) -> bool:
    if not isinstance(cell, str):
        return False
    text = unicodedata.normalize("NFKC", cell).strip()
    return not (_NUMBER_TEXT.match(text) or _DATE_TEXT.match(text))


def data_rows(rows: Iterable[list], header_index: int, width: int,
              merged: Iterable[list[int]] = ()) -> Iterator[tuple[int, list]]:
    """``(Excel row number, cells)`` for each data row after the header.

    ``rows`` are the sheet's rows from row 1 (as :meth:`Workbook.rows` gives them) and
    ``header_index`` the header's index among them (:func:`find_header`). Cells are padded
    with None or cut to ``width``. Empty rows are skipped (their numbers too; a row of nothing
    but Excel errors is empty). A totals row at the end — its first filled cell is
    合计/总计/小计/Total/Sum..., perhaps with a count (合计：2家, 合计（2家）), or such a label
    with only numbers beside it — is dropped, and so are the footer lines after it (a row of
    one cell, or one starting 制表人：/注：/备注：/打印日期: …; those lines at the end are dropped
    without a totals row too). A totals-like or footer-like row followed by data is data.

    ``merged`` (:meth:`Workbook.merged`), below the header: a cell merged down over several
    rows (a region or a salesperson beside each of their customers) is given to each of those
    rows, as the clerk sees it (only its first row holds the value in the file); a row whose
    one filled cell is merged across most of the columns (a note under the list, a
    section's title) is not a record and is passed over like an empty row.
    """
    numbered = _data_rows(rows, header_index, width)
    starts: dict[int, list[tuple[int, int]]] = {}
    across: set[tuple[int, int]] = set()
    for first_row, column, last_row, last_column in merged:
        if first_row <= header_index or column >= width:
            continue
        if last_row > first_row:
            starts.setdefault(first_row + 1, []).append((column, last_row + 1))   # Excel's row numbers
        if last_column > column and 2 * (last_column - column + 1) > width:   # across most of the list
            across.add((first_row + 1, column))
    return _merged_rows(numbered, starts, across) if starts or across else numbered


def _merged_rows(numbered: Iterator[tuple[int, list]], starts: dict, across: set) -> Iterator[tuple[int, list]]:
    filling: dict[int, tuple[Any, int]] = {}   # column → (the merged cell's value, its last row)
    for number, cells in numbered:
        if across:
            filled = [i for i, cell in enumerate(cells) if cell is not None]
            if len(filled) == 1 and (number, filled[0]) in across:
                continue
        for column, last in starts.get(number, ()):
            filling[column] = (cells[column], last)
        for column, (value, last) in list(filling.items()):
            if number > last:
                del filling[column]
            elif cells[column] is None:
                cells[column] = value
        yield number, cells


def _data_rows(rows: Iterable[list], header_index: int, width: int) -> Iterator[tuple[int, list]]:
    # The rows from a totals row or a footer line on are held back: dropped if nothing but
    # totals and footer lines follow them to the end, given as data at the first row that is
    # neither (a 小计 between groups, a customer named 合计 ...).
    held: list[tuple[int, list]] = []
    totals = False   # the held rows hold a totals row: a line of one cell after it is a footer
    for number, row in enumerate(rows, 1):
        if number <= header_index + 1 or _is_empty(row):
            continue
        cells = list(row[:width])
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        if held:
            if _is_totals(row):
                totals = True
            elif not (_is_footer(row) or (totals and _filled(row) == 1)):
                yield from held
                held, totals = [], False
                yield number, cells
                continue
            held.append((number, cells))
        elif _is_totals(row):
            held, totals = [(number, cells)], True
        elif _is_footer(row):
            held = [(number, cells)]
        else:
            yield number, cells


def _is_empty(row: list) -> bool:
    """No cell filled: None, blank text, or an Excel error (a formula filled down past the list)."""
    return all(cell is None or (cell.__class__ is str and (not cell.strip() or (cell[0] in ERROR_STARTS and cell in EXCEL_ERRORS)))
               for cell in row)


def _filled(row: list) -> int:
    return sum(1 for cell in row if not (cell is None or (isinstance(cell, str) and not cell.strip())))


def _is_totals(row: list) -> bool:
    """Whether the first filled cell is a totals label (合计, 合计：2家, Total), or the row is
    such a label among numbers. Returns at the first cell that is neither (the first cell of
    an ordinary row)."""
    word = first = False
    for cell in row:
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        if _is_total_word(cell):
            if not first:
                return True
            word = True
        elif not _is_number(cell):
            return False
        first = True
    return word


def _is_total_word(cell) -> bool:
    if not isinstance(cell, str):
        return False
    text = cell.lstrip()
    return text[:1] in _TOTAL_FIRST and _TOTAL_LABEL.fullmatch(_LABEL_NOISE.sub("", text)) is not None


def _is_footer(row: list) -> bool:
    """Whether the row is a line under a list: its first filled cell a word and a colon (制表人：
    张三, 注：…, 打印日期: …)."""
    for cell in row:
        if cell is None:
            continue
        if cell.__class__ is not str:
            return False
        text = cell.lstrip()
        if text:
            return text[0] in _FOOTER_FIRST and _FOOTER_LABEL.match(text) is not None
    return False


def _is_number(cell) -> bool:
    if isinstance(cell, bool):
        return False
    if isinstance(cell, (int, float)):
        return True
    return isinstance(cell, str) and bool(_NUMBER_TEXT.match(unicodedata.normalize("NFKC", cell).strip()))


# --- cell text ------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^[+-]?\d(?:\.\d+)?[eE]\+?\d+$")
_WHOLE_WITH_ZEROS = re.compile(r"^(\d+)\.0+$")


def cell_text(value: Any) -> str:
    """The text a cell shows: '' for None, whole numbers without '.0', other floats to 15
    significant digits as Excel shows them, dates ``2026-03-02``, datetimes
    ``2026-03-02 14:30``, bools 是 / 否; surrounding spaces (full-width ones too) and invisible
    characters (a zero-width space, a byte-order mark: validation.INVISIBLE) stripped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip(BLANK)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_FLOAT:
            return str(int(value))
        return format(value, ".15g").replace("e", "E")
    if isinstance(value, dt.datetime):
        if value.second or value.microsecond:
            return value.isoformat(sep=" ", timespec="seconds")
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return _time_text(value)
    if isinstance(value, dt.timedelta):
        return _duration_text(value)
    return str(value).strip()


def identifier_text(value: Any) -> str:
    """A phone, ID or card number as text: ``13812345678.0`` -> ``'13812345678'``.

    Raises :class:`IdentifierRounded` for a number of more than 15 digits (Excel stored it as a
    float and has rounded it: 6222021234567890123 comes back as 6.22202E+18) and for text in
    scientific notation (a CSV saved from a column too narrow to show the digits).
    """
    if isinstance(value, float):
        if value.is_integer():
            if abs(value) >= _EXACT_FLOAT:
                raise IdentifierRounded(ROUNDED)
            return str(int(value))
        return cell_text(value)
    text = cell_text(value)
    if isinstance(value, str):
        half = unicodedata.normalize("NFKC", text)
        if _SCIENTIFIC.match(half):
            raise IdentifierRounded(SCIENTIFIC)
        whole = _WHOLE_WITH_ZEROS.match(half)
        if whole:
            return whole.group(1)
    return text


def _time_text(value: dt.time) -> str:
    return value.isoformat(timespec="seconds" if value.second else "minutes")


def _duration_text(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def column_letter(index: int) -> str:
    """Excel's letters for the column at ``index`` from 0: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """The column count up to and including ``letters``: A -> 1, Z -> 26, AA -> 27."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number
