"""Start-up: `reconciler validate` of a one-product catalog, a whole process,
against a bare interpreter that imports what any YAML CLI needs (yaml, click).

    python bench/startup.py              # 21 turns
    python bench/startup.py --turns 41

The two take turns (the machine is shared and noisy); printed: the median of
each, and the median of the turns' ratios (validate / bare interpreter).

Measured as installed: the package's bytecode is compiled first, as `pip
install` does (an editable install under PYTHONDONTWRITEBYTECODE=1 never
writes it, and every run then compiles the package again: --no-compile
measures that).
"""
from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reconciler

CATALOG = """readycloud: {org: 1}
products:
  - code: ES-1
    kind: goods
    description: T-Shirt
    unit_price: 88.00 USD
"""


def compile_package() -> None:
    """The package's bytecode, as `pip install` leaves it."""
    compileall.compile_dir(Path(reconciler.__file__).parent, quiet=1)


def timed(argv: list[str], cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=cwd)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=21)
    parser.add_argument("--no-compile", action="store_true", help="do not compile the package's bytecode first")
    args = parser.parse_args()
    if not args.no_compile:
        compile_package()
    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "one.yaml"
        catalog.write_text(CATALOG)
        validate = [sys.executable, "-c", "import sys; from reconciler.cli import main; sys.exit(main())",
                    "validate", "-c", str(catalog)]
        bare = [sys.executable, "-c", "import yaml, click"]
        timed(validate, tmp), timed(bare, tmp)  # (warm the file cache: the first run of each is not counted)
        ours: list[float] = []
        base: list[float] = []
        for _ in range(args.turns):
            ours.append(timed(validate, tmp))
            base.append(timed(bare, tmp))
    ratio = statistics.median(o / b for o, b in zip(ours, base))
    print(f"reconciler validate (one product) {statistics.median(ours):.3f}s, "
          f"python -c 'import yaml, click' {statistics.median(base):.3f}s: "
          f"ratio {ratio:.2f}× (median of {args.turns} alternating turns"
          + (", bytecode not compiled first)" if args.no_compile else ")"))


if __name__ == "__main__":
    main()
