"""Import of a 100,000-row customer workbook, the portal against django-import-export 4.4 on the
same file in the same run (issue 5).

    .venv/bin/python bench/import_speed.py --rows 100000 --db both       # ≈ 1 h, most of it DJE
    .venv/bin/python bench/import_speed.py --rows 2000 --db sqlite       # smoke run, ≈ 1 min
    .venv/bin/python bench/import_speed.py --rows 100000 --db sqlite --skip-dje --profile

Goal: upload → preview → commit of the 100,000 rows in ≤ 15 s in total for all-new rows and
again for all-update rows, peak RSS ≤ 300 MB, on SQLite and on PostgreSQL; ≥ 12× faster than
django-import-export with its default settings and ≥ 4× faster than with its fastest
documented settings.

Steps:

1. The workbooks (bench/make_import_workbook.py): ``customers-<rows>.xlsx`` (all new) and
   ``customers-<rows>-update.xlsx`` (the same numbers, every row changed) in bench/out/
   (``BENCH_OUT``); kept and reused while their rows and seed match.
2. django-import-export: ``bench/dje/setup.sh`` (its own venv, idempotent), then
   ``bench/dje/run_dje.py`` — default settings once (all new, then the updates), the docs'
   fastest settings ``--repeat`` times (all new; the first run followed by the updates),
   every run in a fresh process, every chain on a fresh database.
3. The portal, ``--repeat`` times per database: a fresh database (SQLite
   ``bench/out/bench_import.db``, PostgreSQL ``bench_import``) migrated with ``flask db
   upgrade`` and initialised (``portal.seeds.initialise`` + the benchmark's users, as
   bench/generate_customers.py does) in a process of its own; then, each in a fresh process
   so ``ru_maxrss`` is that run's peak, the all-new file and then the update file through
   ``portal.excel.importer``: ``upload`` (sheet list, header, suggested mapping), ``prepare``
   (the dry run: parse, clean, match on the customer number, stage; the preview's counts)
   and ``portal.excel.commit.commit``, each followed by the session's commit as the API's
   request does, inside an app context of ``create_app`` on that database, as the Custodian
   ``bench``. The process's start-up (imports, ``create_app``, the pinyin dictionaries that
   wsgi.py loads at start) is not timed; its RSS is reported as the baseline. Each step runs
   as the background job runs it, inside ``portal.sqlite_wal.deferred``: on SQLite the log
   is checkpointed once the step is done (the clerk's page shows it finished), and that
   checkpoint is timed apart ("then checkpoint").

Every figure is printed, and all of them, with the machine (cores, load average before and
after, versions) and the commit, are written to bench/out/import_speed_<db>.json
(``import_speed_<db>_<rows>.json`` for another ``--rows``; each portal run is also appended to
``import_speed_<db>_<rows>_portal_runs.jsonl`` as it finishes).
``--profile`` writes each portal phase's cProfile (top 40 by cumulative time) to
bench/out/import_profile_<db>_<variant>.txt. Ratios are the DJE time over the portal's, with
DJE's total counted as load + dry run + import (without the second reading of the file its
admin does on confirmation, so the ratio is a lower bound); ``*_vs_dje_best`` is against the
quicker of DJE's two configurations (for updates its documented fast settings are the slower).
Medians over the repeats. ``--interleave`` takes DJE's fast all-new runs and the portal's runs in
turn (after DJE's slow runs) and adds the median of the paired ratios: the machine is shared,
and its speed drifts by a third within minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench_import_"))

OUT = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "out"))
SQLITE_PATH = OUT / "bench_import.db"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_import"
DJE_VENV = Path(os.environ.get("DJE_VENV", ROOT / "bench" / ".dje-venv"))
GOAL_SECONDS, GOAL_RSS_MB, GOAL_VS_DEFAULT, GOAL_VS_FAST = 15, 300, 12, 4
SEED = 5
MATCH_OPTIONS = {"match": ["number"], "mode": "upsert"}


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def second_process() -> tuple[float, float]:
    """(CPU seconds, peak RSS in MB) of the processes this one started and waited for: the
    dry run's second process (portal/excel/conversion.py). Its RSS counts the pages it
    shares with this process since the fork."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime, round(usage.ru_maxrss / 1024, 1)


# ---------------------------------------------------------------------------------------
# The workbooks
# ---------------------------------------------------------------------------------------

