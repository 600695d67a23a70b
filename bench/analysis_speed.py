"""Server time of every analysis page and of a full classification run (issue 6), on the
archive of bench/generate_trades.py (100,000 customers, 2,000,000 transactions).

    .venv/bin/python bench/analysis_speed.py --db sqlite
    .venv/bin/python bench/analysis_speed.py --db postgres
    .venv/bin/python bench/analysis_speed.py --db postgres --only rfm,composition --profile composition

Goals (issue 6): each analysis page's server time ≤ 1 s; ``flask portal classify`` ≤ 30 s.

* The database is generated once and reused (generate_trades.ensure: again only with
  ``--regenerate`` or when its schema revision is behind the code's).
* ``flask portal classify --kind all`` is timed first, in-process (``runs.run`` + commit, the
  command's own code path) and as the CLI (a subprocess, start-up included); ``--apply`` and
  ``--propose`` in-process inside a transaction that is rolled back, so the archive's grades
  stay as generated. The runs the benchmark adds are deleted again except one of each kind,
  which the classification pages read.
* Then every analysis of ``portal/analysis/registry.py`` (each tab of a tabbed analysis its
  own row) through the Flask test client ``GET /analysis/<key>/data``, logged in as the
  Custodian ``bench`` (every customer) and as the salesperson ``sales01`` (their own
  customers, ~1/20), with the default filters and with one filter (a region, else a grade),
  and helper C's pages (``/today/``, ``/visitplan/…``, ``/visitcompliance/``, found in the URL
  map). Each: one warm-up, then the median of 5 (``--rounds``).
* Beside each wall time: the process CPU time of the request (on SQLite that includes the
  database's work; on PostgreSQL the server's CPU is not in it), the load average before the
  run, and the ratio to the goal.

Writes ``bench/out/analysis_speed_<db>.json`` and prints a Markdown table for RESULTS.md.
``--profile KEY`` writes a cProfile of one request of that analysis (``bench/out/``).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import generate_customers as gc  # noqa: E402
import generate_trades as gt  # noqa: E402

PAGE_GOAL_MS = 1000
CLASSIFY_GOAL_S = 30
SALESPERSON = "sales01"
HELPER_PAGES = ("/today/", "/visitplan/", "/visitcompliance/")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def timed_requests(client, url: str, rounds: int) -> dict:
    walls, cpus, status = [], [], None
    for r in range(rounds + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall = (time.perf_counter() - started) * 1000
        cpu = (time.process_time() - cpu_started) * 1000
        status = response.status_code
        if r:
            walls.append(wall)
            cpus.append(cpu)
    median = statistics.median(walls)
    return {"url": url, "status": status, "ms": round(median, 1), "min_ms": round(min(walls), 1),
            "max_ms": round(max(walls), 1), "cpu_ms": round(statistics.median(cpus), 1),
            "goal_ratio": round(median / PAGE_GOAL_MS, 3), "bytes": len(response.data)}


def login(app, username: str):
    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": gc.BENCH_PASSWORD})
    assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
    return client


def page_plan(app) -> list[tuple[str, str]]:
    """(label, url) of every analysis (tabs each), default and with one filter; helper C's pages."""
    import sqlalchemy as sa

    from portal.analysis import registry
    from portal.extensions import db
    from portal.models import Region

    with app.app_context():
        region = db.session.scalar(sa.select(Region.id).order_by(Region.id))
    plan = []
    for analysis in registry.analyses():
        tabs = [p for p in analysis.params if p.tabs and p.kind == "choice"]
        variants = [({}, "")]
        if tabs:
            tab = tabs[0]
            variants = [({tab.name: code}, f"?{tab.name}={code}") for code, _ in tab.choices]
        for _, query in variants:
            base = f"/analysis/{analysis.key}/data{query}"
            plan.append((f"{analysis.key}{query}", base))
            sep = "&" if "?" in base else "?"
            if "region" in analysis.uses:
                plan.append((f"{analysis.key}{query} region", f"{base}{sep}region={region}"))
            elif "grade" in analysis.uses:
                plan.append((f"{analysis.key}{query} grade A", f"{base}{sep}grade=A"))
    rules = sorted({rule.rule for rule in app.url_map.iter_rules()
                    if rule.rule.startswith(tuple(p.rstrip("/") for p in HELPER_PAGES)) and not rule.arguments
                    and "GET" in rule.methods and not rule.rule.endswith("xlsx") and "print" not in rule.rule})
    plan.extend((rule, rule) for rule in rules)
    return plan


