"""`make bench`: run every benchmark in bench/ in turn (each bench/*.py but this file).

    python bench/run.py [NAME ...]

Each benchmark runs in its own process with this interpreter and prints its own tables; the
exit status is non-zero if any of them failed. Give names (e.g. `foundation analytics`) to run
only those.
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    if argv:
        wanted = {name.removesuffix(".py") for name in argv}
        scripts = [p for p in scripts if p.stem in wanted]
    results = []
    for script in scripts:
        print(f"\n=== bench/{script.name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)])
        results.append((script.name, code, time.perf_counter() - started))
    print("\n=== summary ===")
    for name, code, seconds in results:
        print(f"{name:24} {'ok' if code == 0 else f'FAILED ({code})':12} {seconds:8.1f} s")
    return max((code for _, code, _ in results), default=0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