def workbooks(rows: int) -> tuple[Path, Path]:
    from bench.make_import_workbook import parameters_of, write

    OUT.mkdir(parents=True, exist_ok=True)
    result = []
    for variant, suffix in (("new", ""), ("update", "-update")):
        path = OUT / f"customers-{rows}{suffix}.xlsx"
        try:
            current = parameters_of(path) == {"rows": rows, "seed": SEED, "variant": variant}
        except (OSError, KeyError, ValueError):
            current = False
        if not current:
            made = write(path, rows, SEED, variant)
            _say(f"workbook {path.name}: {rows:,} rows, {made['bytes']:,} bytes ({made['seconds']:.1f} s)")
        result.append(path)
    return result[0], result[1]


# ---------------------------------------------------------------------------------------
# django-import-export, in its own venv
# ---------------------------------------------------------------------------------------

def run_dje(kind: str, new: Path, update: Path, args, *, repeat: int | None = None,
            update_repeat: int | None = None, default_repeat: int | None = None) -> list[dict]:
    """DJE's runs (run_dje.py's chains); the counts default to the command line's."""
    subprocess.run(["bash", str(ROOT / "bench" / "dje" / "setup.sh")], check=True,
                   env={**os.environ, "DJE_VENV": str(DJE_VENV)}, stdout=subprocess.DEVNULL)
    counts = (args.repeat if repeat is None else repeat,
              args.dje_update_repeat if update_repeat is None else update_repeat,
              args.dje_default_repeat if default_repeat is None else default_repeat)
    command = [str(DJE_VENV / "bin" / "python"), str(ROOT / "bench" / "dje" / "run_dje.py"), "--new", str(new),
               "--update", str(update), "--db", kind, "--repeat", str(counts[0]),
               "--update-repeat", str(counts[1]), "--default-repeat", str(counts[2]),
               "--sqlite-dir", str(OUT), "--table", args.dje_table, "--portal-python", sys.executable]
    records = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            if line.startswith("{"):
                records.append(json.loads(line))
    if process.returncode:
        raise SystemExit(f"run_dje.py failed ({process.returncode})")
    return records


# ---------------------------------------------------------------------------------------
# The portal
# ---------------------------------------------------------------------------------------

def portal_database(kind: str, pg_url: str) -> str:
    """A fresh, migrated, initialised database (in a child process) and its URL."""
    url = f"sqlite:///{SQLITE_PATH}" if kind == "sqlite" else pg_url
    _child(["--portal-prepare", "--db-url", url, "--kind", kind])
    return url


def prepare_database(kind: str, url: str) -> None:
    from bench.generate_customers import migrate_and_initialise, recreate

    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))   # SQLITE_PATH, or run_dje.py's --table archive file
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        recreate("postgres", url)
    migrate_and_initialise(url)


