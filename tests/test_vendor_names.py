"""The core names no vendor: only the vendor packages (reconciler/vendors/)
and the sandbox that simulates them say "ReadyCloud" or "Cobuilder" in code
(docstrings and comments aside)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import reconciler

ROOT = Path(reconciler.__file__).parent
VENDOR_NAME = re.compile(r"readycloud|cobuilder", re.IGNORECASE)


def _code(path: Path) -> str:
    """The module's code without its docstrings (comments are not in the tree)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body[0].value.value = ""
    return ast.unparse(tree)


def naming() -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(("vendors/", "sandbox/")):
            continue
        if VENDOR_NAME.search(_code(path)):
            found.add(relative)
    return found


def test_no_core_module_names_a_vendor_in_code() -> None:
    assert naming() == set(), "a core module names a vendor: move that code behind the vendor seam"


def test_the_check_sees_code_and_not_docstrings(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text('"""About ReadyCloud."""\n# Cobuilder\ndef f() -> None:\n    """ReadyCloud."""\n')
    assert not VENDOR_NAME.search(_code(path))
    path.write_text('"""About."""\nNAME = "readycloud"\n')
    assert VENDOR_NAME.search(_code(path))
