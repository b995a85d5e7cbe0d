"""Benchmark: plan and apply against the sandbox at several catalog sizes.

    python bench/bench.py                       # 1,000 / 10,000 / 100,000 products
    python bench/bench.py --sizes 1000 --cobuilder 1000

For each size the sandbox (a separate `reconciler sandbox serve` process) is
seeded with N live products; the catalog changes 5% of them, adds 1% new ones
and tombstones 1%. Optionally the first K products also carry Cobuilder
property values (3 properties each, 5% of them changed). Each size runs in its
own process so that its peak memory is its own.

Printed per size: wall time split into load / refresh / diff / render / apply,
requests sent against the minimum possible, the time a bare sequential client
needs just to list all the pages, the plan/listing ratio (plan and bare listing
take turns, --repeat times each, and the ratio is the median of each turn's
plan / bare listing: the machines this runs on are shared and noisy; every
run's figures are printed too), the engine overhead
per unchanged product and peak memory (ru_maxrss of the measuring process).

Also printed: the whole-process ratio, `reconciler plan` as a user runs it
(a process of its own, start-up included, output to /dev/null) against a bare
client process (`python -c`, urllib, start-up included too) reading the same
pages following `next` (and the same Cobuilder products), taking turns
(--process-repeat, default --repeat); the median of the turns' ratios. This
part goes through the command line only, so it does not depend on the
engine's internals. The package's bytecode is compiled first, as `pip
install` leaves it (under PYTHONDONTWRITEBYTECODE=1 an editable install would
compile the whole package again in every process).
"""
from __future__ import annotations

import argparse
import compileall
import gc
import json
import math
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import reconciler  # noqa: E402
from reconciler import engine  # noqa: E402
from reconciler.catalog.load import load_catalog  # noqa: E402
from reconciler.catalog.model import Catalog  # noqa: E402
from reconciler.plan import Plan  # noqa: E402
from reconciler.render import text as render_text  # noqa: E402

TOKEN = "bench-token"
UNIT = "NoUnitGuid000000000001"
PROPS = ("BenchPropertyGuid00001", "BenchPropertyGuid00002", "BenchPropertyGuid00003")


