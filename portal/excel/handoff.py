"""Python's lock handed over sooner while an import's writing thread waits on the database.

A commit's writing thread sends a statement, waits for the server (without the lock), and
then needs the lock back for a moment before it sends the next one — while the building thread
holds it for up to the interpreter's switch interval (5 ms) before letting go. Several such
waits per chunk left PostgreSQL idle for 0.6 s of a 100,000-row commit of new rows and 1.0 s
of one of updates (A/B at 0.5 ms, bench/RESULTS.md). The interval is lowered only while a
commit's writing thread runs, and restored when the last such commit is done: it is one
setting for the whole process. Not in the dry run: its writing thread sends a statement per
chunk of 2,000 judged rows, and there the lower interval only added switches (SQLite's
100,000 updates: 0.1-0.2 s slower).
"""
from __future__ import annotations

import contextlib
import sys
import threading

INTERVAL = 0.0005   # seconds

_lock = threading.Lock()
_users = 0
_saved = 0.0


@contextlib.contextmanager
def quick():
    """While in this block (in any thread), the switch interval is at most INTERVAL."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved, INTERVAL))
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                sys.setswitchinterval(_saved)
