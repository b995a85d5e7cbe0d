"""What a command imports: `validate` works offline and loads no HTTP client,
diff, JSON-patch, retry, terminal-rendering or server library."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: Libraries `validate` has no use for (each costs start-up time to import).
NOT_FOR_VALIDATE = ("httpx", "deepdiff", "rich", "jsonpatch", "tenacity", "starlette", "uvicorn")

#: Runs the CLI, then prints the names of every module loaded.
SCRIPT = """
import sys
from reconciler.cli import main
code = main(sys.argv[1:])
print(" ".join(sorted(sys.modules)))
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
    names = set(done.stdout.splitlines()[-1].split())
    return done, names | {name.split(".")[0] for name in names}  # (each module, and each top-level package)


@pytest.mark.parametrize("text, code, says, pyyaml", [
    (VALID, 0, "valid (1 products)", False),  # the fast parse (yaml-rs) alone
    (VALID.replace("kind: goods", "kind: good"), 1, "the catalog is invalid", True),  # PyYAML finds the line
])
def test_validate_imports_only_what_loading_a_catalog_needs(tmp_path: Path, text: str, code: int,
                                                            says: str, pyyaml: bool) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(text)
    done, loaded = loaded_by("validate", "-c", str(catalog), cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert says in done.stdout + done.stderr
    assert {"click", "yaml_rs", "reconciler"} <= loaded  # (the listing is the process's own)
    assert ("yaml" in loaded) is pyyaml
    assert loaded.isdisjoint(NOT_FOR_VALIDATE), sorted(loaded.intersection(NOT_FOR_VALIDATE))


#: What a plan whose products are all unchanged, off a terminal, has no use for:
#: the diff and JSON-patch libraries (needed for a product that differs), the
#: terminal renderer (a progress bar), httpx's own command line and the sandbox.
NOT_FOR_AN_UNCHANGED_PLAN = ("deepdiff", "jsonpatch", "rich", "pygments", "starlette", "uvicorn")
#: ... nor, for any plan, what only applies, saved plans and notifications use,
#: nor a vendor's client the catalog gives nothing to read (no Cobuilder values).
NOT_FOR_A_PLAN = ("reconciler.sinks", "reconciler.precreate", "reconciler.plan.planfile", "reconciler.plan.rederive",
                  "reconciler.vendors.cobuilder.provider")


def test_plan_of_unchanged_products_imports_no_diff_or_terminal_library(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "ES-1", "kind": "goods", "description": "T-Shirt", "custom_fields": {
        "Color": {"value": "black"}}}])
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("readycloud: {org: 1}\nproducts:\n  - {code: ES-1, description: T-Shirt, "
                       "custom_fields: {Color: {value: black}}}\n")
    done, loaded = loaded_by("plan", "-c", str(catalog), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "No changes" in done.stdout
    assert "httpx" in loaded  # (it did talk to the sandbox)
    assert loaded.isdisjoint(NOT_FOR_AN_UNCHANGED_PLAN), sorted(loaded.intersection(NOT_FOR_AN_UNCHANGED_PLAN))
    assert loaded.isdisjoint(NOT_FOR_A_PLAN), sorted(loaded.intersection(NOT_FOR_A_PLAN))
    catalog.write_text(catalog.read_text().replace("black", "white"))
    done, loaded = loaded_by("plan", "-c", str(catalog), cwd=tmp_path)
    assert done.returncode == 0 and "1 to update" in done.stdout, done.stdout + done.stderr
    assert {"deepdiff", "jsonpatch"} <= loaded  # (the libraries are there when a product differs)
    assert loaded.isdisjoint(NOT_FOR_A_PLAN), sorted(loaded.intersection(NOT_FOR_A_PLAN))