class CountingTransport(httpx.BaseTransport):
    """Counts what the client actually sends, by method. The HTTP transport
    behind it is made at the first request, not before the plan's clock
    starts: making one loads the TLS certificates (~20 ms), which
    `reconciler plan` does while the catalog loads, and the bare listing's
    time includes making its client too."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()  # (requests come from several threads)
        self._inner: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.counts[request.method] = self.counts.get(request.method, 0) + 1
            if self._inner is None:
                self._inner = httpx.HTTPTransport()
            inner = self._inner
        return inner.handle_request(request)

    def close(self) -> None:
        with self._lock:
            if self._inner is not None:
                self._inner.close()

    def take(self) -> dict[str, int]:
        with self._lock:
            counts, self.counts = self.counts, {}
        return counts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sandbox(state: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "reconciler.cli", "sandbox", "serve", "--port", str(port),
                                "--state", str(state), "--token", TOKEN], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{url}/_sandbox/health", timeout=1)
            return process, url
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the sandbox did not start")
            time.sleep(0.1)


def seed(url: str, n: int, cobuilder: int) -> None:
    """N live products, last changed a day ago (as_of), as in a catalog that has been live a while."""
    as_of = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    with httpx.Client(timeout=600) as client:
        client.delete(f"{url}/_sandbox/state").raise_for_status()
        for start in range(0, n, 20_000):
            products = [{"code": f"P{i:06}", "kind": "goods", "description": f"Product {i}", "quantity": i % 50,
                         "unit_price": f"{i % 90 + 10}.00 USD", "unit_weight": "170 g",
                         "custom_fields": {"Color": {"value": "black"}}}
                        for i in range(start, min(n, start + 20_000))]
            client.post(f"{url}/_sandbox/seed", json={"readycloud": {"orgs": {"1": products}}, "as_of": as_of}
                        ).raise_for_status()
        for start in range(0, cobuilder, 20_000):
            products_cb = {str(1_000_000 + i): {"parentId": 0, "properties": [
                {"propertyGuid": g, "unitGuid": UNIT, "values": [{"value": f"{g[-1]}-{i}"}]} for g in PROPS]}
                for i in range(start, min(cobuilder, start + 20_000))}
            client.post(f"{url}/_sandbox/seed", json={"cobuilder": {"products": products_cb}}).raise_for_status()


def write_catalog(path: Path, n: int, cobuilder: int) -> dict[str, Any]:
    rng = random.Random(n)
    changed = set(rng.sample(range(n), n * 5 // 100))
    tombstoned = set(rng.sample(sorted(set(range(n)) - changed), n // 100))
    cb_changed = set(rng.sample(sorted(set(range(cobuilder)) - tombstoned), cobuilder * 5 // 100)) if cobuilder else set()
    lines = ["readycloud: {org: 1}", "cobuilder: {}" if cobuilder else "", "products:"]
    for i in range(n):
        if i in tombstoned:
            lines.append(f"  - {{code: P{i:06}, absent: true}}")
            continue
        quantity = i % 50 + (1 if i in changed else 0)
        lines += [f"  - code: P{i:06}", "    kind: goods", f"    description: Product {i}",
                  f"    quantity: {quantity}", f"    unit_price: {i % 90 + 10} USD", "    unit_weight: 170.0 g",
                  "    custom_fields: {Color: {value: black}}"]
        if i < cobuilder:
            lines += ["    cobuilder:", f"      id: {1_000_000 + i}", "      properties:"]
            for g in PROPS:
                value = f"{g[-1]}-{i}" + ("x" if i in cb_changed and g == PROPS[0] else "")
                lines.append(f"        - {{propertyGuid: {g}, unitGuid: {UNIT}, values: [{{value: \"{value}\"}}]}}")
    for j in range(n // 100):
        lines.append(f"  - {{code: NEW{j:06}, kind: goods, description: New {j}, quantity: 1}}")
    path.write_text("\n".join(lines) + "\n")
    cobuilder_ids = [1_000_000 + i for i in range(cobuilder) if i not in tombstoned]  # (a tombstone declares none)
    return {"changes": len(changed) + len(tombstoned) + n // 100 + len(cb_changed), "cobuilder_ids": cobuilder_ids}


def bare_listing(url: str, cobuilder_ids: list[int]) -> float:
    """A bare sequential client making the reads a plan needs and nothing else:
    every page of the ReadyCloud listing, then each declared Cobuilder product."""
    started = time.perf_counter()
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
        next_url: str | None = f"{url}/api/v2/orgs/1/products/?limit=100"
        while next_url:
            next_url = client.get(next_url).json()["next"]
        for product_id in cobuilder_ids:
            client.get(f"{url}/products-management/api/v3/products/{product_id}/properties/values").json()
    return time.perf_counter() - started


#: The bare client process: every page of the ReadyCloud listing following
#: `next`, then each Cobuilder product a plan reads (ids in a JSON file), one
#: after another, with urllib; nothing else.
BARE_PROCESS = """
import json, sys, urllib.request
base, token, ids = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
auth = {"Authorization": "Bearer " + token}
url = base + "/api/v2/orgs/1/products/?limit=100"
while url:
    with urllib.request.urlopen(urllib.request.Request(url, headers=auth)) as answer:
        url = json.load(answer)["next"]
for product_id in ids:
    with urllib.request.urlopen(urllib.request.Request(
            base + "/products-management/api/v3/products/%d/properties/values" % product_id, headers=auth)) as answer:
        json.load(answer)