def pages(app, rounds: int, only: set[str] | None) -> list[dict]:
    plan = page_plan(app)
    if only:
        plan = [(label, url) for label, url in plan if label.split("?")[0].split(" ")[0] in only or url in only]
    results = []
    for username, who in (("bench", "custodian"), (SALESPERSON, "salesperson")):
        client = login(app, username)
        for label, url in plan:
            load = _load()
            found = timed_requests(client, url, rounds)
            found.update(page=label, user=who, load=load)
            results.append(found)
            print(f"  {who:11s} {label:45s} {found['status']} {found['ms']:8.1f} ms (cpu {found['cpu_ms']:.0f}) "
                  f"load {load}", file=sys.stderr, flush=True)
    return results


def classify_in_process(app, rounds: int) -> list[dict]:
    """runs.run(all) + commit, as the command does; apply/propose rolled back."""
    from portal.extensions import db
    from portal.services.classification import runs

    found = []
    with app.app_context():
        for mode, keep in (("none", True), ("apply", False), ("propose", False)):
            for r in range(rounds if mode == "none" else 1):
                load = _load()
                started, cpu_started = time.perf_counter(), time.process_time()
                done = runs.run(db.session, "all", mode=mode)
                if keep:
                    db.session.commit()
                else:
                    db.session.flush()
                wall = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
                per_kind = {run.kind: run.duration_ms for run in done}
                counts = {run.kind: dict(run.counts) for run in done}
                if not keep:
                    db.session.rollback()
                found.append({"mode": mode, "seconds": round(wall, 2), "cpu_s": round(cpu, 2), "load": load,
                              "goal_ratio": round(wall / CLASSIFY_GOAL_S, 3), "per_kind_ms": per_kind,
                              "counts": counts})
                print(f"  classify in-process mode={mode}: {wall:.1f} s (cpu {cpu:.1f}) {per_kind} load {load}",
                      file=sys.stderr, flush=True)
        db.session.remove()
    return found


def classify_cli(url: str, rounds: int) -> list[dict]:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi"}
    found = []
    for _ in range(rounds):
        load = _load()
        started = time.perf_counter()
        before = os.times()
        proc = subprocess.run([str(gc.ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "portal", "classify",
                               "--kind", "all"], cwd=gc.ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        after = os.times()
        cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
        if proc.returncode:
            raise SystemExit(f"flask portal classify failed:\n{proc.stderr[-2000:]}")
        found.append({"seconds": round(wall, 2), "cpu_s": round(cpu, 2), "load": load,
                      "goal_ratio": round(wall / CLASSIFY_GOAL_S, 3), "output": proc.stdout.strip().splitlines()})
        print(f"  classify CLI: {wall:.1f} s (cpu {cpu:.1f}) load {load}", file=sys.stderr, flush=True)
    return found


def prune_runs(app) -> int:
    """Delete the runs but the latest of each kind (their results and proposals with them)."""
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.models import ClassificationResult, ClassificationRun, GradeProposal

    with app.app_context():
        keep = [db.session.scalar(sa.select(sa.func.max(ClassificationRun.id)).where(ClassificationRun.kind == k))
                for k in ("abc", "rfm", "matrix", "relationship")]
        keep = [k for k in keep if k is not None]
        old = list(db.session.scalars(sa.select(ClassificationRun.id).where(ClassificationRun.id.not_in(keep))))
        if old:
            db.session.execute(sa.delete(ClassificationResult).where(ClassificationResult.run_id.in_(old)))
            db.session.execute(sa.delete(GradeProposal).where(GradeProposal.run_id.in_(old)))
            db.session.execute(sa.delete(ClassificationRun).where(ClassificationRun.id.in_(old)))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # autovacuum is off on the bench machine: the rolled-back --apply/--propose runs
            # leave dead card versions (every index of customer) that would slow the next run.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in ("classification_result", "classification_run", "grade_proposal", "customer",
                              "change_log"):
                    conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
        db.session.remove()
    return len(old)


def profile(app, key: str, kind: str) -> Path:
    from portal.analysis import registry

    analysis = registry.get(key.split("?")[0])
    client = login(app, "bench")
    url = f"/analysis/{analysis.key}/data" + (f"?{key.split('?', 1)[1]}" if "?" in key else "")
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url)
    profiler.disable()
    path = gt.OUT / f"analysis_profile_{kind}_{key.replace('?', '_').replace('=', '-')}.txt"
    with path.open("w") as handle:
        pstats.Stats(profiler, stream=handle).sort_stats("cumulative").print_stats(40)
    return path


