"""Server time of the grid's JSON API on a large archive, against Flask-AppBuilder's own
list view on the same data in the same run, and the grid page in headless Chromium.

    .venv/bin/python bench/generate_customers.py --db sqlite --customers 1000000   # once
    .venv/bin/python bench/grid_speed.py --db sqlite   [--rounds 30] [--explain] [--no-browser]
    .venv/bin/python bench/grid_speed.py --db postgres [--rounds 30] [--explain] [--no-browser]
    .venv/bin/python bench/grid_speed.py --db sqlite --browser-only

Goal (issue 4): with 1,000,000 customers every request below answers with a p95 of at most
100 ms of server time, and the grid page shows its first rows within 1.5 s in headless
Chromium on this machine.

Method. The portal is built with ``create_app`` on the generated database (its default
settings, CSRF off for the test client), the Custodian ``bench`` logs in through /login/,
and every request goes through the Flask test client, so a figure is the whole server side
— routing, FAB's permission check, the security gate, the queries, JSON and the access-log
entry each read writes — without the network. Each query is requested ``--warmup`` times
unrecorded, then ``--rounds`` times, the queries interleaved round by round so the noise
of the shared machine falls on all of them alike; p50 and p95 (nearest rank) per query.

``--explain`` records the SQL each request sends (SQLAlchemy's ``before_cursor_execute``)
and writes its plan — ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (ANALYZE, BUFFERS)`` on
PostgreSQL — to bench/out/explain_<db>.txt.

The browser part serves the app with werkzeug's ``make_server`` on a free port of
127.0.0.1 (threaded), logs in through the form, then opens /grid/customer/ five times,
each in a fresh browser context (cold HTTP cache, the login cookie kept), and measures
from navigation start until the first ``.tabulator-row`` is in the page (a
MutationObserver stamps ``performance.now()``) and until Playwright sees it visible, and
the bytes transferred (``transferSize`` of the document and every resource).

Results are printed and written to bench/out/grid_speed_<db>.json; copy them to RESULTS.md.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench_"))

from bench.generate_customers import BENCH_PASSWORD, BENCH_USER, PG_URL, SQLITE_PATH, bench_config  # noqa: E402

OUT = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "out"))
GRID = "/api/v1/grid/customer"
GOAL_MS = 100
BROWSER_GOAL_MS = 1500


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def grid_rows(**params) -> str:
    return f"{GRID}/rows?" + urlencode({"page": 1, "size": 50, "count": 0, **params})


def grid_count(**params) -> str:
    return f"{GRID}/count" + (f"?{urlencode(params)}" if params else "")


def samples(session) -> dict:
    """Search terms taken from the data itself, so they exist whatever the seed."""
    import sqlalchemy as sa

    from portal.models import Customer

    def first(column, *where, start=500_000):
        return session.scalar(sa.select(column).where(Customer.id >= start, *where).order_by(Customer.id).limit(1))

    person = first(Customer.name, Customer.customer_type == "person", start=600_000)
    company = first(Customer.name, Customer.customer_type == "org", start=600_000)
    phone = first(Customer.phone, Customer.phone.is_not(None), start=700_000)
    return {
        "person_prefix": person[:2],
        "company_prefix": company[:2],
        "mobile": first(Customer.mobile, Customer.mobile.is_not(None), start=500_000),
        "phone_tail": "".join(ch for ch in phone if ch.isdigit())[-4:],
        "phone_tail8": "".join(ch for ch in phone if ch.isdigit())[-8:],
        "initials": "zw",
    }


def queries(s: dict) -> list[tuple[str, str, dict]]:
    """(group, label, grid parameters) — each is timed on …/rows and, separately, …/count."""
    from portal.grid.columns import grid_specs
    from portal.models import Customer

    result = [("first page", "first page (size 50, default order)", {})]
    for spec in grid_specs(Customer):
        if spec.listed:
            result.append(("sort", f"sort {spec.form_name} asc", {"sort": spec.form_name}))
            result.append(("sort", f"sort {spec.form_name} desc", {"sort": "-" + spec.form_name}))
    result += [
        ("filter", "filter value_grade = A", {"f.value_grade": "A"}),
        ("filter", "filter province = 浙江省", {"f.province": "浙江省"}),
        ("filter", "filter city contains 杭州", {"f.city": "杭州"}),
        ("filter", "filter credit_limit 10000..50000", {"f.credit_limit": "10000..50000"}),
        ("search", f"search q={s['person_prefix']} (person name, 2 chars)", {"q": s["person_prefix"]}),
        ("search", f"search q={s['company_prefix']} (company name, 2 chars)", {"q": s["company_prefix"]}),
        ("search", f"search q={s['mobile']} (full mobile)", {"q": s["mobile"]}),
        ("search", f"search q={s['phone_tail']} (last 4 digits of a phone)", {"q": s["phone_tail"]}),
        ("search", f"search q={s['phone_tail8']} (last 8 digits of a phone)", {"q": s["phone_tail8"]}),
        ("search", f"search q={s['initials']} (pinyin initials)", {"q": s["initials"]}),
    ]
    return result


FAB_QUERIES = (
    # FAB's list view as the portal configures it (CustomerView, 25 rows a page by default);
    # psize_ asks for 50 rows, like the grid requests above.
    ("first page", "FAB list, first page (50 rows)", "/customerview/list/?psize_CustomerView=50"),
    ("sort", "FAB list, sort name asc",
     "/customerview/list/?psize_CustomerView=50&_oc_CustomerView=name&_od_CustomerView=asc"),
    ("sort", "FAB list, sort name desc",
     "/customerview/list/?psize_CustomerView=50&_oc_CustomerView=name&_od_CustomerView=desc"),
    # _flt_<n>_<column>: n is the position of the filter in FAB's list for the column type;
    # for a text column 3 is FilterEqual (0 starts with, 1 ends with, 2 contains).
    ("filter", "FAB list, filter value_grade = A", "/customerview/list/?psize_CustomerView=50&_flt_3_value_grade=A"),
    ("search", "FAB list, mobile contains (full mobile)", None),  # filled in with the sample
)


class Recorder:
    """The statements one request sends, for EXPLAIN."""

    def __init__(self, engine):
        import sqlalchemy as sa

        self.statements: list[tuple[str, object]] = []
        self.active = False
        sa.event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if self.active and statement.lstrip().upper().startswith("SELECT") and "customer" in statement:
            self.statements.append((statement, parameters))


def explain(engine, kind: str, statement: str, parameters) -> str:
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        cursor = raw.cursor()
        if kind == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(f"  {'  ' * (row[1] > 0)}{row[3]}" for row in cursor.fetchall())
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = "\n".join("  " + row[0] for row in cursor.fetchall())
        raw.rollback()
        return plan


def time_requests(client, plan: list[tuple[str, str]], rounds: int, warmup: int) -> dict:
    """Wall time per request, and this process's CPU time (on SQLite that includes the
    database's work, so it shows what the shared machine's noise does to the wall time)."""
    timings: dict[str, list[float]] = {label: [] for label, _ in plan}
    cpu: dict[str, list[float]] = {label: [] for label, _ in plan}
    status: dict[str, int] = {}
    for r in range(warmup + rounds):
        for label, url in plan:
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            cpu_ms = (time.process_time() - cpu_started) * 1000
            status[label] = response.status_code
            if r >= warmup:
                timings[label].append(elapsed)
                cpu[label].append(cpu_ms)
    return {label: {"p50": statistics.median(v), "p95": percentile(v, 0.95), "max": max(v),
                    "cpu_p50": statistics.median(cpu[label]), "cpu_p95": percentile(cpu[label], 0.95),
                    "n": len(v), "status": status[label]}
            for label, v in timings.items()}


def server_benchmark(app, kind: str, args) -> dict:
    from portal.extensions import db

    client = app.test_client()
    response = client.post("/login/", data={"username": BENCH_USER, "password": BENCH_PASSWORD})
    assert response.status_code == 302, f"login failed: {response.status_code}"
    with app.app_context():
        s = samples(db.session)
        grid_queries = queries(s)
        total = db.session.execute(db.text("SELECT count(*) FROM customer")).scalar()

    plan: list[tuple[str, str]] = []
    meta: dict[str, dict] = {}
    for group, label, params in grid_queries:
        plan.append((label, grid_rows(**params)))
        meta[label] = {"group": group, "kind": "rows", "params": params}
        if group in ("first page", "filter", "search"):
            count_label = "count: " + label
            plan.append((count_label, grid_count(**{k: v for k, v in params.items() if k != "sort"})))
            meta[count_label] = {"group": group, "kind": "count", "params": params}
    fab_plan = []
    for group, label, url in FAB_QUERIES:
        if url is None:
            url = f"/customerview/list/?psize_CustomerView=50&_flt_2_mobile={s['mobile']}"
        fab_plan.append((label, url))
        meta[label] = {"group": group, "kind": "fab"}

    # Probe every URL once: status, size, and (with --explain) the SQL it sends.
    probes = {}
    explained = []
    recorder = None
    if args.explain:
        with app.app_context():
            recorder = Recorder(db.engine)
    for label, url in plan + fab_plan:
        if args.only and not re.search(args.only, label):
            probes[label] = {"status": "not run", "url": url}
            continue
        if recorder:
            recorder.statements.clear()
            recorder.active = True
        response = client.get(url)
        if recorder:
            recorder.active = False
        body = response.get_data()
        probes[label] = {"status": response.status_code, "bytes": len(body), "gzip": len(gzip.compress(body, 6)),
                         "url": url}
        if response.status_code == 200 and response.is_json:
            data = response.get_json()
            probes[label]["rows"] = len(data.get("rows", [])) if isinstance(data, dict) else None
            probes[label]["total"] = data.get("total") if isinstance(data, dict) else None
        elif response.status_code != 200:
            probes[label]["error"] = body[:200].decode("utf-8", "replace")
        if recorder:
            for statement, parameters in recorder.statements:
                if "count(" in statement.lower() or "limit" in statement.lower():
                    with app.app_context():
                        try:
                            started = time.perf_counter()
                            text = explain(db.engine, kind, statement, parameters)
                            ms = (time.perf_counter() - started) * 1000
                        except Exception as exc:  # a plan we cannot get is reported, not fatal
                            text, ms = f"  (no plan: {exc})", 0
                    explained.append(f"### {label}\n{url}\n{statement}\n-- parameters: {parameters!r}\n"
                                     f"-- explain took {ms:.0f} ms\n{text}\n")
    if explained:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"explain_{kind}.txt").write_text("\n".join(explained), encoding="utf-8")

    runnable = [(label, url) for label, url in plan + fab_plan if probes[label]["status"] == 200
                and (not args.only or re.search(args.only, label))]
    skipped = {label: probes[label] for label, _ in plan + fab_plan if probes[label]["status"] not in (200, "not run")}
    load_before = os.getloadavg()
    started = time.perf_counter()
    timed = time_requests(client, runnable, args.rounds, args.warmup)
    return {"samples": s, "customers": total, "timings": timed, "probes": probes, "meta": meta,
            "skipped": skipped, "load_average": {"before": load_before, "after": os.getloadavg()},
            "minutes": round((time.perf_counter() - started) / 60, 1)}


# ---------------------------------------------------------------------------------------
# Headless Chromium
# ---------------------------------------------------------------------------------------

FIRST_ROWS_SCRIPT = """
(() => {
  const stamp = () => {
    if (window.__firstRows === undefined && document.querySelector('.tabulator-row')) {
      window.__firstRows = performance.now();
      return true;
    }
    return false;
  };
  const observer = new MutationObserver(() => { if (stamp()) observer.disconnect(); });
  observer.observe(document, {childList: true, subtree: true});
})();
"""

TRANSFER_SCRIPT = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const sum = (list, key) => list.reduce((n, e) => n + (e[key] || 0), 0);
  return {
    document: nav ? nav.transferSize : 0,
    resources: sum(resources, 'transferSize'),
    decoded: (nav ? nav.decodedBodySize : 0) + sum(resources, 'decodedBodySize'),
    count: resources.length + 1,
    entries: resources.map(e => ({
      url: e.name.replace(location.origin, ''), transfer: e.transferSize, decoded: e.decodedBodySize,
      start: Math.round(e.startTime), end: Math.round(e.responseEnd)})),
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
  };
}
"""


