"""Engine CPU per product: what `reconciler plan` itself spends on each
product, in CPU seconds (less sensitive than wall time to a shared machine).

    python bench/engine_cpu.py --sizes 10000

The sandbox (its own process) is seeded as in bench.py and its listing pages
are recorded once; every turn then serves those same pages from memory
(httpx.MockTransport), so no turn waits on the network. Engine CPU is the
load of the catalog (parse and validation, no listing overlapping it), plus
refresh-and-plan less a bare listing of the same recorded pages through the
same client (its HTTP and JSON work are the client's, not the engine's),
plus the text rendering; divided by the declared products; the median of
--repeat turns. The collector runs with the interpreter's settings.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench  # noqa: E402
from reconciler import engine  # noqa: E402
from reconciler.render import text as render_text  # noqa: E402


def record(url: str) -> dict[str, bytes]:
    """Every listing page's body by its path and query, as the sandbox answered."""
    pages: dict[str, bytes] = {}
    with httpx.Client(headers={"Authorization": f"Bearer {bench.TOKEN}"}, timeout=60) as client:
        next_url: str | None = f"{url}/api/v2/orgs/1/products/?limit=100"
        while next_url:
            answer = client.get(next_url)
            pages[answer.request.url.raw_path.decode()] = answer.content
            next_url = answer.json()["next"]
    return pages


def measure(n: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        process, url = bench.start_sandbox(Path(tmp) / "state.sqlite3")
        try:
            bench.seed(url, n, 0)
            pages = record(url)
        finally:
            process.terminate()
            process.wait(timeout=10)
        catalog_path = Path(tmp) / "catalog.yaml"
        bench.write_catalog(catalog_path, n, 0)
        transport = httpx.MockTransport(lambda request: httpx.Response(
            200, content=pages[request.url.raw_path.decode()], headers={"Content-Type": "application/json",
                                                                        "Date": "Thu, 03 Dec 2026 12:00:00 GMT"}))
        env = {**os.environ, "READYCLOUD_BASE_URL": f"{url}/api/v2", "READYCLOUD_TOKEN": bench.TOKEN,
               "READYCLOUD_MAX_RPM": "0"}
        engine.EARLY_LISTING_FROM = 1 << 62  # (the load alone: no listing overlapping it)
        turns: list[float] = []
        for _ in range(repeat):
            with ExitStack() as stack:
                started = time.process_time()
                catalog, providers = engine.load_and_open(catalog_path, stack, environ=env, transport=transport)
                loaded = time.process_time()
                plan = engine.refresh_and_plan(catalog, providers)
                planned = time.process_time()
                render_text.render_plan(plan)
                rendered = time.process_time()
            with httpx.Client(headers={"Authorization": f"Bearer {bench.TOKEN}"}, transport=transport) as client:
                bare = time.process_time()
                next_url: str | None = f"{url}/api/v2/orgs/1/products/?limit=100"
                while next_url:
                    next_url = client.get(next_url).json()["next"]
                listed = time.process_time()
            engine_cpu = (loaded - started) + (planned - loaded) - (listed - bare) + (rendered - planned)
            turns.append(1e6 * engine_cpu / (n + n // 100))
        return {"size": n, "us_per_product": statistics.median(turns), "turns": turns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for n in args.sizes:
        r = measure(n, args.repeat)
        print(f"{n:,} products: engine CPU {r['us_per_product']:.1f} µs/product (median of {args.repeat} turns: "
              f"{', '.join(f'{x:.1f}' for x in r['turns'])}); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
