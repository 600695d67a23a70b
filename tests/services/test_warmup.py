"""A serving process's start (wsgi.py): pypinyin's dictionaries loaded, then everything loaded
frozen out of the cyclic garbage collector, whose full passes over them cost an import's commit
0.17 s each (bench/RESULTS.md)."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from portal.services import pinyin
from portal.warmup import warm_up


def test_warm_up_loads_the_dictionaries_and_freezes_what_is_loaded():
    gc.unfreeze()   # whatever an earlier test froze: the count is then warm_up's own
    try:
        warm_up()
        assert pinyin._read is not None
        assert gc.get_freeze_count() > 100_000   # the dictionaries and the app, not a few objects
    finally:
        gc.unfreeze()   # the test process's later objects are collected as usual


def test_the_served_app_is_warmed_up_at_start(app):
    code = "import gc, wsgi; from portal.services import pinyin; print(gc.get_freeze_count(), pinyin._read is not None)"
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}   # the tests' database
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                         cwd=Path(__file__).resolve().parents[2], env=env)
    frozen, loaded = out.stdout.split()
    assert int(frozen) > 100_000 and loaded == "True"
