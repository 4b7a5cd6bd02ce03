"""Scoring benchmark: a full `run_scoring` over 100,000 demo customers (~1M orders).

Run as ``python bench/scoring.py [--db sqlite|postgres|both] [--customers N] [--repeats N]``.

For SQLite it uses ``$GUANXI_BENCH_HOME`` (default ``/tmp/gx-bench-insights``); for PostgreSQL
the database ``guanxi_bench_scoring`` on ``postgres://postgres@127.0.0.1:5432`` (override with
``GUANXI_BENCH_PG``). Each database is migrated and filled with ``guanxi demo --customers N
--seed 1`` the first time (minutes), then reused. Every repeat runs in a child process (a
fresh Django, as `guanxi score` would be) and reports wall time per phase: reading, models,
writing, total. Target: well under a minute on both databases.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUANXI = str(ROOT / ".venv" / "bin" / "guanxi") if (ROOT / ".venv" / "bin" / "guanxi").exists() else "guanxi"
SQLITE_HOME = os.environ.get("GUANXI_BENCH_HOME", "/tmp/gx-bench-insights")
PG_SERVER = os.environ.get("GUANXI_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = "guanxi_bench_scoring"

CHILD = r"""
import json, time, django
django.setup()
from guanxi.insights import services
phases = {}
started = time.monotonic()
def progress(phase, done, total):
    phases.setdefault(phase, time.monotonic() - started)
run = services.run_scoring(progress=progress)
total = time.monotonic() - started
print(json.dumps({"total": total, "phases": phases, "customers": run.customers,
                  "fitted": run.parameters.get("fitted", {})}))
"""


def environment(db: str) -> dict[str, str]:
    env = {**os.environ, "GUANXI_HOME": SQLITE_HOME, "DJANGO_SETTINGS_MODULE": "guanxi.settings"}
    env.pop("DATABASE_URL", None)
    if db == "postgres":
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_DATABASE}"
    return env


def prepare(db: str, customers: int) -> None:
    env = environment(db)
    if db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE]).fetchone():
                conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    subprocess.run([GUANXI, "migrate", "-v0"], env=env, check=True)
    subprocess.run([GUANXI, "demo", "--customers", str(customers), "--seed", "1", "--if-empty", "-v0"], env=env, check=True)


def measure(db: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD], env=environment(db), check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        prepare(db, args.customers)
        times = []
        for _ in range(args.repeats):
            result = measure(db)
            times.append(result["total"])
            marks = sorted(result["phases"].items(), key=lambda kv: kv[1])
            split = ", ".join(f"{name} from {at:.1f}s" for name, at in marks)
            print(f"{db:8s} {result['customers']:,} customers scored in {result['total']:.1f} s ({split})", flush=True)
        print(f"{db:8s} best {min(times):.1f} s over {len(times)} run(s)", flush=True)


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"bench/scoring.py finished in {time.monotonic() - t0:.0f} s")
