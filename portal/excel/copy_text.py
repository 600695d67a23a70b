"""PostgreSQL ``COPY … FROM STDIN`` data formatted in the thread that builds the rows.

An import's statements run in a second thread while this one builds the next chunk
(bulk.WriteBehind, staged_insert.py). Formatting a COPY's rows as it is sent (psycopg's
``write_row``, the JSON documents serialised on the way) is Python in that thread: it waits
for this thread's lock, and the server waits for it — 1.5 s of a 100,000-row PostgreSQL
commit in which the server had nothing to do (py-spy, bench/RESULTS.md). Formatted here, the
writing thread only hands bytes to libpq.

The formatting is psycopg's own (its COPY text formatter and the dumpers of the adapters the
engine's connections are made with: SQLAlchemy's JSON serialiser included), so the bytes are
those ``write_row`` would send; tests/excel/test_copy_text.py compares them with a live
connection's. Strings are encoded as UTF-8 (no connection is asked while the other thread
uses it); a connection with another client encoding gets the text re-encoded.
"""
from __future__ import annotations

import codecs

ENCODING = "utf-8"


def formatter(dialect):
    """A COPY text formatter with the dialect's adapters, or None where there is none (SQLite,
    another psycopg): the caller then keeps the rows and lets psycopg format them."""
    if dialect.name != "postgresql":
        return None   # psycopg not even imported: 10 MB of a SQLite import's 300
    try:   # where psycopg's Copy takes its formatter from (psycopg 3.2 and later)
        from psycopg import adapt
        from psycopg._copy_base import TextFormatter
    except ImportError:   # pragma: no cover - another psycopg: rows are formatted as they are sent
        return None
    adapters = getattr(dialect, "_psycopg_adapters_map", None)   # what connect() is given
    if adapters is None:
        return None
    return TextFormatter(adapt.Transformer(adapters), encoding=ENCODING)


class Rows:
    """Rows formatted as COPY text as they are added."""

    def __init__(self, text_formatter):
        self.formatter = text_formatter
        self.parts: list = []
        self.count = 0

    def add(self, rows) -> None:
        write_row, parts = self.formatter.write_row, self.parts
        count = 0
        for row in rows:
            count += 1
            if data := write_row(row):
                parts.append(data)
        self.count += count

    def data(self, dbapi_connection) -> bytes:
        """Every row's text, in the connection's client encoding."""
        if tail := self.formatter.end():
            self.parts.append(tail)
        data = b"".join(self.parts)
        self.parts = [data]
        encoding = dbapi_connection.info.encoding
        if codecs.lookup(encoding).name != codecs.lookup(ENCODING).name:
            data = data.decode(ENCODING).encode(encoding)
        return data

    def __len__(self) -> int:
        return self.count
