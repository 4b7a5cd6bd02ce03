"""Foundation benchmark (issue 3): demo generation at scale and the customer API's latency.

    python bench/foundation.py [--customers 100000] [--db sqlite|postgres|both] [--requests 30] [--keep]

For each database it builds a fresh one — SQLite in a temporary GUANXI_HOME, PostgreSQL as
`guanxi_bench` on postgres://postgres@127.0.0.1:5432 (created with a UTF-8 locale, dropped at
the end) — migrates it, fills it with `guanxi demo --customers N` (timed, the real command in a
subprocess), then times in-process requests through the real URL configuration (Django test
Client, session of a manager `demo` and of the sales rep owning most customers):

- customer list with a filter and a count  GET /api/v1/customers?state=current&limit=50
- the same list unfiltered                 (the baseline the ratios are computed against)
- Chinese 1-character search               GET /api/v1/customers?search=明
- 3-character search (a real full name)    GET /api/v1/customers?search=<name>
- customer detail                          GET /api/v1/customers/{id}
- customer timeline                        GET /api/v1/customers/{id}/timeline

p50/p95 in milliseconds over --requests requests each (after 3 warm-up requests), and the number
of SQL queries for the list at limit=10 and limit=100, which must be equal. Absolute numbers
depend on what else the machine runs; the ratios within one run are the stable part.
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
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
PG_DATABASE = "guanxi_bench"


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
        # One process per database: Django's settings are fixed once per process.
        codes = []
        for db in ("sqlite", "postgres"):
            command = [sys.executable, __file__, "--db", db, "--customers", str(args.customers),
                       "--requests", str(args.requests), "--seed", str(args.seed)] + (["--keep"] if args.keep else [])
            codes.append(subprocess.call(command))
        return max(codes)
    return run(args)


def prepare_environment(db: str, home: Path) -> dict[str, str]:
    env = {**os.environ, "GUANXI_HOME": str(home), "DJANGO_SETTINGS_MODULE": "guanxi.settings",
           "GUANXI_ALLOWED_HOSTS": "testserver,127.0.0.1"}
    env.pop("DATABASE_URL", None)
    if db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DATABASE} TEMPLATE template0 ENCODING 'UTF8' "
                         "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'")
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_DATABASE}"
    os.environ.update(env)
    if "DATABASE_URL" not in env:
        os.environ.pop("DATABASE_URL", None)
    return env


def drop_postgres() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


def run(args) -> int:
    home = Path(tempfile.mkdtemp(prefix=f"gx-bench-foundation-{args.db}-"))
    (home / "static").mkdir()  # API only: no collectstatic needed, but whitenoise warns without the directory
    env = prepare_environment(args.db, home)
    guanxi = [sys.executable, "-m", "guanxi"]
    try:
        subprocess.run([*guanxi, "migrate", "--no-input", "-v", "0"], env=env, check=True)
        started = time.perf_counter()
        subprocess.run([*guanxi, "demo", "--customers", str(args.customers), "--seed", str(args.seed), "-v", "0"],
                       env=env, check=True)
        generation = time.perf_counter() - started
        return measure(args, generation)
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


def measure(args, generation: float) -> int:
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
    from guanxi.sales.models import Order

    console = Console()
    customers, orders = Customer.objects.count(), Order.objects.count()
    console.print(f"[bold]{connection.vendor}[/bold]: {customers:,} customers, {orders:,} orders generated by "
                  f"`guanxi demo` in {generation:.1f} s ({customers / generation:,.0f} customers/s)")

    manager = User.objects.get(username="demo")
    rep = User.objects.get(pk=Customer.objects.filter(owner__role=Role.SALES).values("owner")
                           .annotate(n=Count("pk")).order_by("-n", "owner").values_list("owner", flat=True)[0])
    rng = random.Random(args.seed)
    three_char_name = (Customer.objects.filter(kind="person", name__regex=r"^[\u4e00-\u9fff]{3}$")
                       .order_by("pk").values_list("name", flat=True).first() or "李明华")

    def timed(client, path, n):
        for _ in range(3):
            client.get(path)
        samples, status = [], None
        for _ in range(n):
            start = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - start) * 1000)
            status = response.status_code
        samples.sort()
        p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
        return statistics.median(samples), p95, status

    def queries(client, path):
        with CaptureQueriesContext(connection) as captured:
            status = client.get(path).status_code
        return len(captured), status

    table = Table(title=f"Customer API on {connection.vendor}, {customers:,} customers, {args.requests} requests each")
    for column in ("user", "request", "p50 ms", "p95 ms", "× list", "HTTP"):
        table.add_column(column, justify="right" if column not in ("user", "request") else "left")
    failures = 0
    for label, user in (("manager", manager), ("sales rep", rep)):
        client = Client(raise_request_exception=False)  # a 500 is reported, not fatal
        client.force_login(user)
        visible = list(visible_customers(user).order_by("pk").values_list("pk", flat=True)[:5000])
        sample_ids = rng.sample(visible, min(len(visible), args.requests))
        baseline = None
        cases = [
            ("list (baseline)", "/api/v1/customers?limit=50"),
            ("list state=current + count", "/api/v1/customers?state=current&limit=50"),
            ("search 明 (1 char)", "/api/v1/customers?search=明&limit=50"),
            (f"search {three_char_name} (3 chars)", f"/api/v1/customers?search={three_char_name}&limit=50"),
            ("search zhang (pinyin)", "/api/v1/customers?search=zhang&limit=50"),
        ]
        for name, path in cases:
            p50, p95, status = timed(client, path, args.requests)
            baseline = baseline or p50
            failures += status != 200
            table.add_row(label, name, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / baseline:.2f}", str(status))
        for name, template in (("detail", "/api/v1/customers/{}"), ("timeline", "/api/v1/customers/{}/timeline")):
            samples, statuses = [], set()
            for pk in sample_ids[:3]:
                client.get(template.format(pk))
            for pk in sample_ids:
                start = time.perf_counter()
                statuses.add(client.get(template.format(pk)).status_code)
                samples.append((time.perf_counter() - start) * 1000)
            samples.sort()
            p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
            failures += statuses != {200}
            table.add_row(label, f"{name} (distinct customers)", f"{statistics.median(samples):.1f}", f"{p95:.1f}",
                          f"{statistics.median(samples) / baseline:.2f}", ",".join(map(str, sorted(statuses))))
        table.add_section()
    console.print(table)

    counts = Table(title="SQL queries per request (must not grow with the page size)")
    for column in ("user", "request", "limit=10", "limit=100", "equal"):
        counts.add_column(column)
    for label, user in (("manager", manager), ("sales rep", rep)):
        client = Client(raise_request_exception=False)  # a 500 is reported, not fatal
        client.force_login(user)
        for name, path in (("list state=current", "/api/v1/customers?state=current&limit={}"),
                           ("search 明", "/api/v1/customers?search=明&limit={}")):
            small, _ = queries(client, path.format(10))
            large, _ = queries(client, path.format(100))
            failures += small != large
            counts.add_row(label, name, str(small), str(large), "yes" if small == large else "[red]NO[/red]")
    console.print(counts)
    if failures:
        console.print(f"[red]{failures} check(s) failed (non-200 responses or query counts growing with page size)[/red]")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