"""


def whole_process(url: str, catalog_path: Path, env: dict[str, str], cobuilder_ids: list[int],
                  turns: int) -> dict[str, Any]:
    """`reconciler plan -c CATALOG` as a user runs it (its own process, output
    to /dev/null) and the bare client process, taking turns."""
    compileall.compile_dir(Path(reconciler.__file__).parent, quiet=1)  # (as `pip install` leaves it)
    ids_path = catalog_path.with_name("cobuilder_ids.json")
    ids_path.write_text(json.dumps(cobuilder_ids))
    plan_argv = [sys.executable, "-c", "import sys; from reconciler.cli import main; sys.exit(main())",
                 "plan", "-c", str(catalog_path)]
    bare_argv = [sys.executable, "-c", BARE_PROCESS, url, TOKEN, str(ids_path)]
    plans: list[float] = []
    bares: list[float] = []
    cpu: dict[str, list[float]] = {"plan": [], "bare": []}  # each process's user + system seconds
    for _ in range(turns):
        t, used = time.perf_counter(), children_cpu()
        done = subprocess.run(plan_argv, env=env, cwd=catalog_path.parent, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        plans.append(time.perf_counter() - t)
        cpu["plan"].append(children_cpu() - used)
        if done.returncode != 0:
            raise SystemExit(f"reconciler plan failed ({done.returncode}): {done.stderr[-2000:]}")
        t, used = time.perf_counter(), children_cpu()
        subprocess.run(bare_argv, check=True, cwd=catalog_path.parent)
        bares.append(time.perf_counter() - t)
        cpu["bare"].append(children_cpu() - used)
    return {"ratio": statistics.median(p / b for p, b in zip(plans, bares)), "plan_seconds_all": plans,
            "bare_seconds_all": bares, "plan_seconds": statistics.median(plans),
            "bare_seconds": statistics.median(bares),
            "extra_seconds": statistics.median(p - b for p, b in zip(plans, bares)),
            "plan_cpu_seconds": statistics.median(cpu["plan"]), "bare_cpu_seconds": statistics.median(cpu["bare"])}


def children_cpu() -> float:
    """User and system CPU seconds of this process's children waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed_plan(catalog: Catalog, providers: dict[str, Any], times: dict[str, float]) -> Plan:
    """plan's phases as `reconciler plan` runs them, timed one by one."""
    plan = engine.refresh_and_plan(catalog, providers, phases=times)
    t = time.perf_counter()
    render_text.render_plan(plan)
    times["render"] = time.perf_counter() - t
    return plan