def browser_benchmark(app, runs: int = 5) -> dict:
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    result: dict = {"runs": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-background-networking"])
            context = browser.new_context()
            page = context.new_page()
            page.goto(base + "/login/")
            page.fill("input[name=username]", BENCH_USER)
            page.fill("input[name=password]", BENCH_PASSWORD)
            with page.expect_navigation():
                page.press("input[name=password]", "Enter")
            state = context.storage_state()
            context.close()
            probe = browser.new_context(storage_state=state).new_page()
            response = probe.goto(base + "/grid/customer/")
            result["page_status"] = response.status if response else None
            probe.context.close()
            if result["page_status"] != 200:
                result["error"] = f"/grid/customer/ answered {result['page_status']}"
                return result
            for _ in range(runs):
                context = browser.new_context(storage_state=state)
                context.add_init_script(FIRST_ROWS_SCRIPT)
                page = context.new_page()
                responses: list[tuple[int, int]] = []

                def on_response(response, responses=responses):
                    try:
                        body = response.body()
                    except Exception:  # redirects have no body
                        return
                    responses.append((len(body), len(gzip.compress(body, 6))))

                page.on("response", on_response)
                started = time.perf_counter()
                page.goto(base + "/grid/customer/", wait_until="commit")
                page.wait_for_selector(".tabulator-row", state="visible", timeout=60_000)
                seen_ms = (time.perf_counter() - started) * 1000
                first_rows_ms = page.evaluate("window.__firstRows")
                page.wait_for_load_state("networkidle")
                transfer = page.evaluate(TRANSFER_SCRIPT)
                result["runs"].append({"first_rows_ms": first_rows_ms, "visible_ms": seen_ms,
                                       "transfer_bytes": transfer["document"] + transfer["resources"],
                                       "decoded_bytes": transfer["decoded"],
                                       "response_bodies": sum(n for n, _ in responses),
                                       "response_bodies_gzip": sum(g for _, g in responses),
                                       "requests": transfer["count"], "resources": transfer["entries"],
                                       "dom_content_loaded_ms": transfer["domContentLoaded"]})
                context.close()
            browser.close()
    finally:
        server.shutdown()
    for key in ("first_rows_ms", "visible_ms", "transfer_bytes", "decoded_bytes", "response_bodies",
                "response_bodies_gzip"):
        result[key] = statistics.median(r[key] for r in result["runs"])
    return result


# ---------------------------------------------------------------------------------------

def report(kind: str, server: dict | None, browser: dict | None) -> None:
    if server:
        t, probes, meta = server["timings"], server["probes"], server["meta"]
        print(f"\n{kind}: {server['customers']:,} customers; samples {server['samples']}; load average "
              f"{server['load_average']['before'][0]:.1f} before, {server['load_average']['after'][0]:.1f} after "
              f"{server['minutes']} min of timing")
        print(f"{'query':58} {'rows p50':>9} {'p95':>7}   {'count p50':>9} {'p95':>7}   rows/total")
        for label, info in meta.items():
            if info["kind"] != "rows":
                continue
            count_label = "count: " + label
            row = t.get(label)
            cnt = t.get(count_label)
            status = "HTTP " + str(probes[label]["status"])
            rows_txt = f"{row['p50']:9.0f} {row['p95']:7.0f}" if row else f"{status:>17}"
            cnt_txt = (f"{cnt['p50']:9.0f} {cnt['p95']:7.0f}" if cnt else
                       (f"{'HTTP ' + str(probes[count_label]['status']):>17}" if count_label in probes else " " * 17))
            flag = " !" if row and row["p95"] > GOAL_MS else ""
            if probes[label]["status"] == "not run":
                continue
            print(f"{label:58} {rows_txt}   {cnt_txt}   {probes[label].get('rows')}/{probes[label].get('total')}{flag}")
        for label, info in meta.items():
            if info["kind"] == "fab":
                row = t.get(label)
                if probes[label]["status"] == "not run":
                    continue
                txt = f"{row['p50']:9.0f} {row['p95']:7.0f}" if row else f"HTTP {probes[label]['status']}"
                print(f"{label:58} {txt}")
        first = probes[next(iter(meta))]
        if "bytes" in first:
            print(f"first page JSON: {first['bytes']:,} bytes, {first['gzip']:,} gzipped")
        if server["skipped"]:
            print("not timed (not answered 200):", {k: v["status"] for k, v in server["skipped"].items()})
    if browser:
        if browser.get("error"):
            print(f"browser: {browser['error']}")
        else:
            print(f"browser: first rows {browser['first_rows_ms']:.0f} ms from navigation start (median of "
                  f"{len(browser['runs'])}), visible to Playwright {browser['visible_ms']:.0f} ms; "
                  f"transferred {browser['transfer_bytes']:,} bytes as served (uncompressed), "
                  f"{browser['response_bodies_gzip']:,} bytes if gzipped")
            run = browser["runs"][-1]
            print("  last run, by start time (ms from navigation start):")
            for r in sorted(run["resources"], key=lambda r: r["start"]):
                print(f"    {r['start']:5d}–{r['end']:5d}  {r['transfer']:9,}  {r['url'][:90]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="write the query plans to bench/out/explain_<db>.txt")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--browser-only", action="store_true")
    parser.add_argument("--browser-runs", type=int, default=5)
    parser.add_argument("--only", help="time only the queries whose label matches this regular expression")
    parser.add_argument("--note", default="", help="kept in the JSON (e.g. which code and indexes were measured)")
    parser.add_argument("--sqlite-path", default=str(SQLITE_PATH))
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()

    from portal import create_app

    url = f"sqlite:///{args.sqlite_path}" if args.db == "sqlite" else args.pg_url
    app = create_app(bench_config(url))
    with app.app_context():
        # Roles and permissions as the code under test defines them (idempotent), so a
        # database generated before a change to seeds/roles.json still works.
        from portal.extensions import db
        from portal.seeds import initialise

        initialise(app.appbuilder, db.session)
        db.session.remove()
    server = None if args.browser_only else server_benchmark(app, args.db, args)
    browser = None if args.no_browser else browser_benchmark(app, args.browser_runs)
    report(args.db, server, browser)
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip() or None
    except OSError:
        commit = None
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = "_browser" if args.browser_only else ("_partial" if args.only else "")
    path = OUT / f"grid_speed_{args.db}{suffix}.json"
    path.write_text(json.dumps({"db": args.db, "when": time.strftime("%Y-%m-%d %H:%M"), "commit": commit,
                                "note": args.note,
                                "python": platform.python_version(), "server": server, "browser": browser},
                               ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
