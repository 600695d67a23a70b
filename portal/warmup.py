"""What a serving process does once at start, before its first request (wsgi.py; the import
benchmark does the same, so that it measures the process that serves)."""
import gc

from portal.services import pinyin


def warm_up() -> None:
    """Load what the first requests would otherwise wait for, then freeze what is loaded."""
    pinyin.warm()
    # The app's own objects live as long as the process: freeze them out of the cyclic garbage
    # collector, whose full passes otherwise add ~150 ms to one request in a hundred, and
    # 0.17 s five times to a 100,000-row import's commit (bench/RESULTS.md). Forked processes
    # (the dry run's second one) then do not touch these objects' pages when they collect.
    gc.freeze()
