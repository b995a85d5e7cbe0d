"""The README's demo: the shipped catalog.yaml against the built-in sandbox,
seeded from the packaged seed (plan, apply, plan from a fresh state)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_demo_counts_products_once_and_needs_no_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(ROOT / "catalog.yaml", tmp_path / "catalog.yaml")
    monkeypatch.chdir(tmp_path)
    for name in ("NO_COLOR", "READYCLOUD_TOKEN", "COBUILDER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    products = 6  # the entries of catalog.yaml
    planned = run("plan", "--sandbox")
    assert planned.code == 0, planned.err
    assert "note:" not in planned.out
    assert "\n  ~ product PANEL-ACOUSTIC-60\n" in planned.out
    assert planned.out.endswith("Plan: 1 to create, 3 to update, 1 to delete, 1 unchanged, 1 unmanaged.\n"
                                "      Cobuilder properties: 3 to add, 1 to change, 1 to delete, 1 unchanged.\n")
    assert 1 + 3 + 1 + 1 == products
    assert run("apply", "--sandbox", "--auto-approve").code == 0
    again = run("plan", "--sandbox")
    assert again.out.endswith(f"Plan: 0 to create, 0 to update, 0 to delete, {products} unchanged, 1 unmanaged.\n"
                              "      Cobuilder properties: 0 to add, 0 to change, 0 to delete, 5 unchanged.\n")
