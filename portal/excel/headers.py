"""A list's header that takes two rows: a group's name merged across the columns it heads.

Chinese archive lists often group their columns under a second header row::

    | 客户名称 | 手机 |       联系人        |        (客户名称 and 手机 merged down both rows)
    |          |      | 姓名 | 手机 | 职务  |

or ``基本信息`` over the card's columns beside ``联系人`` over the contact's. Read as one row,
either header loses something: the upper one has no names for the grouped columns, the lower
one takes 联系人's 手机 for the customer's. :func:`header_cells` reads such a pair as one header
whose grouped columns are named ``联系人 / 姓名`` (which the mapping matches as 联系人姓名, the
first contact's name, and, where the pair names no field, by the lower name alone).

Only merged ranges tell a group row from a title or a note above the header, so a CSV or an
.ods header is always one row.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Callable

from .reader import cell_text

GROUP_SEPARATOR = " / "


def header_cells(rows: list[list], index: int, merged: list[list[int]],
                 recognised: Callable[[str], bool]) -> tuple[list[str], int]:
    """The column headers of the header found at ``rows[index]``, and the index of its last row
    (the data begin after it).

    The header is two rows when ``index`` or the row above it is a group row: merged ranges
    within that row, across two or more columns, each with names in the row below; not a lone
    title merged across most of the list; and either some column's name is merged down both
    rows, or a group's name read with a name below it names a field (联系人 + 姓名) — a title
    beside a date above the header does neither. ``merged``: ``[first row, first column, last
    row, last column]`` from 0, as :meth:`reader.Workbook.merged` gives them.
    """
    for group in (index, index - 1):
        headers = _grouped(rows, group, merged, recognised)
        if headers is not None:
            return headers, group + 1
    return _texts(rows[index]), index


def _grouped(rows: list[list], group: int, merged: list[list[int]],
             recognised: Callable[[str], bool]) -> list[str] | None:
    if group < 0 or group + 1 >= len(rows):
        return None
    top, below = _texts(rows[group]), _texts(rows[group + 1])
    width = max(len(top), len(below))
    top += [""] * (width - len(top))
    below += [""] * (width - len(below))
    spans = [(first, min(last, width - 1)) for row, first, last_row, last in merged
             if row == last_row == group and first < last and first < width and top[first]
             and any(below[first:last + 1])]
    if not spans:
        return None
    filled = [column for column in range(width) if top[column]]
    if len(filled) == 1 and any(2 * (last - first + 1) > width for first, last in spans):
        return None   # a title across the list above its one-row header
    parent = list(top)
    for first, last in spans:
        parent[first:last + 1] = [top[first]] * (last - first + 1)
    down = any(row == group < last_row and first < width for row, first, last_row, _ in merged)
    named = any(below[column] and recognised(parent[column] + below[column])
                for first, last in spans for column in range(first, last + 1))
    if not (down or named):
        return None
    return [GROUP_SEPARATOR.join(dict.fromkeys(part for part in (parent[column], below[column]) if part))
            for column in range(width)]


def _texts(row: list) -> list[str]:
    return [cell_text(cell) for cell in row]


def grouped_name(header: str) -> tuple[str, str] | None:
    """The group and the name under it in a grouped header (``基本信息 / 客户名称`` →
    (基本信息, 客户名称)), else None."""
    group, separator, name = str(header or "").rpartition(GROUP_SEPARATOR)
    return (group, name) if separator and group else None


# A money column's unit in brackets after its name: 注册资本(万元), 销售额（单位：亿元）, 金额[元].
_UNIT = re.compile(r"^(.*?)\s*[(（\[【]\s*(?:单位\s*[:：]?\s*)?(千|万|百万|千万|亿)?\s*元\s*(?:人民币)?\s*[)）\]】]\s*\*?$")
_UNIT_SIZES = {None: Decimal(1), "千": Decimal(10) ** 3, "万": Decimal(10) ** 4, "百万": Decimal(10) ** 6,
               "千万": Decimal(10) ** 7, "亿": Decimal(10) ** 8}


def header_unit(header: str) -> tuple[str, Decimal] | None:
    """The name before a header's unit and the yuan the unit counts (``注册资本(万元)`` →
    (注册资本, 10000)), else None."""
    match = _UNIT.match(str(header or "").strip())
    if not match or not match.group(1):
        return None
    return match.group(1), _UNIT_SIZES[match.group(2)]


def header_units(headers: list[str]) -> dict[str, str]:
    """Column index (as text) → the yuan its header's unit counts, for the headers whose unit
    is not the yuan itself (the mapping step says a number column is multiplied)."""
    return {str(index): str(unit[1]) for index, header in enumerate(headers)
            if (unit := header_unit(header)) is not None and unit[1] != 1}
