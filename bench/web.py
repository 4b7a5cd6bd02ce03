"""Web UI benchmark (issue 5): server time of the customer screens at 100,000 customers.

    python bench/web.py [--customers 100000] [--db sqlite|postgres|both] [--requests 30] [--keep]

Builds a fresh database like bench/foundation.py (same helpers: SQLite in a temporary
GUANXI_HOME, PostgreSQL as `guanxi_bench_web`), fills it with `guanxi demo`, then renders the real
pages in-process through the URL configuration (Django test Client, full template rendering,
session of the manager `demo`, who sees a department, and of the busiest sales rep):

- customer list (baseline)            GET /customers/
- list filtered by state, sorted      GET /customers/?state=current&sort=name
- list, a deep page                   GET /customers/?page=400  (the 10,000-row cap)
- live search, 1 Chinese character    GET /customers/?q=明  (htmx fragment)
- live search, pinyin initials        GET /customers/?q=<initials of a real name>  (htmx fragment)
- global search box                   GET /search/?q=明  (htmx fragment)
- customer 360° page                  GET /customers/<id>/  (distinct customers)

p50/p95 in milliseconds and SQL queries per request. Absolute numbers depend on what else
runs on the machine; the ratios to the baseline are the stable part.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import foundation  # noqa: E402
from foundation import drop_postgres, prepare_environment  # noqa: E402

foundation.PG_DATABASE = "guanxi_bench_web"  # its own database, so it can run beside bench/foundation.py


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the bench databases (paths are printed)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.db == "both":
        codes = []
        for db in ("sqlite", "postgres"):
            command = [sys.executable, __file__, "--db", db, "--customers", str(args.customers),
                       "--requests", str(args.requests), "--seed", str(args.seed)] + (["--keep"] if args.keep else [])
            codes.append(subprocess.call(command))
        return max(codes)
    return run(args)


def run(args) -> int:
    home = Path(tempfile.mkdtemp(prefix=f"gx-bench-web-{args.db}-"))
    (home / "static").mkdir()
    env = prepare_environment(args.db, home)
    guanxi = [sys.executable, "-m", "guanxi"]
    try:
        subprocess.run([*guanxi, "migrate", "--no-input", "-v", "0"], env=env, check=True)
        subprocess.run([*guanxi, "demo", "--customers", str(args.customers), "--seed", str(args.seed), "-v", "0"],
                       env=env, check=True)
        # Pages render {% static %}: plain static storage, as in the tests (no collectstatic manifest needed).
        os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings_test"
        return measure(args)
    finally:
        if args.keep:
            print(f"kept: GUANXI_HOME={home}" + (f" DATABASE_URL={env['DATABASE_URL']}" if "DATABASE_URL" in env else ""))
        else:
            if args.db == "postgres":
                if "django.db" in sys.modules:
                    from django.db import connections

                    connections.close_all()
                drop_postgres()
            shutil.rmtree(home, ignore_errors=True)


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(args) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rich.console import Console
    from rich.table import Table

    from guanxi.accounts.models import Role, User
    from guanxi.core.visibility import visible_customers
    from guanxi.customers.models import Customer
    from guanxi.customers.search import _pinyin_variants

    console = Console()
    total = Customer.objects.count()
    manager = User.objects.get(username="demo")
    rep = User.objects.get(pk=Customer.objects.filter(owner__role=Role.SALES).values("owner")
                           .annotate(n=Count("pk")).order_by("-n", "owner").values_list("owner", flat=True)[0])
    name = (Customer.objects.filter(kind="person", name__regex=r"^[\u4e00-\u9fff]{3}$")
            .order_by("pk").values_list("name", flat=True).first() or "李明华")
    initials = min(_pinyin_variants(name), key=len)
    rng = random.Random(args.seed)
    hx = {"HTTP_HX_REQUEST": "true"}
    cases = [
        ("customer list (baseline)", "/customers/", {}),
        ("list state=current, sort=name", "/customers/?state=current&sort=name", {}),
        ("list page 400 (cap)", "/customers/?page=400", {}),
        ("live search 明 (htmx)", "/customers/?q=明", hx),
        (f"live search {initials} (htmx)", f"/customers/?q={initials}", hx),
        ("global search 明 (htmx)", "/search/?q=明", hx),
    ]

    table = Table(title=f"Customer screens on {connection.vendor}, {total:,} customers, {args.requests} requests each")
    for column in ("user", "page", "p50 ms", "p95 ms", "× list", "queries", "HTTP"):
        table.add_column(column, justify="left" if column in ("user", "page") else "right")
    failures = 0
    for label, user in (("manager", manager), ("sales rep", rep)):
        client = Client()
        client.force_login(user)
        baseline = None
        for title, path, headers in cases:
            for _ in range(3):
                client.get(path, **headers)
            samples, status = [], None
            for _ in range(args.requests):
                start = time.perf_counter()
                status = client.get(path, **headers).status_code
                samples.append((time.perf_counter() - start) * 1000)
            with CaptureQueriesContext(connection) as captured:
                client.get(path, **headers)
            p50 = statistics.median(samples)
            baseline = baseline or p50
            failures += status != 200
            table.add_row(label, title, f"{p50:.1f}", f"{percentile(samples, 0.95):.1f}", f"{p50 / baseline:.2f}",
                          str(len(captured)), str(status))
        visible = list(visible_customers(user).order_by("pk").values_list("pk", flat=True)[:5000])
        ids = rng.sample(visible, min(len(visible), args.requests))
        for pk in ids[:3]:
            client.get(f"/customers/{pk}/")
        samples, statuses, queries = [], set(), []
        for pk in ids:
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                statuses.add(client.get(f"/customers/{pk}/").status_code)
                samples.append((time.perf_counter() - start) * 1000)
            queries.append(len(captured))
        failures += statuses != {200}
        table.add_row(label, "customer 360° (distinct customers)", f"{statistics.median(samples):.1f}",
                      f"{percentile(samples, 0.95):.1f}", f"{statistics.median(samples) / baseline:.2f}",
                      f"{min(queries)}–{max(queries)}", ",".join(map(str, sorted(statuses))))
        table.add_section()
    console.print(table)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
