"""The distribution: published as ``catalog-reconciler`` (the package index's
``reconciler`` is an unrelated project), with the ``reconciler`` command and
import package, and the sandbox's demo seed inside the package."""
from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DIST = "catalog-reconciler"
#: an install of the bare name "reconciler" from the index: `pip install reconciler`, `"reconciler @ ..."`, ...
WRONG_INSTALL = re.compile(r"""pip3? install\b[^\n|&;]*?(?<![\w.-])["']?reconciler(?![\w.-])""")


def test_the_distribution_is_catalog_reconciler_with_the_reconciler_command() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DIST
    assert project["scripts"] == {"reconciler": "reconciler.cli:main"}
    assert importlib.metadata.version(DIST) == project["version"]  # installed under that name (`pip install -e .`)


def test_version_is_read_from_the_renamed_distribution(run) -> None:  # type: ignore[no-untyped-def]
    result = run("--version")
    assert result.code == 0, result.err
    assert result.out.strip() == f"reconciler, version {importlib.metadata.version(DIST)}"


def test_no_install_line_names_the_unrelated_reconciler_package() -> None:
    texts = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("examples/github/*.yml"),
             ROOT / "examples" / "gitlab" / ".gitlab-ci.yml", ROOT / ".ci" / "run"]
    wrong = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in texts
             for match in WRONG_INSTALL.finditer(path.read_text())]
    assert wrong == []
    assert WRONG_INSTALL.search('pip install "reconciler @ git+https://x/reconciler"')  # (the pattern works)
    assert WRONG_INSTALL.search("pip install -q reconciler==0.1")
    assert not WRONG_INSTALL.search("pip install -q 'catalog-reconciler==0.1.0'")


def test_the_built_package_holds_the_demo_seed_and_finds_it_from_any_directory(tmp_path: Path) -> None:
    """What a wheel installs (setuptools' build_py of the package), run from a
    directory that is not the repository: `--sandbox` still seeds the demo."""
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "reconciler", source / "reconciler", ignore=shutil.ignore_patterns("__pycache__"))
    lib = tmp_path / "lib"
    built = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
                            "--build-lib", str(lib)], cwd=source, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    assert (lib / "reconciler" / "sandbox" / "seed.json").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(ROOT / "catalog.yaml", elsewhere / "catalog.yaml")
    env = {**os.environ, "PYTHONPATH": str(lib)}
    env.pop("WEBHOOK_SECRET", None)
    code = "import sys, reconciler.cli as c; assert c.__file__.startswith(sys.argv[1]), c.__file__; sys.exit(c.main(sys.argv[2:]))"
    planned = subprocess.run([sys.executable, "-c", code, str(lib), "plan", "--sandbox"], cwd=elsewhere, env=env,
                             capture_output=True, text=True, timeout=120)
    assert planned.returncode == 0, planned.stderr
    assert re.search(r"^\s*- .*\bOLD-1\b", planned.stdout, re.M)  # seeded: the demo's tombstone is live


def test_the_code_names_the_distribution_by_its_published_name() -> None:
    """Metadata look-ups (``--version``, the version a plan file records) use the
    distribution's name, not the import package's."""
    lookups = re.compile(r"""(?:package_name=|metadata\.version\(|\bversion\()["']reconciler["']""")
    wrong = [f"{path.relative_to(ROOT)}:{number}" for path in sorted((ROOT / "reconciler").rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if lookups.search(line)]
    assert wrong == []
    assert lookups.search('return version("reconciler")') and lookups.search('package_name="reconciler"')
