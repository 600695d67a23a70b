"""Export speed (issue 5): 100,000 customers × every column to .xlsx through the portal, against
bare xlsxwriter ``constant_memory`` writing the same values (the floor); and 1,000,000 rows to
CSV streamed in flat memory.

    BENCH_OUT=$PWD/bench/out/export .venv/bin/python bench/generate_customers.py --customers 100000
    BENCH_OUT=$PWD/bench/out/export .venv/bin/python bench/export_speed.py
    # the 1,000,000-row CSV from a database too (else from generated rows only):
    BENCH_OUT=$PWD/bench/out/export1m .venv/bin/python bench/generate_customers.py --customers 1000000
    BENCH_OUT=$PWD/bench/out/export .venv/bin/python bench/export_speed.py \\
        --csv-db-url sqlite:///$PWD/bench/out/export1m/bench_grid.db

What is timed, in the same process, rounds interleaved (floor, writer, portal, floor, …), the
median of ``--rounds`` (3) reported with wall-clock and CPU seconds (the machine is shared;
CPU time is the steadier of the two):

* **floor** — bare xlsxwriter (``constant_memory``, the same options the portal uses) writing
  the exact values the portal writes: for each column the one ``write_*`` its type needs
  (string, number, datetime with a date format, boolean), nothing else — no neutralising,
  no checks, no styling beyond the date formats. The values are read from the database once,
  before timing, and held in a list;
* **writer** — :func:`portal.excel.export.write_table` over the same list: the portal's writer
  alone (typed cells, neutralised text, styled frozen header, autofilter, widths);
* **portal** — ``GET /api/v1/grid/customer/export?format=xlsx&columns=<all 81>`` as the
  custodian through the Flask test client: permission check, export limits, the COUNT-free
  scoped query, reading the rows from the database with their labels (portal.excel.records),
  writing, the access-log entry, and the response streamed out of its temp file.

The goal is portal ≤ 1.3 × floor. The CSV runs are each in a child process that reports its
peak RSS from ``resource.getrusage`` (goal ≤ 300 MB): write_table over 1,000,000 generated
customer-like rows, and (with ``--csv-db-url``) the same grid export as csv from a
1,000,000-customer database, the response read in chunks and dropped.
Figures go to bench/out/export_speed.json and, by hand, to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench_export_"))

from bench.generate_customers import BENCH_PASSWORD, BENCH_USER, OUT, SQLITE_PATH, bench_config  # noqa: E402

EXPORT = "/api/v1/grid/customer/export"


def timed(run) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "result": result}


# --- the three ways of writing the same table ------------------------------------------------

def floor_write(path: Path, labels: list[str], types: list, rows: list[list]) -> int:
    """Bare xlsxwriter constant_memory: one write_* call per non-empty cell, chosen per column."""
    import xlsxwriter

    from portal.fields import FieldType as T

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_urls": False, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("客户")
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    datetime_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    writers = []
    for type_ in types:
        if type_ in (T.INT, T.DECIMAL, T.MONEY):
            writers.append((sheet.write_number, None))
        elif type_ == T.DATE:
            writers.append((sheet.write_datetime, date_format))
        elif type_ == T.DATETIME:
            writers.append((sheet.write_datetime, datetime_format))
        elif type_ == T.BOOL:
            writers.append((sheet.write_boolean, None))
        else:
            writers.append((sheet.write_string, None))
    for col, label in enumerate(labels):
        sheet.write_string(0, col, label)
    for number, row in enumerate(rows, 1):
        for col, value in enumerate(row):
            if value is not None:
                write, fmt = writers[col]
                write(number, col, value, fmt)
    workbook.close()
    return len(rows)


def writer_write(path: Path, columns, rows: list[list]) -> int:
    from portal.excel.export import write_table

    with path.open("wb") as stream:
        return write_table(stream, fmt="xlsx", sheet_name="客户", columns=columns, rows=rows)


def portal_export(client, query: dict, sink: Path) -> int:
    """The grid export over HTTP; the body goes to ``sink`` as it streams. Returns its bytes."""
    response = client.get(EXPORT, query_string=query, buffered=False)
    assert response.status_code == 200, response.status_code
    size = 0
    with sink.open("wb") as out:
        for chunk in response.response:
            size += len(chunk)
            out.write(chunk)
    response.close()
    return size


def logged_in(app):
    client = app.test_client()
    answer = client.post("/login/", data={"username": BENCH_USER, "password": BENCH_PASSWORD})
    assert answer.status_code == 302, "bench login failed (generate the database with bench/generate_customers.py)"
    return client


# --- xlsx: floor vs writer vs portal ----------------------------------------------------------

def xlsx_runs(url: str, rounds: int, out: Path) -> dict:
    import sqlalchemy as sa

    from portal import create_app
    from portal.excel.export import ExportColumn
    from portal.excel.records import export_type, plain_rows
    from portal.extensions import db
    from portal.grid.columns import grid_specs
    from portal.models import Customer

    app = create_app(bench_config(url))
    with app.app_context():
        specs = grid_specs(Customer)
        started = time.perf_counter()
        rows = list(plain_rows(db.session, sa.select(Customer).order_by(Customer.id), Customer, specs,
                               sees_sensitive=True))
        read_seconds = time.perf_counter() - started
        db.session.remove()
    labels = [s.label for s in specs]
    types = [export_type(s, True) for s in specs]
    columns = [ExportColumn(label, type_) for label, type_ in zip(labels, types)]
    cells = sum(1 for row in rows for v in row if v is not None)
    query = {"format": "xlsx", "columns": ",".join(s.form_name for s in specs)}
    client = logged_in(app)
    with app.app_context():
        portal_export(client, {**query, "q": "KH2026000001"}, out / "warm.xlsx")   # warm-up: first request, imports
    runs: dict[str, list[dict]] = {"floor": [], "writer": [], "portal": []}
    for number in range(1, rounds + 1):
        for name, run in (("floor", lambda: floor_write(out / "floor.xlsx", labels, types, rows)),
                          ("writer", lambda: writer_write(out / "writer.xlsx", columns, rows)),
                          ("portal", lambda: portal_export(client, query, out / "portal.xlsx"))):
            with app.app_context():
                figure = timed(run)
            figure["load"] = os.getloadavg()[0]
            runs[name].append(figure)
            print(f"  round {number} {name:6}: {figure['wall']:6.2f} s wall, {figure['cpu']:6.2f} s cpu "
                  f"(load {figure['load']:.1f})", file=sys.stderr, flush=True)
    sizes = {name: (out / f"{name}.xlsx").stat().st_size for name in runs}
    medians = {name: {k: statistics.median(r[k] for r in figures) for k in ("wall", "cpu")}
               for name, figures in runs.items()}
    return {"rows": len(rows), "columns": len(specs), "non_empty_cells": cells, "read_values_seconds": read_seconds,
            "runs": runs, "median": medians, "bytes": sizes,
            "ratio": {name: {k: medians[name][k] / medians["floor"][k] for k in ("wall", "cpu")}
                      for name in ("writer", "portal")}}


# --- csv: 1,000,000 rows in a child process ---------------------------------------------------

def generated_rows(n: int):
    """Customer-like rows (text, phones, dates, money, choices' labels), made as they are read."""
    start = dt.date(2000, 1, 1)
    for i in range(n):
        yield (f"KH2026{i:06d}", f"杭州某某{i % 997}贸易有限公司", "企业", "浙江省", "杭州市", "西湖区",
               f"文三路{i % 500}号", "310000", f"0571-8{i % 10_000_000:07d}", f"138{i % 100_000_000:08d}",
               f"c{i}@example.com", Decimal(i % 100_000) / 4, i % 101, start + dt.timedelta(days=i % 9000),
               dt.datetime(2026, 1, 1, 8, 0) + dt.timedelta(minutes=i), i % 2 == 0, None, "A级", "张伟", "现有客户")


def csv_child(mode: str, n: int, url: str | None) -> None:
    """Runs one CSV export and prints {seconds, rows, bytes, peak_rss_mb} as JSON."""
    import resource

    from portal.excel.export import ExportColumn, write_table
    from portal.fields import FieldType as T

    class Count:
        size = 0

        def write(self, data):
            self.size += len(data)

    started = time.perf_counter()
    if mode == "writer":
        types = [T.TEXT, T.TEXT, T.CHOICE, T.CHOICE, T.TEXT, T.TEXT, T.TEXT, T.POSTCODE, T.PHONE, T.MOBILE,
                 T.EMAIL, T.MONEY, T.INT, T.DATE, T.DATETIME, T.BOOL, T.TEXT, T.CHOICE, T.RELATION, T.CHOICE]
        columns = [ExportColumn(f"列{i}", t) for i, t in enumerate(types)]
        sink = Count()
        rows = write_table(sink, fmt="csv", sheet_name="客户", columns=columns, rows=generated_rows(n))
        size = sink.size
    else:
        from portal import create_app
        from portal.grid.columns import grid_specs
        from portal.models import Customer

        app = create_app(bench_config(url))
        client = logged_in(app)
        with app.app_context():
            columns = ",".join(s.form_name for s in grid_specs(Customer))
            response = client.get(EXPORT, query_string={"format": "csv", "columns": columns}, buffered=False)
            assert response.status_code == 200, response.status_code
            size = 0
            for chunk in response.response:
                size += len(chunk)
            response.close()
            import sqlalchemy as sa

            from portal.extensions import db
            from portal.models import AccessLog

            rows = db.session.scalar(sa.select(AccessLog.row_count).where(AccessLog.action == "export")
                                     .order_by(AccessLog.id.desc()).limit(1))   # what the export says it wrote
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux
    print(json.dumps({"mode": mode, "seconds": time.perf_counter() - started, "rows": rows, "bytes": size,
                      "peak_rss_mb": round(peak, 1)}))


def run_child(mode: str, n: int, url: str | None) -> dict:
    command = [sys.executable, __file__, "--csv-child", mode, "--csv-rows", str(n)]
    if url:
        command += ["--db-url", url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict:
    import sqlite3

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(), "load_before": os.getloadavg()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default=f"sqlite:///{SQLITE_PATH}")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--csv-db-url", help="a database of 1,000,000 customers for the end-to-end csv run")
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--skip-csv", action="store_true")
    parser.add_argument("--csv-child", choices=["writer", "portal"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.csv_child:
        csv_child(args.csv_child, args.csv_rows, args.db_url)
        return

    OUT.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "database": args.db_url.rsplit("/", 1)[-1],
              "at": dt.datetime.now().isoformat(timespec="seconds")}
    # The csv children first: a child started from a parent that already holds the xlsx run's
    # rows would count the parent's pages in its own peak RSS (fork, then exec, keeps the mark).
    report["csv"] = [] if args.skip_csv else [run_child("writer", args.csv_rows, None)]
    if args.csv_db_url and not args.skip_csv:
        report["csv"].append(run_child("portal", args.csv_rows, args.csv_db_url))
    if not args.skip_xlsx:
        with tempfile.TemporaryDirectory(prefix="export-bench-", dir=OUT) as folder:
            report["xlsx"] = xlsx_runs(args.db_url, args.rounds, Path(folder))
        x = report["xlsx"]
        print(f"xlsx, {x['rows']:,} rows × {x['columns']} columns ({x['non_empty_cells']:,} cells), "
              f"median of {args.rounds}:")
        for name in ("floor", "writer", "portal"):
            ratio = "" if name == "floor" else (f"  = {x['ratio'][name]['wall']:.2f}× floor wall, "
                                                f"{x['ratio'][name]['cpu']:.2f}× cpu")
            print(f"  {name:6}: {x['median'][name]['wall']:6.2f} s wall, {x['median'][name]['cpu']:6.2f} s cpu{ratio}")
    for run in report["csv"]:
        print(f"csv {run['mode']:6}: {run['rows']:,} rows, {run['bytes'] / 1e6:,.0f} MB in {run['seconds']:.1f} s, "
              f"peak RSS {run['peak_rss_mb']:.0f} MB")
    report["machine"]["load_after"] = os.getloadavg()
    dialect = "postgres" if args.db_url.startswith("postgres") else "sqlite"
    (OUT / f"export_speed_{dialect}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()
