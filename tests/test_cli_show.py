"""`show PLANFILE` and `apply PLANFILE` asking on a terminal (issue 14)."""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox

CATALOG = "readycloud: {org: 1}\nproducts:\n  - {code: A, quantity: 2}\n  - {code: C, kind: tax}\n"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _planned(env: Sandbox, run, write_catalog, tmp_path: Path) -> tuple[str, Path]:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods", "quantity": 1}])
    catalog = write_catalog(CATALOG)
    plan_path = tmp_path / "plan.json"
    assert run("plan", "-c", catalog, "--out", str(plan_path)).code == 0
    return catalog, plan_path


def test_show_renders_a_saved_plan_in_every_format_without_reading_anything(
        env: Sandbox, run, write_catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    catalog, plan_path = _planned(env, run, write_catalog, tmp_path)
    Path(catalog).unlink()  # no catalog needed
    env.clear_requests()
    text = run("show", str(plan_path))
    assert text.code == 0, text.err
    assert "quantity: 1 → 2" in text.out and "Plan: 1 to create, 1 to update" in text.out
    assert "<!-- reconciler-plan -->" in run("show", str(plan_path), "--format", "markdown").out
    doc = json.loads(run("show", str(plan_path), "--format", "json").out)
    saved = json.loads(plan_path.read_text())
    assert {k: doc[k] for k in ("checksum", "created_at", "origin", "changes")} == \
        {k: saved[k] for k in ("checksum", "created_at", "origin", "changes")}
    assert env.requests() == []  # no network
    monkeypatch.setenv("RECONCILER_PLAN_KEY", "k")  # an unsigned plan, with a key set: refused as apply would
    refused = run("show", str(plan_path))
    assert refused.code == 1 and "not signed" in refused.err


def test_apply_planfile_on_a_terminal_shows_the_plan_and_asks(
        env: Sandbox, run, write_catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    catalog, plan_path = _planned(env, run, write_catalog, tmp_path)
    monkeypatch.setattr(sys, "stdin", FakeTerminal("n\n"))
    declined = run("apply", str(plan_path), "-c", catalog)
    assert declined.code == 1 and "Apply these changes?" in declined.out and "quantity: 1 → 2" in declined.out
    assert "cancelled" in declined.err
    assert [p["quantity"] for p in env.readycloud_products(1)] == [1]
    monkeypatch.setattr(sys, "stdin", FakeTerminal("y\n"))
    accepted = run("apply", str(plan_path), "-c", catalog)
    assert accepted.code == 0, accepted.err
    assert sorted(p["code"] for p in env.readycloud_products(1)) == ["A", "C"]


def test_apply_planfile_with_auto_approve_does_not_ask_on_a_terminal(
        env: Sandbox, run, write_catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    catalog, plan_path = _planned(env, run, write_catalog, tmp_path)
    monkeypatch.setattr(sys, "stdin", FakeTerminal(""))
    applied = run("apply", str(plan_path), "-c", catalog, "--auto-approve")
    assert applied.code == 0, applied.err
    assert "Apply these changes?" not in applied.out
