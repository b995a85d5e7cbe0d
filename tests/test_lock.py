"""Applies to the same vendor endpoint and org are serialised on the machine
(issue 12 item 3): the lock itself, and two applies started together."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from reconciler import lock
from reconciler.lock import LockTimeout, Target, hold, normalise_url
from reconciler.sandbox import Sandbox

URL = "https://www.readycloud.com/api/v2"


def test_urls_that_name_one_endpoint_share_a_key() -> None:
    assert normalise_url("HTTPS://WWW.ReadyCloud.com:443/api/v2/") == URL
    assert normalise_url("https://www.readycloud.com:8443/api/v2") != URL
    assert normalise_url("https://www.readycloud.com/api/v3") != URL


def test_readycloud_s_two_documented_hosts_share_one_lock() -> None:
    assert normalise_url("https://readycloud.com/api/v2/") == URL
    assert normalise_url("https://user:pw@ReadyCloud.com/api/v2") == URL
    assert normalise_url("https://other.readycloud.com/api/v2") != URL


def test_lock_is_keyed_by_vendor_endpoint_and_org() -> None:
    with hold([Target("readycloud", URL, "1")], timeout=0):
        for other in (Target("readycloud", URL, "2"), Target("readycloud", "http://127.0.0.1:9/api/v2", "1"),
                      Target("cobuilder", URL, "1")):
            with hold([other], timeout=0):
                pass
        with pytest.raises(LockTimeout), hold([Target("readycloud", URL, "1"), Target("readycloud", URL, "2")],
                                              timeout=0):
            pass
        with hold([Target("readycloud", URL, "2")], timeout=0):  # (the failed attempt took none of its locks)
            pass
    with hold([Target("readycloud", URL, "1")], timeout=0):  # released when the block ended
        pass


def test_waiting_apply_gives_up_naming_the_holder(lock_dir: Path) -> None:
    started = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)
    told: list[str] = []
    with hold([Target("readycloud", URL, "1")], started=started, command="reconciler apply -c shop/catalog.yaml"):
        with pytest.raises(LockTimeout) as caught, hold([Target("readycloud", URL, "1")], timeout=0.2,
                                                        on_wait=told.append):
            pass
    message = str(caught.value)
    assert f"pid {os.getpid()}" in message and "started 2026-12-03T09:30:00+00:00" in message
    assert "reconciler apply -c shop/catalog.yaml" in message and "gave up after 0.2 s" in message
    assert f"readycloud {URL} org 1" in message
    assert len(told) == 1 and f"pid {os.getpid()}" in told[0]


def test_holder_details_are_only_displayed(lock_dir: Path) -> None:
    """The lock file's content is not trusted: garbage or control characters
    end up neither in the message nor on the terminal."""
    target = Target("readycloud", URL, "1")
    with hold([target], timeout=0):
        path = lock_dir / f"{target.key}.lock"
        path.write_text(json.dumps({"pid": "1\x1b[2J", "command": "x" * 5000}))
        with pytest.raises(LockTimeout) as caught, hold([target], timeout=0):
            pass
        assert "\x1b" not in str(caught.value) and "x" * 201 not in str(caught.value)
        path.write_bytes(b"\xff not json")
        with pytest.raises(LockTimeout, match="holder unknown"), hold([target], timeout=0):
            pass


def test_lock_directory_is_per_user_not_per_checkout(tmp_path: Path) -> None:
    assert lock.lock_dir({"RECONCILER_LOCK_DIR": str(tmp_path)}) == tmp_path
    assert lock.lock_dir({"XDG_STATE_HOME": "/state"}) == Path("/state/reconciler/locks")
    assert lock.lock_dir({}) == Path.home() / ".local" / "state" / "reconciler" / "locks"


def one_create(code: str = "NEW1", org: int = 1) -> str:
    return f"readycloud: {{org: {org}}}\nproducts:\n  - {{code: {code}, kind: goods}}\n"


def test_apply_fails_at_once_while_another_holds_the_lock(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(one_create())
    started = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)
    with hold([Target("readycloud", normalise_url(env.readycloud_base_url), "1")], started=started):
        result = run("apply", "-c", catalog, "--auto-approve", "--lock-timeout", "0")
    assert result.code == 1
    assert f"pid {os.getpid()}" in result.err and "started 2026-12-03T09:30:00+00:00" in result.err
    assert "nothing was applied" in result.err and "Traceback" not in result.err
    assert env.readycloud_products(1) == [] and env.requests() == []  # not even read


def test_apply_to_another_org_is_not_blocked(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(one_create(org=1))
    with hold([Target("readycloud", normalise_url(env.readycloud_base_url), "2")]):
        result = run("apply", "-c", catalog, "--auto-approve", "--lock-timeout", "0")
    assert result.code == 0, result.err
    assert [p["code"] for p in env.readycloud_products(1)] == ["NEW1"]


def test_two_applies_started_together_never_duplicate_a_product(env: Sandbox, tmp_path: Path) -> None:
    """Two copies of one catalog in two directories, applied at once against
    one sandbox. Latency on every request keeps the first apply busy long
    after the second has started, so the two overlap."""
    text = "readycloud: {org: 1}\nproducts:\n" + "".join(f"  - {{code: NEW{i}, kind: goods}}\n" for i in range(20))
    env.inject({"latency_ms": 700, "method": "GET", "count": None})
    env.inject({"latency_ms": 200, "method": "POST", "count": None})
    processes = []
    for name in ("a", "b"):
        directory = tmp_path / name
        directory.mkdir()
        (directory / "catalog.yaml").write_text(text)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "reconciler.cli", "apply", "--auto-approve", "--parallelism", "4"],
            cwd=directory, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, out + err
        assert "Traceback" not in err
    codes = Counter(p["code"] for p in env.readycloud_products(1))
    assert codes == Counter(f"NEW{i}" for i in range(20)), f"duplicates: {codes}"
    # They did overlap: one waited for the other (or, had it not, skipped what appeared meanwhile).
    assert any("Waiting up to" in err or "appeared in ReadyCloud since the plan" in out for out, err in outputs)
    assert len([r for r in env.requests() if r["method"] == "POST"]) == 20


def test_a_sandbox_started_per_command_is_keyed_by_its_state_file(tmp_path: Path) -> None:
    from reconciler.vendors.readycloud.provider import ReadyCloudProvider
    with ReadyCloudProvider(1, "http://127.0.0.1:41234/api/v2/", "t") as provider:
        assert lock.targets({"readycloud": provider}) == [Target("readycloud", "http://127.0.0.1:41234/api/v2", "1")]
        state = tmp_path / "sandbox.sqlite3"
        assert lock.targets({"readycloud": provider}, state) == [Target("readycloud", f"sandbox:{state}", "1")]