def portal_run(url: str, path: Path, variant: str, profile: Path | None) -> dict:
    """upload → prepare (the dry run) → commit of ``path``, timed phase by phase."""
    import sqlalchemy as sa

    from bench.generate_customers import BENCH_USER, bench_config
    from portal import create_app
    from portal.extensions import db
    from portal.models import Customer

    # IMPORT_WORKER_ROWS=0 in the environment: every step in one process (the portal's second
    # process for big steps off), to measure what it brings in the same session.
    app = create_app({**bench_config(url), **({"IMPORT_WORKER_ROWS": int(os.environ["IMPORT_WORKER_ROWS"])}
                                              if os.environ.get("IMPORT_WORKER_ROWS") else {})})
    # What the served portal does at start (wsgi.py) is done before the clock starts, too.
    from portal.warmup import warm_up
    warm_up()
    baseline = peak_mb()
    sql = _SqlClock()
    with app.app_context():
        from portal import sqlite_wal
        from portal.excel import importer
        from portal.excel.commit import commit

        session = db.session
        sql.listen(db.engine)
        who = importer.Who(user=app.appbuilder.sm.find_user(username=BENCH_USER))
        before = session.scalar(sa.select(sa.func.count()).select_from(Customer))
        session.commit()

        def step(call):
            # Each phase as a request does it: the step, then the caller's commit.
            def run():
                batch = call()
                session.commit()
                return batch
            return run

        steps = (
            ("upload", step(lambda: importer.upload(session, str(path), path.name, "customer", who))),
            ("prepare", step(lambda: importer.prepare(session, state["batch"], mapping=None,
                                                      options=dict(MATCH_OPTIONS), who=who))),
            ("commit", step(lambda: commit(session, state["batch"], who))),
        )
        state: dict = {}
        seconds, cpu, rss, counts, in_sql, cpu_second, after_step = {}, {}, {"start": baseline}, {}, {}, {}, {}
        profiles = []
        for phase, run_step in steps:
            profiler = _profiler() if profile else None
            started, cpu_started = time.perf_counter(), time.process_time()
            children_started = second_process()[0]
            sql.reset()
            # As the background job runs a step (steps._background): SQLite's log is checkpointed
            # once the step is done and shown as finished, timed apart ("after").
            deferral = sqlite_wal.deferred(session)
            deferral.__enter__()
            value = profiler.runcall(run_step) if profiler else run_step()
            seconds[phase] = round(time.perf_counter() - started, 2)
            cpu[phase] = round(time.process_time() - cpu_started, 2)
            checkpoint_started = time.perf_counter()
            deferral.__exit__(None, None, None)
            after_step[phase] = round(time.perf_counter() - checkpoint_started, 2)
            cpu_second[phase] = round(second_process()[0] - children_started, 2)
            in_sql[phase] = {"statements": sql.statements, "seconds": round(sql.seconds, 2)}
            rss[phase] = peak_mb()
            state["batch"] = value
            counts[phase] = dict(value.counts or {})
            if profiler:
                profiles.append((phase, profiler))
        seconds["total"] = round(seconds["upload"] + seconds["prepare"] + seconds["commit"], 2)
        cpu["total"] = round(cpu["upload"] + cpu["prepare"] + cpu["commit"], 2)
        session.rollback()
        after = session.scalar(sa.select(sa.func.count()).select_from(Customer))
        status = getattr(state["batch"], "status", None)
        database_version = session.execute(sa.text(
            "select sqlite_version()" if url.startswith("sqlite") else "show server_version")).scalar()
    if profile:
        _write_profiles(profile, profiles)
    return {"side": "portal", "variant": variant, "file": path.name, "seconds": seconds, "cpu_seconds": cpu, "sql": in_sql, "peak_rss_mb": peak_mb(),
            "checkpoint_after_seconds": after_step,
            "second_process": {"cpu_seconds": cpu_second, "peak_rss_mb": second_process()[1]},
            "rss_mb_after": rss, "baseline_rss_mb": baseline, "counts": counts, "status": status,
            "table_rows_before": before, "table_rows_after": after, "database_version": database_version}


class _SqlClock:
    """Statements sent through SQLAlchemy and the wall time spent in them (the database's work
    and the round trips), per phase. portal/excel/bulk.py's raw DBAPI ``executemany`` is not
    seen here; the process's CPU time beside the wall time tells waiting from working."""

    def __init__(self):
        self.statements, self.seconds, self._started = 0, 0.0, []

    def listen(self, engine) -> None:
        import sqlalchemy as sa

        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.statements, self.seconds = 0, 0.0

    def _before(self, *args):
        self._started.append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.seconds += time.perf_counter() - self._started.pop()
        self.statements += len(parameters) if executemany and isinstance(parameters, list) else 1


def _profiler():
    import cProfile

    return cProfile.Profile()


def _write_profiles(path: Path, profiles) -> None:
    import io
    import pstats

    text = io.StringIO()
    for phase, profiler in profiles:
        text.write(f"==== {phase} ====\n")
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(70)
        text.write(f"---- {phase}, by own time ----\n")
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(60)
    path.write_text(text.getvalue(), encoding="utf-8")