def measure(n: int, cobuilder: int, parallelism: int, repeat: int, process_repeat: int,
            latency_ms: float = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_sandbox(Path(tmp) / "state.sqlite3")
        try:
            seed(url, n, cobuilder)
            if latency_ms:  # every vendor read waits this long in the sandbox first, as a distant server would
                httpx.post(f"{url}/_sandbox/faults", json={"latency_ms": latency_ms, "count": None, "method": "GET"}
                           ).raise_for_status()
            catalog_path = Path(tmp) / "catalog.yaml"
            expected = write_catalog(catalog_path, n, cobuilder)
            env = {**os.environ, "READYCLOUD_BASE_URL": f"{url}/api/v2", "READYCLOUD_TOKEN": TOKEN,
                   "COBUILDER_BASE_URL": f"{url}/products-management/api/v3", "COBUILDER_TOKEN": TOKEN,
                   "READYCLOUD_MAX_RPM": "0", "COBUILDER_MAX_RPM": "0"}
            cobuilder_ids = expected["cobuilder_ids"]  # the Cobuilder products the catalog declares
            # (before anything is applied: each process plans the same changes)
            whole = whole_process(url, catalog_path, env, cobuilder_ids, process_repeat) if process_repeat else None
            # The machine is shared and noisy: the bare listing and the plan
            # take turns, `repeat` times each; the ratio is the median of each
            # turn's plan / bare listing.
            bares: list[float] = []
            runs: list[dict[str, float]] = []
            for attempt in range(repeat):
                bares.append(bare_listing(url, cobuilder_ids))
                transport = CountingTransport()
                times: dict[str, float] = {}
                with ExitStack() as stack:
                    # as `reconciler plan` runs: a large catalog's products are
                    # validated while the ReadyCloud listing has already begun
                    t = time.perf_counter()
                    catalog, providers = engine.load_and_open(catalog_path, stack, environ=env, transport=transport,
                                                              parallelism=parallelism)
                    times["load"] = time.perf_counter() - t
                    plan = timed_plan(catalog, providers, times)
                    runs.append(times)
                    if attempt < repeat - 1:
                        del plan, catalog, providers
                        gc.collect()  # (so that the last turn's peak memory is its own)
                        continue
                    plan_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak so far: the plan's
                    plan_requests = transport.take()
                    t = time.perf_counter()
                    result = engine.apply(plan, providers, parallelism=parallelism)
                    apply_seconds = time.perf_counter() - t
                    apply_requests = transport.take()
            totals = [r["load"] + r["refresh"] + r["diff"] + r["render"] for r in runs]
            ratio = statistics.median(t / b for t, b in zip(totals, bares))
            times = runs[totals.index(statistics.median_low(totals))]  # the median plan's phases
            times["apply"] = apply_seconds
            counts, changes, failed = plan.counts, len(plan.changes), len(result.failed)
            del plan, result, providers  # the later stages measure no memory of their own
            with ExitStack() as stack:  # a new plan right after the apply: must show no changes
                after = len(engine.refresh_and_plan(catalog, engine.open_providers(catalog, stack, environ=env)).changes)
            incremental = incremental_replan(url, n, catalog_path, env)
            return {
                "size": n, "cobuilder_products": cobuilder, "parallelism": parallelism, "repeat": repeat, "times": times,
                "latency_ms": latency_ms,
                "plan_seconds_all": totals, "bare_listing_seconds_all": bares,
                "plan_seconds": statistics.median(totals), "bare_listing_seconds": statistics.median(bares),
                "ratio": ratio, "process": whole,
                "overhead_us_per_product": 1e6 * (times["load"] + times["prediff"] + times["diff"] + times["render"])
                / (n + n // 100),
                "plan_requests": plan_requests, "plan_requests_min": math.ceil(n / 100) + len(cobuilder_ids),
                "apply_requests": apply_requests, "apply_requests_min": changes + (counts["create"] > 0),  # (+1: the pre-create check's listing)
                "changes": counts, "expected_changes": expected["changes"],
                "failed": failed, "changes_after_apply": after,
                "incremental": incremental,
                "peak_rss_plan_mib": plan_rss,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        finally:
            process.terminate()
            process.wait(timeout=10)


def incremental_replan(url: str, n: int, catalog_path: Path, env: dict[str, str]) -> dict[str, Any]:
    """A re-plan of an unchanged catalog with --refresh incremental: the state
    is seeded again (a day old, as before), one full plan fills the cache, and
    the incremental one after it is measured."""
    seed(url, n, 0)
    catalog_path.write_text("readycloud: {org: 1}\nproducts:\n" + "".join(
        f"  - {{code: P{i:06}, quantity: {i % 50}}}\n" for i in range(n)))
    catalog = load_catalog(catalog_path)
    for mode in ("full", "incremental"):
        transport = CountingTransport()
        with ExitStack() as stack:
            providers = engine.open_providers(catalog, stack, environ=env, transport=transport, incremental=True)
            t = time.perf_counter()
            plan = engine.refresh_and_plan(catalog, providers)
            seconds = time.perf_counter() - t
        assert not plan.changes, f"{mode} re-plan of an unchanged catalog shows changes"
    return {"seconds": seconds, "requests": transport.take(), "mode": providers["readycloud"].refresh_mode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--cobuilder", type=int, default=0,
                        help="how many products also carry Cobuilder values (3 properties each)")
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5,
                        help="plans and bare listings per size, taking turns (the median turn is reported)")
    parser.add_argument("--process-repeat", type=int, default=None,
                        help="whole-process plans and bare client processes, taking turns (default: --repeat; "
                             "0: skip)")
    parser.add_argument("--latency-ms", type=float, default=0,
                        help="make the sandbox wait this long before answering each read (a server farther away "
                             "than this machine's loopback; the ratios depend on it)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print one JSON object per size")
    args = parser.parse_args()
    process_repeat = args.repeat if args.process_repeat is None else args.process_repeat
    if args.one:
        print(json.dumps(measure(args.one, min(args.cobuilder, args.one), args.parallelism, args.repeat,
                                 process_repeat, args.latency_ms)))
        return
    rows = []
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--cobuilder", str(args.cobuilder),
                              "--parallelism", str(args.parallelism), "--repeat", str(args.repeat),
                              "--process-repeat", str(process_repeat), "--latency-ms", str(args.latency_ms)],
                             check=True, capture_output=True, text=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(json.dumps(row) if args.json else report(row), flush=True)
    if not args.json:
        print(table(rows))


def report(r: dict[str, Any]) -> str:
    t = r["times"]
    return (f"\n== {r['size']:,} products ({r['cobuilder_products']:,} with Cobuilder values), "
            f"parallelism {r['parallelism']}"
            + (f", each read delayed {r['latency_ms']:g} ms by the sandbox" if r.get("latency_ms") else "") + "\n"
            f"  load {t['load']:.2f}s  refresh {t['refresh']:.2f}s (of which comparing pages as they arrive "
            f"{t['prediff']:.2f}s)  diff {t['diff']:.2f}s  render {t['render']:.2f}s  apply {t['apply']:.2f}s\n"
            f"  plan {r['plan_seconds']:.2f}s vs bare listing {r['bare_listing_seconds']:.2f}s: ratio {r['ratio']:.2f} "
            f"(medians of {r['repeat']} turns; plans {', '.join(f'{x:.2f}' for x in r['plan_seconds_all'])}; "
            f"bare listings {', '.join(f'{x:.2f}' for x in r['bare_listing_seconds_all'])})\n"
            f"{process_line(r['process'])}"
            f"  engine overhead {r['overhead_us_per_product']:.1f} µs/product; peak RSS {r['peak_rss_plan_mib']:.0f} MiB "
            f"after the plan, {r['peak_rss_mib']:.0f} MiB in all (apply and re-plans included)\n"
            f"  plan requests {r['plan_requests']} (minimum {r['plan_requests_min']}); "
            f"apply requests {r['apply_requests']} (minimum {r['apply_requests_min']}); "
            f"changes {r['changes']}; failed {r['failed']}; changes in a plan right after the apply: "
            f"{r['changes_after_apply']}\n"
            f"  incremental re-plan of the unchanged catalog: {r['incremental']['seconds']:.2f}s, "
            f"requests {r['incremental']['requests']} ({r['incremental']['mode']} refresh)")


def process_line(p: dict[str, Any] | None) -> str:
    if p is None:
        return ""
    return (f"  whole process: reconciler plan {p['plan_seconds']:.2f}s vs bare client process "
            f"{p['bare_seconds']:.2f}s: ratio {p['ratio']:.2f}, {p['extra_seconds']:.2f}s more; CPU "
            f"{p['plan_cpu_seconds']:.2f}s vs {p['bare_cpu_seconds']:.2f}s "
            f"(medians of {len(p['plan_seconds_all'])} turns; "
            f"plans {', '.join(f'{x:.2f}' for x in p['plan_seconds_all'])}; bare processes "
            f"{', '.join(f'{x:.2f}' for x in p['bare_seconds_all'])})\n")


def process_cell(p: dict[str, Any] | None) -> str:
    return "–" if p is None else (f"{p['ratio']:.2f}× ({p['plan_seconds']:.2f}s / {p['bare_seconds']:.2f}s, "
                                  f"+{p['extra_seconds']:.2f}s)")


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| products | load | refresh | diff | render | apply | plan / bare listing, median of turns (median seconds) | "
            "whole process: reconciler plan / bare client process (median seconds, median difference) | µs/product | "
            "plan requests (min) | apply requests (min) | re-plan after apply | incremental re-plan | peak RSS of the plan |")
    lines = ["", head, "|" + " ---: |" * 14]
    for r in rows:
        t = r["times"]
        lines.append(
            f"| {r['size']:,} | {t['load']:.2f}s | {t['refresh']:.2f}s | {t['diff']:.2f}s | {t['render']:.2f}s | "
            f"{t['apply']:.2f}s | {r['ratio']:.2f}× ({r['plan_seconds']:.2f}s / {r['bare_listing_seconds']:.2f}s) | "
            f"{process_cell(r['process'])} | "
            f"{r['overhead_us_per_product']:.0f} | {sum(r['plan_requests'].values()):,} ({r['plan_requests_min']:,}) | "
            f"{sum(r['apply_requests'].values()):,} ({r['apply_requests_min']:,}) | "
            f"{r['changes_after_apply']} changes | {r['incremental']['seconds']:.2f}s, "
            f"{sum(r['incremental']['requests'].values())} requests | {r['peak_rss_plan_mib']:.0f} MiB |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
