"""What a command imports: `validate` works offline and loads no HTTP client,
diff, JSON-patch, retry, terminal-rendering or server library."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: Libraries `validate` has no use for (each costs start-up time to import).
NOT_FOR_VALIDATE = ("httpx", "deepdiff", "rich", "jsonpatch", "tenacity", "starlette", "uvicorn")

#: Runs the CLI, then prints the top-level names of every module loaded.
SCRIPT = """
import sys
from reconciler.cli import main
code = main(sys.argv[1:])
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
sys.exit(code)
"""

VALID = """readycloud: {org: 1}
products:
  - code: ES-1
    kind: goods
    description: T-Shirt
    unit_price: 88.00 USD
"""


def loaded_by(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=60)
    return done, set(done.stdout.splitlines()[-1].split())


@pytest.mark.parametrize("text, code, says", [
    (VALID, 0, "valid (1 products)"),
    (VALID.replace("kind: goods", "kind: good"), 1, "the catalog is invalid"),
])
def test_validate_imports_only_what_loading_a_catalog_needs(tmp_path: Path, text: str, code: int,
                                                            says: str) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(text)
    done, loaded = loaded_by("validate", "-c", str(catalog), cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert says in done.stdout + done.stderr
    assert {"click", "yaml", "reconciler"} <= loaded  # (the listing is the process's own)
    assert loaded.isdisjoint(NOT_FOR_VALIDATE), sorted(loaded.intersection(NOT_FOR_VALIDATE))