def markdown(result: dict) -> str:
    lines = [f"**{result['db']}** — {result['counts']} — load {result['load_before']} before, "
             f"{result['load_after']} after", "",
             "| page | custodian ms (cpu) | ratio | salesperson ms (cpu) | ratio |", "|---|---:|---:|---:|---:|"]
    by_page: dict[str, dict] = {}
    for row in result["pages"]:
        by_page.setdefault(row["page"], {})[row["user"]] = row
    for page, users in by_page.items():
        cells = []
        for who in ("custodian", "salesperson"):
            row = users.get(who)
            if row is None:
                cells += ["", ""]
                continue
            flag = "" if row["status"] == 200 else f" **{row['status']}**"
            cells += [f"{row['ms']:.0f} ({row['cpu_ms']:.0f}){flag}", f"{row['goal_ratio']:.2f}"]
        lines.append(f"| `{page}` | " + " | ".join(cells) + " |")
    lines += ["", "| classify --kind all | median s | cpu s | ratio to 30 s | per kind ms |", "|---|---:|---:|---:|---|"]
    inproc = [r for r in result["classify_in_process"] if r["mode"] == "none"]
    if inproc:
        mid = sorted(inproc, key=lambda r: r["seconds"])[len(inproc) // 2]
        lines.append(f"| in-process (none), median of {len(inproc)} | {mid['seconds']:.1f} | {mid['cpu_s']:.1f} | "
                     f"{mid['seconds'] / CLASSIFY_GOAL_S:.2f} | {mid['per_kind_ms']} |")
    for r in result["classify_in_process"]:
        if r["mode"] != "none":
            lines.append(f"| in-process --{r['mode']} (rolled back) | {r['seconds']:.1f} | {r['cpu_s']:.1f} | "
                         f"{r['goal_ratio']:.2f} | {r['per_kind_ms']} |")
    if result["classify_cli"]:
        runs_ = sorted(result["classify_cli"], key=lambda r: r["seconds"])
        mid = runs_[len(runs_) // 2]
        lines.append(f"| CLI `flask portal classify`, median of {len(runs_)} | {mid['seconds']:.1f} | "
                     f"{mid['cpu_s']:.1f} | {mid['goal_ratio']:.2f} | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--classify-rounds", type=int, default=3)
    parser.add_argument("--cli-rounds", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated analysis keys or page URLs")
    parser.add_argument("--no-classify", action="store_true", help="skip the classification timings")
    parser.add_argument("--profile", default="", help="an analysis key (with ?tab=…) to profile once")
    args = parser.parse_args()

    meta = gt.ensure(args.db, force=args.regenerate)
    url = meta["url"]
    from portal import create_app
    from portal.extensions import db
    from portal.seeds import initialise

    app = create_app(gc.bench_config(url))
    with app.app_context():
        initialise(app.appbuilder, db.session)
        db.session.remove()
    result = {"db": args.db, "counts": meta["counts"], "anchor": meta["anchor"], "load_before": _load(),
              "classify_in_process": [], "classify_cli": []}
    if not args.no_classify:
        result["classify_in_process"] = classify_in_process(app, args.classify_rounds)
        result["classify_cli"] = classify_cli(url, args.cli_rounds)
    result["runs_pruned"] = prune_runs(app)
    if args.profile:
        print(f"profile: {profile(app, args.profile, args.db)}", file=sys.stderr)
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    result["pages"] = pages(app, args.rounds, only)
    result["load_after"] = _load()
    suffix = "" if not only and not args.no_classify else "_partial"
    (gt.OUT / f"analysis_speed_{args.db}{suffix}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()
