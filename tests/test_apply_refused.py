"""A vendor that refuses the token mid-run (ReadyCloud API keys expire): its
remaining changes are not attempted and reported once, with what to do; the
other vendors' changes still go through."""
from __future__ import annotations

from typing import Any

from reconciler.apply import apply_plan
from reconciler.errors import AuthError
from reconciler.plan.model import Change, Plan
from reconciler.render.text import render_apply_summary
from reconciler.sandbox import Sandbox


class Vendor:
    """Answers ``refuse_after`` writes, then 401."""

    def __init__(self, name: str, refuse_after: int | None = None) -> None:
        self.name, self.refuse_after, self.done = name, refuse_after, 0

    def execute(self, change: Change) -> Any:
        if self.refuse_after is not None and self.done >= self.refuse_after:
            raise AuthError(self.name, "Invalid token.", 401)
        self.done += 1
        return {}

    def write_eta(self, writes: int) -> float:
        return 0.0


def test_a_401_stops_that_vendor_only_and_is_reported_once() -> None:
    changes = tuple(Change(vendor, "update", f"{vendor}-{i}", str(i + 1), body={"quantity": i})
                    for i in range(6) for vendor in ("readycloud", "cobuilder"))
    rc, cb = Vendor("readycloud", refuse_after=2), Vendor("cobuilder")
    result = apply_plan(Plan(changes), {"readycloud": rc, "cobuilder": cb}, parallelism=1)  # type: ignore[dict-item]
    assert cb.done == 6 and rc.done == 2
    assert [r.status for r in result.results if r.change.vendor == "readycloud"] == \
        ["succeeded"] * 2 + ["failed"] + ["skipped"] * 3
    assert result.refusals == ("the ReadyCloud token was refused (401): it may have expired; refresh it and "
                               "run apply again; 3 changes not attempted",)
    summary = render_apply_summary(result)
    assert summary.count("skipped:") == 0 and summary.count("failed:") == 1
    assert "Stopped: the ReadyCloud token was refused (401)" in summary


CATALOG = "readycloud: {org: 1}\nproducts:\n" + "".join(f"  - {{code: P{i}, quantity: 9}}\n" for i in range(12))


def test_a_token_expiring_mid_apply_stops_once_with_a_clear_message(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": f"P{i}", "kind": "goods", "quantity": 1} for i in range(12)])
    env.inject({"status": 401, "skip": 3, "count": None, "method": "POST,PATCH,DELETE",
                "path_contains": "/api/v2/"})  # (the token expires after three writes)
    env.clear_requests()
    result = run("apply", "-c", write_catalog(CATALOG), "--auto-approve", "--parallelism", "1")
    assert result.code == 1
    assert "3 succeeded, 1 failed, 8 skipped" in result.out
    assert ("Stopped: the ReadyCloud token was refused (401): it may have expired; refresh it and run apply "
            "again; 8 changes not attempted.") in result.out
    assert "skipped:" not in result.out and result.out.count("readycloud: HTTP 401") == 2  # (as it came, summary)
    assert len([r for r in env.requests() if r["method"] == "PATCH"]) == 4
    assert env.token not in result.out + result.err
