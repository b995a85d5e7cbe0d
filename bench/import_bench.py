"""Benchmark: `reconciler import --org 1` of N live products, then `plan` of the result.

    python bench/import_bench.py                    # 100,000 products
    python bench/import_bench.py --sizes 1000 10000

The sandbox runs as its own process and is seeded as bench.py seeds it (its
helpers are reused). Each command runs as a user runs it, a process of its
own (start-up included), unpaced; its peak memory is that process's
ru_maxrss (from wait4). Printed per size: the import's wall time and peak
RSS, the size of the catalog written, a bare sequential client listing the
same pages (the floor: what reading the org costs), and `plan -c` of the
imported catalog against the same state, which must exit 0 (no changes).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (bench/bench.py: the sandbox process, its seed, the bare listing)

MAIN = "import sys; from reconciler.cli import main; sys.exit(main())"


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Run ``reconciler ARGV`` in a process of its own: wall seconds, peak RSS (MiB), exit code."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", MAIN, *argv], env=env, cwd=cwd,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": seconds, "rss_mib": usage.ru_maxrss / 1024, "code": process.returncode,
            "err": err.decode(errors="replace")[-2000:]}


def measure(n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        process, url = bench.start_sandbox(Path(tmp) / "state.sqlite3")
        try:
            bench.seed(url, n, 0)
            env = {**os.environ, "READYCLOUD_BASE_URL": f"{url}/api/v2", "READYCLOUD_TOKEN": bench.TOKEN,
                   "READYCLOUD_MAX_RPM": "0", "COBUILDER_MAX_RPM": "0"}
            catalog = Path(tmp) / "catalog.yaml"
            bare = bench.bare_listing(url, [])
            imported = timed(["import", "--org", "1", "-o", str(catalog)], env, Path(tmp))
            if imported["code"] != 0:
                raise SystemExit(f"import failed ({imported['code']}): {imported['err']}")
            planned = timed(["plan", "-c", str(catalog), "--detailed-exitcode"], env, Path(tmp))
            if planned["code"] != 0:
                raise SystemExit(f"plan of the imported catalog is not clean ({planned['code']}): {planned['err']}")
            return {"n": n, "import": imported, "plan": planned, "bare": bare,
                    "mib": catalog.stat().st_size / (1 << 20)}
        finally:
            process.terminate()
            process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    args = parser.parse_args()
    print("| products | import | import / bare listing | peak RSS of import | catalog written | plan of it "
          "| plan's peak RSS |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in args.sizes:
        r = measure(n)
        print(f"| {n:,} | {r['import']['seconds']:.2f}s | {r['import']['seconds'] / r['bare']:.2f}× "
              f"({r['bare']:.2f}s) | {r['import']['rss_mib']:.0f} MiB | {r['mib']:.1f} MiB "
              f"| {r['plan']['seconds']:.2f}s, no changes | {r['plan']['rss_mib']:.0f} MiB |", flush=True)


if __name__ == "__main__":
    main()