def run_portal(kind: str, new: Path, update: Path, args, runs: range | None = None) -> list[dict]:
    records = []
    for k in runs if runs is not None else range(args.repeat):
        url = portal_database(kind, args.pg_url)
        for variant, path in (("new", new), ("update", update)):
            command = ["--portal-one", variant, "--db-url", url, "--file", str(path)]
            if args.profile and k == 0:
                command += ["--profile-to", str(OUT / f"import_profile_{kind}_{variant}.txt")]
            record = json.loads(_child(command).strip().splitlines()[-1])
            record.update(db=kind, run=k + 1)
            records.append(record)
            with open(OUT / f"import_speed_{kind}_{args.rows}_portal_runs.jsonl", "a", encoding="utf-8") as kept:
                kept.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            s, after = record["seconds"], record["rss_mb_after"]
            _say(f"  portal {kind:8s} {variant:7s} upload {s['upload']:5.1f}  prepare {s['prepare']:5.1f}  "
                 f"commit {s['commit']:5.1f}  total {s['total']:5.1f} s (then checkpoint "
                 f"{sum(record.get('checkpoint_after_seconds', {}).values()):.1f}; CPU {record['cpu_seconds']['total']:.1f}, "
                 f"in SQL {sum(p['seconds'] for p in record['sql'].values()):.1f}; second process CPU "
                 f"{sum(record['second_process']['cpu_seconds'].values()):.1f}, peak "
                 f"{record['second_process']['peak_rss_mb']:.0f} MB)  peak {record['peak_rss_mb']:4.0f} MB "
                 f"(baseline {record['baseline_rss_mb']:.0f}; peak after upload {after['upload']:.0f}, prepare "
                 f"{after['prepare']:.0f}, commit {after['commit']:.0f})  {record['counts'].get('commit') or record['counts']}")
    return records


def run_interleaved(kind: str, new: Path, update: Path, args) -> tuple[list[dict], list[dict]]:
    """(DJE's runs, the portal's runs), the fast all-new runs of DJE and the portal's runs taken
    in turn — DJE fast, portal, DJE fast, portal … — after DJE's slow runs (its defaults, its
    fast re-import of the updates): on a shared machine whose speed drifts by a third within
    minutes, each pair ran under the same conditions (the paired ratios)."""
    dje = run_dje(kind, new, update, args, repeat=1 if args.dje_update_repeat else 0,
                  update_repeat=min(args.dje_update_repeat, 1))
    for record in dje:
        record["paired"] = False
    portal = []
    for k in range(args.repeat):
        fast = run_dje(kind, new, update, args, repeat=1, update_repeat=0, default_repeat=0)
        for record in fast:
            record.update(paired=True, pair=k + 1)
        dje += fast
        portal += run_portal(kind, new, update, args, runs=range(k, k + 1))
    return dje, portal


def paired_ratios(kind: str, dje: list[dict], portal: list[dict]) -> dict:
    """Median of DJE fast all-new / portal all-new, and of the same in CPU, over the pairs of
    an interleaved run (run_interleaved)."""
    fast = {r["pair"]: r for r in dje if r.get("paired") and r["config"] == "fast" and r["db"] == kind}
    mine = {r["run"]: r for r in portal if r["variant"] == "new" and r["db"] == kind}
    pairs = [(fast[k], mine[k]) for k in sorted(fast) if k in mine]
    if not pairs:
        return {}

    # DJE's total_one_load (run_dje.py), as summarise() counts it; the portal's CPU with its
    # second process's, so both sides count every core they used.
    return {"pairs": len(pairs),
            "new_vs_fast": round(statistics.median(
                d["seconds"]["total_one_load"] / p["seconds"]["total"] for d, p in pairs), 2),
            "new_vs_fast_cpu": round(statistics.median(
                d["cpu_seconds"]["total_one_load"] / (p["cpu_seconds"]["total"]
                                                      + sum(p["second_process"]["cpu_seconds"].values()))
                for d, p in pairs), 2),
            "each": [{"dje_fast": d["seconds"]["total_one_load"], "portal_new": p["seconds"]["total"]}
                     for d, p in pairs]}


def _child(args: list[str]) -> str:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"import_speed.py {' '.join(args)} failed:\n{done.stderr[-6000:]}")
    return done.stdout


# ---------------------------------------------------------------------------------------
# Side by side
# ---------------------------------------------------------------------------------------

def median_of(records: list[dict], key: str, kind: str = "seconds") -> float | None:
    values = [r[kind][key] for r in records if key in r.get(kind, {})]
    return round(statistics.median(values), 2) if values else None


