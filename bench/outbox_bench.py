"""Benchmark: what the notification write-ahead costs an apply.

    python bench/outbox_bench.py                 # 1,000 changes, parallelism 8
    python bench/outbox_bench.py --changes 5000 --vendor-ms 20

Applies N ReadyCloud updates through ``apply_plan`` against an in-process
provider that answers after ``--vendor-ms`` milliseconds (no HTTP, so that the
figures are the outbox's own), three ways: without write-ahead, with it as
apply runs it (intents recorded in growing batches: at least 32, half of those
recorded so far; answers coalesced), with fixed batches of 32, and with one
write per intent (what per-event records would cost). Printed:
wall time, outbox writes (each one fsync'd temporary file + rename + directory
fsync) and the added time per change. The outbox is written in a temporary
directory on the same file system as this script's working directory.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.apply import apply_plan
from reconciler.plan.model import Change, FieldChange, Plan
from reconciler.providers.base import Provider
from reconciler.sinks.journal import WriteAhead
from reconciler.sinks.outbox import Outbox


class Answering(Provider):
    name = "readycloud"

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def refresh(self, progress: Any = None, observe: Any = None) -> Any:
        return {}

    def execute(self, change: Change) -> Any:
        time.sleep(self.delay)
        return {"url": f"https://rc.test/api/v2/orgs/1/products/{change.resource_id}/", "code": change.key,
                "description": f"Product {change.key}", "unit_price": "12.50 USD", **change.body}


def changes(n: int) -> list[Change]:
    return [Change("readycloud", "update", f"SKU-{i:06}", str(i), (FieldChange("quantity", 1, i + 2),),
                   {"quantity": i + 2}, live={"code": f"SKU-{i:06}", "quantity": 1}) for i in range(n)]


def run(n: int, parallelism: int, delay: float, batch: int | None, grow: bool = True) -> tuple[float, int]:
    plan = Plan(tuple(changes(n)))
    provider: dict[str, Provider] = {"readycloud": Answering(delay)}
    with tempfile.TemporaryDirectory(dir=".") as directory:
        started = time.perf_counter()
        if batch is None:
            apply_plan(plan, provider, parallelism=parallelism)
            return time.perf_counter() - started, 0
        journal = WriteAhead(Outbox(Path(directory) / "outbox.json"), plan.changes, livemode=True, batch=batch,
                             grow=grow)
        result = apply_plan(plan, journal.wrap(provider), parallelism=parallelism, on_result=journal.answered)
        journal.events(result.results)
        journal.settle()  # (as after delivery)
        return time.perf_counter() - started, journal.writes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--vendor-ms", type=float, default=5.0, help="how long the fake vendor takes per write")
    args = parser.parse_args()
    n, delay = args.changes, args.vendor_ms / 1000
    base, _ = run(n, args.parallelism, delay, None)
    print(f"{n} changes, parallelism {args.parallelism}, vendor {args.vendor_ms:g} ms per write")
    print(f"  no write-ahead          {base:7.3f} s")
    for label, batch, grow in (("write-ahead (as apply)", 32, True), ("fixed batches of 32", 32, False),
                               ("one write per intent", 1, False)):
        seconds, writes = run(n, args.parallelism, delay, batch, grow)
        extra = (seconds - base) / n * 1000
        print(f"  {label:22}  {seconds:7.3f} s  {writes:5} writes  {extra:+.3f} ms per change")


if __name__ == "__main__":
    main()
