"""Requests `apply PLANFILE` sends, against those of the `plan` that made the file.

    python bench/saved_plan_requests.py                 # 1,000 and 10,000 products
    python bench/saved_plan_requests.py --sizes 5000

A sandbox (in this process) is seeded with N ReadyCloud products; the catalog
changes 5% of them. `plan --out` saves the plan, then `apply plan.json`
re-derives it from the catalog and the live state and applies it. Printed per
size: the reads and writes each command sent (from the sandbox's request log).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reconciler.cli import main  # noqa: E402
from reconciler.sandbox import Sandbox  # noqa: E402

TOKEN = "bench-token"


def counted(box: Sandbox) -> Counter[str]:
    return Counter("read" if r["method"] == "GET" else "write" for r in box.requests())


def run(size: int, work: Path) -> tuple[Counter[str], Counter[str]]:
    with Sandbox(work / f"sandbox-{size}.sqlite3", token=TOKEN) as box:
        box.seed_readycloud(1, [{"code": f"P-{i}", "kind": "goods", "quantity": 1} for i in range(size)])
        catalog = work / f"catalog-{size}.yaml"
        catalog.write_text("readycloud: {org: 1}\nproducts:\n" + "".join(
            f"  - {{code: P-{i}, quantity: {2 if i % 20 == 0 else 1}}}\n" for i in range(size)))
        os.environ.update(READYCLOUD_BASE_URL=box.readycloud_base_url, READYCLOUD_TOKEN=TOKEN,
                          READYCLOUD_MAX_RPM="0")
        plan_path = str(work / f"plan-{size}.json")
        with redirect_stdout(StringIO()):
            box.clear_requests()
            assert main(["plan", "-c", str(catalog), "--out", plan_path]) == 0
            planned = counted(box)
            box.clear_requests()
            assert main(["apply", plan_path, "-c", str(catalog)]) == 0
            applied = counted(box)
    return planned, applied


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print("| products | plan: reads | apply plan.json: reads | apply plan.json: writes |")
    print("| ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            planned, applied = run(size, Path(tmp))
            print(f"| {size:,} | {planned['read']:,} | {applied['read']:,} | {applied['write']:,} |")


if __name__ == "__main__":
    main_()
