"""Sales and engagement benchmark: API latency and SQL queries per request on demo data.

Run as ``python bench/sales.py [--customers N] [--requests R]`` with the project's virtualenv.
It uses its own GUANXI_HOME (default ``/tmp/gx-bench-sales``; SQLite unless DATABASE_URL is
set), migrates, fills it once with ``guanxi demo --customers N`` and then times, through the
real URL configuration with a bearer token, for an administrator (sees everything) and a sales
rep (visibility subquery):

- order list page (50, status filter, capped count), and the same at offset 5,000;
- opportunity, interaction and task lists (50);
- one customer's receivables and timeline (the customer with the most orders);
- "my tasks" due today.

For each: p50 and p95 in milliseconds over R requests and the number of SQL queries, which must
not depend on the page size (it is printed for limit 10 and limit 200 to show it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--home", default="/tmp/gx-bench-sales")
    args = parser.parse_args()

    os.environ.setdefault("GUANXI_HOME", args.home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    os.environ.setdefault("GUANXI_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from guanxi.accounts.models import Role, User
    from guanxi.accounts.tokens import create_token
    from guanxi.customers.models import Customer

    call_command("migrate", verbosity=0)
    if not Customer.objects.exists():
        started = time.perf_counter()
        call_command("demo", customers=args.customers, seed=1)
        print(f"demo data for {args.customers} customers: {time.perf_counter() - started:.0f} s")
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).first()
    rep = (
        User.objects.filter(role=Role.SALES, is_active=True)
        .annotate(n=Count("owned_customers")).order_by("-n").first()
    )
    busiest = Customer.objects.filter(owner=rep).annotate(n=Count("orders")).order_by("-n").first()

    print(f"database: {connection.vendor}; customers: {Customer.objects.count()}; rep {rep.username} owns {rep.n}")
    for user in (admin, rep):
        _token, raw = create_token(user=user, name="bench")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        cases = [
            ("orders ?status=confirmed", "/api/v1/orders?status=confirmed&limit=50"),
            ("orders offset 5000", "/api/v1/orders?limit=50&offset=5000"),
            ("opportunities ?status=open", "/api/v1/opportunities?status=open&limit=50"),
            ("interactions", "/api/v1/interactions?limit=50"),
            ("tasks ?mine&due=today", "/api/v1/tasks?mine=true&due=today&limit=50"),
            ("customer receivables", f"/api/v1/customers/{busiest.pk}/receivables"),
            ("customer timeline", f"/api/v1/customers/{busiest.pk}/timeline?limit=50"),
        ]
        print(f"\nas {user.role} {user.username}")
        print(f"{'request':32} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'q@10':>5} {'q@200':>6}")
        for label, url in cases:
            assert client.get(url).status_code == 200, url
            timings = []
            for _ in range(args.requests):
                started = time.perf_counter()
                client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            small, large = (_queries(client, url, n, CaptureQueriesContext, connection) for n in (10, 200))
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
            print(f"{label:32} {statistics.median(timings):8.1f} {p95:8.1f} {len(queries):8d} {small:>5} {large:>6}")


def _queries(client, url, limit, capture, connection) -> str:
    if "limit=" not in url:
        return "-"
    with capture(connection) as queries:
        client.get(url.replace("limit=50", f"limit={limit}"))
    return str(len(queries))


if __name__ == "__main__":
    main()
