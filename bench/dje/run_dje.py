"""django-import-export 4.4 importing the benchmark's customer workbook, each configuration in a
fresh process; one JSON line per run on stdout. Runs in the venv of bench/dje/setup.sh.

    bench/.dje-venv/bin/python bench/dje/run_dje.py --new /tmp/customers-100k.xlsx \
        --update /tmp/customers-100k-update.xlsx --db both [--repeat 3] [--update-repeat 1]

What one run measures, as the admin's import does it (ImportMixin: the upload is read into a
tablib Dataset with the XLSX format's ``create_dataset`` — openpyxl read-only — and dry-run;
the confirmation reads the stored file again and imports it):

* ``load``: file → Dataset (``base_formats.XLSX().create_dataset``);
* ``dry_run``: ``resource.import_data(dataset, dry_run=True)`` (rows saved in a transaction
  that is rolled back);
* ``load_again`` + ``import``: the same with ``dry_run=False``;
* ``total``: the sum of the four, ``total_one_load`` without ``load_again``; the peak RSS of the process (``ru_maxrss``) after each.

Configurations (chains on one database, created anew for each chain: a fresh SQLite file,
or ``DROP/CREATE DATABASE`` on PostgreSQL, then ``migrate`` in a process of its own):

* ``default``: ``CustomerResource`` as declared (import-export's default options), all-new rows;
* ``fast`` then ``fast-update``: the docs' performance tuning — ``use_bulk``, ``skip_diff``,
  ``force_init_instance`` for the all-new file, ``CachedInstanceLoader`` for the re-import of
  the update file on the database the first one filled;
* ``default-update``: default options, the update file, after ``default`` on its database
  (``--no-default-update`` leaves it out); ``--update-loader model`` makes ``fast-update`` look rows up one by one
  (``ModelInstanceLoader``, import-export's default loader) instead.

``--table archive`` writes the same rows into the portal's own ``customer`` table instead of
the app's 16-column one: each chain's database is first migrated and initialised by the portal
(``--portal-python``: bench/import_speed.py ``--portal-prepare``), so import-export meets the
indexes and foreign keys the portal's import meets (not its history, stage events or search
keys, which import-export does not write).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_NAME = "bench_dje"
IMPORT_SPEED = HERE.parent / "import_speed.py"


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def django_setup(url: str) -> None:
    os.environ["DJE_DATABASE"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    sys.path.insert(0, str(HERE))
    import django

    django.setup()


# ---------------------------------------------------------------------------------------
# One run, in its own process
# ---------------------------------------------------------------------------------------

def run_one(config: str, url: str, path: Path, update_loader: str, table: str = "own") -> dict:
    django_setup(url)
    import import_export
    from django.db import connection
    from import_export.formats.base_formats import XLSX
    from import_export.instance_loaders import ModelInstanceLoader

    from customers.models import ArchiveCustomer, Customer
    from customers.resources import ArchiveCustomerResource, CustomerResource, fast_resource, headers

    base = ArchiveCustomerResource if table == "archive" else CustomerResource
    counted = ArchiveCustomer if table == "archive" else Customer
    if config in ("default", "default-update"):
        resource_class = base
    else:
        resource_class = fast_resource(creates_only=config == "fast", base=base)
        if config == "fast-update" and update_loader == "model":
            resource_class._meta.instance_loader_class = ModelInstanceLoader
    before = counted.objects.count()
    seconds, cpu, rss, totals = {}, {}, {"start": peak_mb()}, {}
    errors: list[str] = []
    fmt = XLSX()
    for phase, dry_run in (("load", None), ("dry_run", True), ("load_again", None), ("import", False)):
        started, cpu_started = time.perf_counter(), time.process_time()
        if dry_run is None:
            dataset = fmt.create_dataset(path.read_bytes())
            if dataset.headers != headers():
                raise SystemExit(f"the workbook's headers {dataset.headers} are not the resource's {headers()}")
        else:
            result = resource_class().import_data(dataset, dry_run=dry_run)
            totals[phase] = {k: v for k, v in result.totals.items() if v}
            if result.has_errors() or result.has_validation_errors():
                errors.extend(_errors(result))
            del result
        seconds[phase] = round(time.perf_counter() - started, 2)
        cpu[phase] = round(time.process_time() - cpu_started, 2)
        rss[phase] = peak_mb()
    seconds["total"] = round(sum(seconds.values()), 2)
    seconds["total_one_load"] = round(seconds["load"] + seconds["dry_run"] + seconds["import"], 2)
    cpu["total_one_load"] = round(cpu["load"] + cpu["dry_run"] + cpu["import"], 2)
    rows = len(dataset)
    return {
        "side": "dje", "config": config, "db": connection.vendor, "table": table, "rows": rows, "file": path.name,
        "seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_mb(), "rss_mb_after": rss, "totals": totals,
        "rows_per_s_import": round(rows / seconds["import"]) if seconds["import"] else None,
        "table_rows_before": before, "table_rows_after": counted.objects.count(),
        "errors": errors[:5], "error_count": len(errors),
        "options": _options(resource_class), "django_import_export": import_export.__version__,
        "database_version": _database_version(connection),
    }


def _errors(result) -> list[str]:
    found = [str(e.error) for e in result.base_errors]
    for row in result.invalid_rows[:5]:
        found.append(f"row {row.number}: {row.error_dict}")
    for number, row_errors in result.row_errors()[:5]:
        found.append(f"row {number}: {row_errors[0].error}")
    return found


def _options(resource_class) -> dict:
    from import_export.instance_loaders import ModelInstanceLoader

    meta = resource_class._meta
    return {"use_bulk": meta.use_bulk, "batch_size": meta.batch_size, "skip_diff": meta.skip_diff,
            "skip_html_diff": meta.skip_html_diff, "skip_unchanged": meta.skip_unchanged,
            "force_init_instance": meta.force_init_instance,
            "instance_loader": (meta.instance_loader_class or ModelInstanceLoader).__name__,
            "use_transactions": resource_class().get_use_transactions()}


def _database_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
        else:
            cursor.execute("show server_version")
        return cursor.fetchone()[0]


def migrate(url: str) -> None:
    django_setup(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# ---------------------------------------------------------------------------------------
# The driver: a fresh database per chain, a fresh process per run
# ---------------------------------------------------------------------------------------

def fresh_database(kind: str, sqlite_dir: Path, table: str = "own", portal_python: str | None = None) -> str:
    name = PG_NAME if table == "own" else f"{PG_NAME}_archive"
    if kind == "sqlite":
        sqlite_dir.mkdir(parents=True, exist_ok=True)
        path = sqlite_dir / f"{name}.db"
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    if table == "archive":
        portal_url = url if kind == "sqlite" else url.replace("postgresql://", "postgresql+psycopg://", 1)
        done = subprocess.run([portal_python or "python3", str(IMPORT_SPEED), "--portal-prepare", "--db-url", portal_url,
                               "--kind", kind], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"the portal's --portal-prepare failed:\n{done.stderr[-4000:]}")
    _child(["--migrate", "--db-url", url])
    return url


def _child(args: list[str]) -> str:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"run_dje.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def chains(args) -> list[list[tuple[str, Path]]]:
    """[(config, file), …] per chain; each chain runs on one fresh database. The default
    chain (slow: over a minute a step at 100,000 rows) runs ``--default-repeat`` times, the
    fast all-new import ``--repeat`` times, the first ``--update-repeat`` of them followed by
    the fast re-import of the updates (slow too: Django's ``bulk_update``)."""
    result = []
    for _ in range(args.default_repeat):
        result.append([("default", args.new)] + ([("default-update", args.update)] if args.update and
                                                   not args.no_default_update else []))
    for k in range(args.repeat):
        result.append([("fast", args.new)] + ([("fast-update", args.update)] if args.update and
                                                k < args.update_repeat else []))
    return result


def drive(args) -> None:
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    for kind in kinds:
        for chain in chains(args):
            url = fresh_database(kind, args.sqlite_dir, args.table, args.portal_python)
            for config, path in chain:
                line = _child(["--one", config, "--db-url", url, "--file", str(path),
                               "--update-loader", args.update_loader, "--table", args.table]).strip().splitlines()[-1]
                record = json.loads(line)
                record["db"] = kind
                print(json.dumps(record, ensure_ascii=False), flush=True)
                _say(record)


def _say(r: dict) -> None:
    s = r["seconds"]
    config = r["config"] + (" (archive)" if r.get("table") == "archive" else "")
    print(f"  dje {r['db']:8s} {config:24s} load {s['load']:6.1f}  dry run {s['dry_run']:6.1f}  "
          f"import {s['import']:6.1f}  total {s['total']:6.1f} s  peak {r['peak_rss_mb']:6.0f} MB  {r['totals']}"
          + (f"  ERRORS {r['error_count']}: {r['errors'][:1]}" if r["error_count"] else ""),
          file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--new", type=Path, help="the all-new workbook")
    parser.add_argument("--update", type=Path, help="the update workbook (same numbers)")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=3, help="fast all-new runs per database")
    parser.add_argument("--update-repeat", type=int, default=1, help="fast re-imports of the updates per database")
    parser.add_argument("--default-repeat", type=int, default=1, help="default-settings runs per database")
    parser.add_argument("--no-default-update", action="store_true", help="skip the re-import with default settings")
    parser.add_argument("--update-loader", choices=("cached", "model"), default="cached")
    parser.add_argument("--table", choices=("own", "archive"), default="own",
                        help="the app's own 16-column table, or the portal's customer table (see above)")
    parser.add_argument("--portal-python", help="the portal's interpreter, for --table archive")
    parser.add_argument("--sqlite-dir", type=Path, default=Path(os.environ.get("BENCH_OUT", HERE.parent / "out")))
    # internal: one step in a child process
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.migrate:
        migrate(args.db_url)
    elif args.one:
        print(json.dumps(run_one(args.one, args.db_url, args.file, args.update_loader, args.table), ensure_ascii=False,
                         default=str))
    else:
        if not args.new:
            parser.error("--new is required")
        drive(args)


if __name__ == "__main__":
    main()
