"""The error cells of an .xls sheet (#DIV/0!, #N/A …), which calamine reads as empty.

A formula that failed, or an error typed as a value, is kept in the sheet's BIFF records: a
BOOLERR record with its error flag set, or a FORMULA record whose cached result is an error.
Finding where they are takes xlrd's whole parse of the sheet (seconds and a hundred MB for
65,536 rows), so the workbook's stream is first searched for such records with two byte
patterns: a file without them, nearly every one, costs two byte searches (0.1 s for 27 MB, a
fifth of calamine's reading). A pattern may also match other bytes; xlrd's parse then finds
nothing, which is the right answer.
"""
from __future__ import annotations

import re

import xlrd
from xlrd.compdoc import CompDoc

# BOOLERR: id 0x0205, length 8; row, column, format (2 bytes each), the value, 1 = an error.
_BOOLERR = rb"\x05\x02\x08\x00.{7}\x01"
# FORMULA: id 0x0006, its length, row, column, format; the cached result's 8 bytes: type 2
# (an error) in the first, 0xFFFF in the last two (a number otherwise).
_FORMULA = rb"\x06\x00...{6}\x02.{5}\xff\xff"
# Searched one after the other: as one alternation the search is eight times slower.
_MAY_HOLD_ERRORS = (re.compile(_BOOLERR, re.DOTALL), re.compile(_FORMULA, re.DOTALL))
_STREAMS = ("Workbook", "Book", "WORKBOOK", "BOOK")


def error_cells(path, sheet: str) -> dict[tuple[int, int], str]:
    """(row, column) from 0 → the error's text (#DIV/0!), for ``sheet`` of the .xls at ``path``.
    A file calamine read but xlrd cannot keeps calamine's reading: no error cells."""
    with open(path, "rb") as stream:
        data = stream.read()
    records = _workbook_stream(data)
    if not any(pattern.search(records) for pattern in _MAY_HOLD_ERRORS):
        return {}
    # Whatever xlrd's parser of the old binary format raises (XLRDError, struct.error, an
    # assertion …), calamine has read the file: its reading stands.
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=_Quiet())
    except Exception:
        return {}
    try:
        found = book.sheet_by_name(sheet)
        errors = {}
        for row in range(found.nrows):
            types = found.row_types(row)
            if xlrd.XL_CELL_ERROR not in types:
                continue
            for column, kind in enumerate(types):
                if kind == xlrd.XL_CELL_ERROR:
                    code = found.cell_value(row, column)
                    errors[(row, column)] = xlrd.error_text_from_code.get(code, "#VALUE!")
        return errors
    except Exception:
        return {}
    finally:
        book.release_resources()


def _workbook_stream(data: bytes) -> bytes:
    """The workbook's stream out of the compound file (its sectors need not lie in order); the
    whole file when it is not one (an old BIFF file is the stream itself)."""
    try:
        document = CompDoc(data, logfile=_Quiet())
        for name in _STREAMS:
            stream = document.get_named_stream(name)
            if stream is not None:
                return stream
    except Exception:   # not a compound file: an old BIFF file is the stream itself
        pass
    return data


class _Quiet:
    """xlrd's log (it writes warnings about odd records to stdout otherwise)."""

    def write(self, text: str) -> None:
        pass