def summarise(kind: str, dje: list[dict], portal: list[dict]) -> dict:
    def dje_runs(config):
        return [r for r in dje if r["config"] == config and r["db"] == kind]

    def dje_summary(config):
        runs = dje_runs(config)
        if not runs:
            return None
        for r in runs:
            r["seconds"].setdefault("total_one_load", round(r["seconds"]["load"] + r["seconds"]["dry_run"]
                                                            + r["seconds"]["import"], 2))
        return {"runs": len(runs), **{k: median_of(runs, k) for k in
                                      ("load", "dry_run", "load_again", "import", "total", "total_one_load")},
                "cpu_total_one_load": median_of(runs, "total_one_load", "cpu_seconds"),
                "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
                "rows_per_s_import": statistics.median(r["rows_per_s_import"] for r in runs),
                "errors": sum(r["error_count"] for r in runs), "options": runs[0]["options"]}

    summary = {"db": kind, "dje": {c: dje_summary(c) for c in ("default", "fast", "default-update", "fast-update")},
               "portal": {}, "ratios": {}, "goals": {}}
    for variant in ("new", "update"):
        runs = [r for r in portal if r["variant"] == variant and r["db"] == kind]
        if not runs:
            continue
        p = {"runs": len(runs), **{k: median_of(runs, k) for k in ("upload", "prepare", "commit", "total")},
             "cpu_total": median_of(runs, "total", "cpu_seconds"),
             "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
             "baseline_rss_mb": statistics.median(r["baseline_rss_mb"] for r in runs),
             "counts": runs[0]["counts"]}
        summary["portal"][variant] = p
        default, fast = ("default", "fast") if variant == "new" else ("default-update", "fast-update")
        for label, config in (("vs_default", default), ("vs_fast", fast)):
            d = summary["dje"].get(config)
            if d and p["total"]:
                summary["ratios"][f"{variant}_{label}"] = round(d["total_one_load"] / p["total"], 1)
                if d.get("cpu_total_one_load") and p.get("cpu_total"):
                    summary["ratios"][f"{variant}_{label}_cpu"] = round(d["cpu_total_one_load"] / p["cpu_total"], 1)
        # For updates the docs' fastest settings are slower than the defaults (bulk_update):
        # also against whichever of DJE's runs was quicker.
        measured = [summary["dje"][c]["total_one_load"] for c in (default, fast) if summary["dje"].get(c)]
        if measured and p["total"]:
            summary["ratios"][f"{variant}_vs_dje_best"] = round(min(measured) / p["total"], 1)
        summary["goals"][variant] = {
            "total_le_15s": p["total"] is not None and p["total"] <= GOAL_SECONDS,
            "rss_le_300mb": p["peak_rss_mb"] <= GOAL_RSS_MB,
            "vs_default_ge_12": summary["ratios"].get(f"{variant}_vs_default", 0) >= GOAL_VS_DEFAULT,
            "vs_fast_ge_4": summary["ratios"].get(f"{variant}_vs_fast", 0) >= GOAL_VS_FAST,
        }
    return summary


def table(summary: dict) -> str:
    """Markdown rows for RESULTS.md."""
    lines = ["| run | load / upload | dry run / prepare | import / commit | total | CPU (process) | peak RSS | runs |",
             "|---|---|---|---|---|---|---|---|"]
    labels = {"default": "DJE default, all new", "fast": "DJE fastest, all new",
              "default-update": "DJE default, all update", "fast-update": "DJE fastest, all update"}
    for config, label in labels.items():
        d = summary["dje"].get(config)
        if d:
            lines.append(f"| {label} | {d['load']:.1f} s | {d['dry_run']:.1f} s | {d['import']:.1f} s | "
                         f"{d['total_one_load']:.1f} s | {_s(d.get('cpu_total_one_load'))} | {d['peak_rss_mb']:.0f} MB | "
                         f"{d['runs']} |")
    for variant, p in summary["portal"].items():
        lines.append(f"| **portal, all {variant}** | {p['upload']:.1f} s | {p['prepare']:.1f} s | {p['commit']:.1f} s | "
                     f"**{p['total']:.1f} s** | {_s(p.get('cpu_total'))} | {p['peak_rss_mb']:.0f} MB | {p['runs']} |")
    return "\n".join(lines)


def _s(value) -> str:
    return "–" if value is None else f"{value:.1f} s"


def _dje_records(path: Path) -> list[dict]:
    """DJE runs kept earlier: an import_speed_<db>.json, or run_dje.py's JSON lines."""
    text = path.read_text(encoding="utf-8")
    try:
        whole = json.loads(text)   # an import_speed_<db>.json (indented)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return whole["dje_runs"] if isinstance(whole, dict) else whole


