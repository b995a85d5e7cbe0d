"""No notification is lost when apply is killed (SIGKILL) while it writes to
the vendor or while it delivers: the next `apply` / `notify --retry` announces
every changed product, with the id recorded before the change was sent."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from reconciler import integrity
from reconciler.catalog.notify import NotifySettings, Secret, WebhookSettings
from reconciler.sandbox import Sandbox
from reconciler.sinks import outbox_key

SECRET = "whsec-kill-test-5151"
N = 8  # products per kind of change: 3 * N changes
WRITES = ("POST", "PATCH", "DELETE")


def _catalog(url: str) -> str:
    lines = ["readycloud: {org: 1}", "products:"]
    lines += [f"  - {{code: UPD-{i:02}, kind: goods, quantity: 2}}" for i in range(N)]
    lines += [f"  - {{code: NEW-{i:02}, kind: goods, description: fresh}}" for i in range(N)]
    lines += [f"  - {{code: OLD-{i:02}, absent: true}}" for i in range(N)]
    lines += ["notify:", "  webhooks:", f"    - url: {url}/hooks/storefront", "      secret: ${HOOK_SECRET}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def box(env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    env.seed_readycloud(1, [{"code": f"UPD-{i:02}", "kind": "goods", "quantity": 1} for i in range(N)]
                        + [{"code": f"OLD-{i:02}", "kind": "goods"} for i in range(N)])
    return env


def _sealed(document: dict[str, Any], secret: str = SECRET) -> str:
    """An outbox document as a run holding the webhook ``secret`` writes it."""
    key = outbox_key(NotifySettings(webhooks=(WebhookSettings(url="https://h.example", secret=Secret(secret)),)))
    return json.dumps(integrity.seal(document, key))


def _fault(box: Sandbox, **fault: Any) -> None:
    httpx.post(f"{box.url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()


def _poll(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll the sandbox until ``condition`` holds (no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _kill_when(box: Sandbox, catalog: str, cwd: Path, logged: Callable[[dict[str, Any]], bool], count: int) -> None:
    """Start `apply` in a process of its own, SIGKILL it once ``count`` requests
    matching ``logged`` were answered, then wait until every request it had
    started (each took the latency fault: its hits) is done at the sandbox."""
    process = subprocess.Popen([sys.executable, "-m", "reconciler.cli", "apply", "-c", catalog, "--auto-approve", "--force",
                                "--parallelism", "4"], cwd=cwd, env=dict(os.environ),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _poll(lambda: sum(map(logged, box.requests())) >= count or process.poll() is not None, "the requests")
        assert process.poll() is None, f"apply finished before it could be killed: {process.stderr.read()!r}"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    started = sum(f.get("hits", 0) for f in httpx.get(f"{box.url}/_sandbox/faults", timeout=10).json())
    httpx.delete(f"{box.url}/_sandbox/faults", timeout=10).raise_for_status()
    _poll(lambda: sum(1 for r in box.requests() if r.get("fault")) >= started, "the requests in flight")


def _announced(box: Sandbox) -> dict[tuple[str, str], set[str]]:
    """(event, code) -> the event ids the webhook receiver got."""
    ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    for capture in box.captures("webhook"):
        if not capture["body"]:
            continue  # (a request the kill cut off before its body was sent: no event reached the receiver)
        body = json.loads(capture["body"])
        ids[(body["event"], body["data"]["code"])].add(body["id"])
    return ids


def _is_write(entry: dict[str, Any]) -> bool:
    return entry["method"] in WRITES and "/products" in entry["path"]


def _is_hook(entry: dict[str, Any]) -> bool:
    return entry["path"].startswith("/hooks/")


EVERY_CHANGE = ({("product.updated", f"UPD-{i:02}") for i in range(N)}
                | {("product.created", f"NEW-{i:02}") for i in range(N)}
                | {("product.deleted", f"OLD-{i:02}") for i in range(N)})


def test_kill_during_vendor_writes_then_apply_announces_every_change_with_its_recorded_id(
        box: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(_catalog(box.url))
    for method in WRITES:
        _fault(box, latency_ms=200, method=method, path_contains="/products", count=None)
    _kill_when(box, catalog, tmp_path, _is_write, 6)
    assert box.captures("webhook") == []  # killed before delivery
    outbox = json.loads((tmp_path / ".reconciler" / "outbox.json").read_text())
    recorded = {(i["code"]): i["id"] for i in outbox["intents"]}
    assert len(recorded) >= 6 and SECRET not in json.dumps(outbox)
    live = {p["code"]: p for p in box.readycloud_products(1)}
    made_by_killed = ({c for c in live if c.startswith("NEW")}
                      | {f"OLD-{i:02}" for i in range(N) if f"OLD-{i:02}" not in live}
                      | {c for c, p in live.items() if c.startswith("UPD") and p.get("quantity") in (2, "2")})
    assert made_by_killed, "the kill landed before any write"

    result = run("apply", "-c", catalog, "--auto-approve", "--force")  # recovers, then applies the rest
    assert result.code == 0, result.err
    assert "recovered" in result.err
    announced = _announced(box)
    assert set(announced) == EVERY_CHANGE  # no change unannounced
    assert all(len(ids) == 1 for ids in announced.values())  # one id per change
    by_code = {code: ids for (_, code), ids in announced.items()}
    for code in made_by_killed:  # announced with the id recorded before the change was sent
        assert by_code[code] == {recorded[code]}, code
    assert run("plan", "-c", catalog, "--detailed-exitcode").code == 0  # nothing left to do
    assert not list((tmp_path / ".reconciler").glob(".outbox.json.*.tmp"))


def test_kill_during_delivery_then_notify_retry_resends_with_the_same_ids(
        box: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(_catalog(box.url))
    _fault(box, latency_ms=100, method="POST", path_contains="/hooks/", count=None)
    _kill_when(box, catalog, tmp_path, _is_hook, 4)
    before = _announced(box)
    assert 1 <= len(before) < len(EVERY_CHANGE)  # killed mid-way through delivery (a request it cut off is no event)
    assert run("plan", "-c", catalog, "--detailed-exitcode").code == 0  # every write was made

    result = run("notify", "--retry", "-c", catalog)
    assert result.code == 0, result.out + result.err
    after = _announced(box)
    assert set(after) == EVERY_CHANGE
    assert all(len(ids) == 1 for ids in after.values())  # re-sent with the ids first sent
    assert all(after[key] == ids for key, ids in before.items())
    assert not (tmp_path / ".reconciler" / "outbox.json").exists()  # all delivered: nothing pending
    again = run("notify", "--retry", "-c", catalog)
    assert again.code == 0 and _announced(box) == after


def test_a_damaged_outbox_stops_apply_with_a_clear_error_before_any_change(
        box: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(_catalog(box.url))
    outbox = tmp_path / ".reconciler" / "outbox.json"
    outbox.parent.mkdir()
    outbox.write_text(_sealed({"version": 2, "entries": [], "intents": [{"id": "e1", "state": "intent"}]}))
    box.clear_requests()
    result = run("apply", "-c", catalog, "--auto-approve", "--force")
    assert result.code == 1
    assert f"Error: the outbox {outbox} is damaged" in result.err and "Traceback" not in result.err
    assert not [r for r in box.requests() if _is_write(r)]


def test_records_of_another_catalogs_org_in_the_same_directory_are_kept_not_read_back_there(
        box: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two catalogs in one directory share its outbox: a killed apply of the
    org-1 catalog leaves an unanswered delete; an apply of the org-2 catalog
    must not read it back in org 2 (no such product there: a false
    product.deleted) nor drop it; the org-1 catalog's next run settles it."""
    org1 = write_catalog(_catalog(box.url), name="org1.yaml")
    org2 = write_catalog("readycloud: {org: 2}\nproducts:\n  - {code: TWO, kind: goods}\nnotify:\n  webhooks:\n"
                         f"    - url: {box.url}/hooks/org2\n      secret: ${{HOOK_SECRET}}\n", name="org2.yaml")
    (old,) = [p for p in box.readycloud_products(1) if p["code"] == "OLD-00"]
    pk = str(old["url"]).rstrip("/").rsplit("/", 1)[-1]
    _fault(box, status=503, method="DELETE", count=None)  # the delete is refused: its answer is unknown
    run("apply", "-c", org1, "--auto-approve", "--force", "--target", "OLD-00")
    outbox = tmp_path / ".reconciler" / "outbox.json"
    (left,) = json.loads(outbox.read_text())["intents"]
    assert (left["code"], left["org"]) == ("OLD-00", "ReadyCloud org 1")
    httpx.delete(f"{box.url}/_sandbox/faults", timeout=10).raise_for_status()
    box.clear_captures()

    result = run("apply", "-c", org2, "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert "was made in ReadyCloud org 1, not in this catalog's ReadyCloud org 2; kept in the outbox" in result.err
    assert [json.loads(h["body"])["data"]["code"] for h in box.captures("webhook")] == ["TWO"]
    assert [i["id"] for i in json.loads(outbox.read_text())["intents"]] == [left["id"]]
    assert any(p["code"] == "OLD-00" and str(p["url"]).rstrip("/").endswith(pk) for p in box.readycloud_products(1))


def test_notify_without_vendor_credentials_delivers_and_keeps_unanswered_changes(
        box: Sandbox, run, write_catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The scheduled notify job holds only notification secrets: an unanswered
    change left by a killed apply is kept for the next apply, and what is ready
    is still delivered, with a report (not one error about READYCLOUD_TOKEN)."""
    catalog = write_catalog(_catalog(box.url))
    outbox = tmp_path / ".reconciler" / "outbox.json"
    outbox.parent.mkdir()
    ready = {"id": "ev-ready", "state": "ready", "vendor": "readycloud", "action": "update", "code": "UPD-00",
             "resource_id": "1", "recorded_at": 1, "org": "ReadyCloud org 1",
             "event": {"id": "ev-ready", "event": "product.updated", "created": 1, "code": "UPD-00"}}
    unanswered = {**ready, "id": "ev-unanswered", "state": "intent", "code": "UPD-01"}
    del unanswered["event"]
    outbox.write_text(_sealed({"version": 2, "entries": [], "intents": [ready, unanswered]}))
    monkeypatch.delenv("READYCLOUD_TOKEN")
    result = run("notify", "--retry", "-c", catalog)
    assert "Traceback" not in result.err and "Error: READYCLOUD_TOKEN" not in result.err, result.err
    assert "cannot be read back here: READYCLOUD_TOKEN is not set" in result.out
    assert [json.loads(h["body"])["id"] for h in box.captures("webhook")] == ["ev-ready"]
    assert [i["id"] for i in json.loads(outbox.read_text())["intents"]] == ["ev-unanswered"]
