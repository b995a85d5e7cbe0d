"""The outbox is authenticated (issue 12): whoever can replace the artifact
cannot make `notify --retry` sign and send an event of their own."""
from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from reconciler import integrity, lock
from reconciler.sandbox import Sandbox

SECRET = "whsec-outbox-auth-7373"
CATALOG = """readycloud: {{org: 1}}
products:
  - {{code: NEW, kind: goods, description: fresh}}
notify:
  webhooks:
    - url: {url}/hooks/storefront
      secret: ${{HOOK_SECRET}}
"""


@pytest.fixture
def kept(env: Sandbox, run, write_catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:  # type: ignore[no-untyped-def]
    """An apply whose webhook was down: its event waits in the outbox."""
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    monkeypatch.setenv("RECONCILER_RETRY_ATTEMPTS", "1")
    catalog = write_catalog(CATALOG.format(url=env.url))
    env.fail_sink("webhook", 503, None)
    assert run("apply", "-c", catalog, "--auto-approve").code == 1
    httpx.delete(f"{env.url}/_sandbox/capture/fail", timeout=10).raise_for_status()
    env.clear_captures()
    outbox = tmp_path / ".reconciler" / "outbox.json"
    document = json.loads(outbox.read_text())
    assert len(document["entries"]) == 1 and SECRET not in outbox.read_text()
    return catalog, outbox


def _forge(outbox: Path, key: bytes | None) -> None:
    """Add an entry of the attacker's and re-seal (``key``) or keep the old MAC (None)."""
    document = json.loads(outbox.read_text())
    forged = json.loads(json.dumps(document["entries"][0]))
    forged["event"].update(id="evt_forged", code="FORGED")
    document["entries"].append(forged)
    outbox.write_text(json.dumps(integrity.seal(document, key) if key is not None else document))


@pytest.mark.parametrize("key", [None, integrity.derive_key("reconciler-outbox-v1"),
                                 integrity.derive_key("reconciler-outbox-v1", "guessed-secret")])
def test_a_forged_outbox_entry_is_refused_and_nothing_is_sent(env: Sandbox, run, kept, key) -> None:  # type: ignore[no-untyped-def]
    catalog, outbox = kept
    _forge(outbox, key)
    result = run("notify", "--retry", "-c", catalog)
    assert result.code == 1 and "Traceback" not in result.err
    assert f"Error: the outbox {outbox} is not authenticated" in result.err and "Move it aside" in result.err
    assert env.captures("webhook") == []
    assert SECRET not in result.err


def test_an_outbox_written_by_apply_is_delivered_by_notify(env: Sandbox, run, kept) -> None:  # type: ignore[no-untyped-def]
    catalog, outbox = kept
    result = run("notify", "--retry", "-c", catalog)
    assert result.code == 0, result.err
    assert [json.loads(h["body"])["data"]["code"] for h in env.captures("webhook")] == ["NEW"]
    assert not outbox.exists()


def test_changed_notify_credentials_give_a_clear_message(env: Sandbox, run, kept,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    catalog, outbox = kept
    monkeypatch.setenv("HOOK_SECRET", "whsec-rotated")
    result = run("notify", "--retry", "-c", catalog)
    assert result.code == 1 and "Traceback" not in result.err
    assert "does not match this catalog's notification credentials" in result.err and "they changed" in result.err
    assert env.captures("webhook") == []


def test_notify_waits_for_a_running_apply_of_the_same_catalog_then_names_it(  # type: ignore[no-untyped-def]
        env: Sandbox, run, kept) -> None:
    """While a run holds the outbox (an apply, from before its read-back until
    its delivery), notify does not read it back: it gives up naming the holder."""
    catalog, outbox = kept
    with lock.hold_outbox(outbox, timeout=0, command="reconciler apply -c held"):
        result = run("notify", "-c", catalog, "--lock-timeout", "0")
    assert result.code == 1 and "Traceback" not in result.err
    assert f"another run delivering the outbox {outbox} is running (pid {os.getpid()}" in result.err
    assert "reconciler apply -c held" in result.err and "nothing was sent" in result.err
    assert env.captures("webhook") == [] and len(json.loads(outbox.read_text())["entries"]) == 1


def test_apply_holds_the_outbox_lock(env: Sandbox, run, kept) -> None:  # type: ignore[no-untyped-def]
    catalog, outbox = kept
    with lock.hold_outbox(outbox, timeout=0, command="reconciler notify -c held"):
        result = run("apply", "-c", catalog, "--auto-approve", "--lock-timeout", "0")
    assert result.code == 1 and "reconciler notify -c held" in result.err and "nothing was applied" in result.err
    assert env.captures("webhook") == []