def machine() -> dict:
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip() or None
    except OSError:
        commit = None
    return {"nproc": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version(),
            "commit": commit, "when": time.strftime("%Y-%m-%d %H:%M")}


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _runs_one_after_the_other(kind: str, new: Path, update: Path, args) -> tuple[list[dict], list[dict]]:
    """(DJE's runs, the portal's runs): all of DJE's, then all of the portal's, each taken from
    an earlier result file when one is named."""
    if args.dje_results:
        dje = [r for r in _dje_records(args.dje_results) if r["db"] == kind]
    elif args.skip_dje:
        dje = []
    else:
        _say(f"django-import-export on {kind} ({args.rows:,} rows) …")
        dje = run_dje(kind, new, update, args)
    if args.portal_results:
        portal = [r for r in json.loads(args.portal_results.read_text(encoding="utf-8"))["portal_runs"]
                  if r["db"] == kind]
    elif args.skip_portal:
        portal = []
    else:
        _say(f"portal on {kind} ({args.rows:,} rows) …")
        portal = run_portal(kind, new, update, args)
    return dje, portal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3, help="portal runs and DJE fast all-new runs per database")
    parser.add_argument("--dje-update-repeat", type=int, default=1, help="DJE fast re-imports of the updates")
    parser.add_argument("--dje-default-repeat", type=int, default=1, help="DJE default-settings runs")
    parser.add_argument("--dje-table", choices=("own", "archive"), default="own",
                        help="DJE writes its app's 16-column table (the goal's comparison) or the portal's "
                             "customer table, with its indexes and foreign keys (run_dje.py --table archive)")
    parser.add_argument("--skip-dje", action="store_true", help="the portal only (no ratios)")
    parser.add_argument("--skip-portal", action="store_true", help="django-import-export only")
    parser.add_argument("--dje-results", type=Path,
                        help="take DJE's figures from an earlier import_speed_<db>.json or run_dje.py output")
    parser.add_argument("--portal-results", type=Path,
                        help="take the portal's figures from an earlier import_speed_<db>.json (e.g. to add DJE's)")
    parser.add_argument("--interleave", action="store_true",
                        help="DJE's fast all-new runs and the portal's runs in turn, with paired ratios")
    parser.add_argument("--profile", action="store_true", help="cProfile the portal's first run of each file")
    parser.add_argument("--pg-url", default=PG_URL)
    # internal: one step in a child process
    parser.add_argument("--portal-prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--portal-one", help=argparse.SUPPRESS)
    parser.add_argument("--db-url", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", dest="profile_path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.portal_prepare:
        prepare_database(args.kind, args.db_url)
        return
    if args.portal_one:
        print(json.dumps(portal_run(args.db_url, args.file, args.portal_one, args.profile_path), ensure_ascii=False,
                         default=str))
        return

    new, update = workbooks(args.rows)
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    OUT.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        started = machine()
        interleaved = args.interleave and not (args.dje_results or args.skip_dje or args.portal_results
                                                or args.skip_portal)
        if args.interleave and not interleaved:
            _say("--interleave needs both sides run here (not --skip-dje/--skip-portal or earlier results): ignored")
        if interleaved:
            _say(f"django-import-export and the portal on {kind} ({args.rows:,} rows), in turn …")
            dje, portal = run_interleaved(kind, new, update, args)
        else:
            dje, portal = _runs_one_after_the_other(kind, new, update, args)
        summary = summarise(kind, dje, portal)
        if interleaved:
            summary["paired"] = paired_ratios(kind, dje, portal)
        result = {"db": kind, "rows": args.rows, "machine": {"before": started, "after": machine()},
                  "dje_source": str(args.dje_results) if args.dje_results else ("skipped" if args.skip_dje else "this run"),
                  "portal_source": str(args.portal_results) if args.portal_results else "this run",
                  "files": [str(new), str(update)], "summary": summary, "dje_runs": dje, "portal_runs": portal}
        # A smoke run (--rows 2000) does not overwrite the figures of the full one.
        path = OUT / (f"import_speed_{kind}.json" if args.rows == 100_000 else f"import_speed_{kind}_{args.rows}.json")
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        print(f"\n{kind}, {args.rows:,} rows (load average {started['load_average'][0]:.1f} → "
              f"{result['machine']['after']['load_average'][0]:.1f}, {started['nproc']} cores):")
        print(table(summary))
        if summary["ratios"]:
            print("ratios (DJE total / portal total):", summary["ratios"])
        if summary.get("paired"):
            print("paired, DJE fast all new / portal all new, run in turn (median):", summary["paired"])
        if summary["goals"]:
            print("goals:", summary["goals"])
        print(f"written: {path}")


if __name__ == "__main__":
    main()
