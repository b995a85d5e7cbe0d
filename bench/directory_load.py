"""Load time of one catalog as one file and split over a directory.

    .venv/bin/python bench/directory_load.py [--products N] [--files F] [--repeat R]

Prints the median seconds of ``load_catalog`` for the single file and for the
same products over F files in nested directories (both on the fast parser
when it can read them), and the ratio."""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from reconciler.catalog.load import load_catalog


def product(i: int) -> str:
    return (f"  - code: P-{i:07d}\n    kind: goods\n    description: Product number {i}\n"
            f"    unit_price: {i % 97 + 1}.50 USD\n    unit_weight: {i % 500 + 1} g\n    quantity: {i % 40}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        single = root / "catalog.yaml"
        single.write_text("readycloud: {org: 1}\nproducts:\n" + "".join(product(i) for i in range(args.products)))
        split = root / "catalog"
        (split / "settings.yaml").parent.mkdir()
        (split / "settings.yaml").write_text("readycloud: {org: 1}\n")
        per = -(-args.products // args.files)
        for f in range(args.files):
            path = split / f"group-{f % 4}" / f"part-{f:03d}.yaml"
            path.parent.mkdir(exist_ok=True)
            path.write_text("products:\n" + "".join(product(i) for i in range(f * per, min((f + 1) * per,
                                                                                            args.products))))
        times: dict[str, list[float]] = {"single file": [], f"directory of {args.files} files": []}
        for _ in range(args.repeat):
            for (name, series), target in zip(times.items(), (single, split)):
                started = time.perf_counter()
                catalog = load_catalog(target, environ={})
                series.append(time.perf_counter() - started)
                assert len(catalog.products) == args.products
        medians = {name: statistics.median(series) for name, series in times.items()}
        for name, seconds in medians.items():
            print(f"{args.products:,} products, {name}: {seconds:.3f}s (median of {args.repeat})")
        single_s, split_s = medians.values()
        print(f"directory / single file: {split_s / single_s:.2f}x")


if __name__ == "__main__":
    main()
