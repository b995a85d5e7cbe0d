"""Notifications through the CLI: apply announces, a sink down is kept in the
outbox, `notify --retry` delivers it later with the original ids."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import Sandbox
from reconciler.sinks import verify_signature

SECRET = "whsec-cli-test-4242"
CATALOG = """readycloud: {{org: 1}}
products:
  - {{code: SAME, kind: goods, quantity: 1}}
  - {{code: UPD, kind: goods, quantity: 2}}
  - {{code: NEW, kind: goods, description: fresh}}
  - {{code: OLD, absent: true}}
notify:
  webhooks:
    - url: {url}/hooks/storefront
      secret: ${{HOOK_SECRET}}
  usercom:
    event_type: view
    user_id: 431
    attributes: [description, quantity]
  voucherify:
    event: catalog-product-changed
    customer: {{source_id: catalog-bot}}
"""


@pytest.fixture
def box(notify_env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    env = notify_env
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    env.seed_readycloud(1, [{"code": "SAME", "kind": "goods", "quantity": 1},
                            {"code": "UPD", "kind": "goods", "quantity": 1},
                            {"code": "OLD", "kind": "goods"}])
    return env


def test_apply_announces_each_applied_change_and_plan_nothing(box: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(CATALOG.format(url=box.url))
    assert run("plan", "-c", catalog).code == 0
    assert all(box.captures(sink) == [] for sink in ("webhook", "usercom", "voucherify"))

    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.err
    hooks = box.captures("webhook")
    events = sorted((json.loads(h["body"])["event"], json.loads(h["body"])["data"]["code"]) for h in hooks)
    assert events == [("product.created", "NEW"), ("product.deleted", "OLD"), ("product.updated", "UPD")]
    for hook in hooks:
        envelope = json.loads(hook["body"])
        assert envelope["livemode"] is True  # a real apply, not --sandbox
        assert verify_signature(SECRET, hook["headers"]["reconciler-signature"], hook["body"].encode())
    assert sorted(e["path"].split("/")[-3] for e in box.captures("usercom")) == ["NEW", "UPD"]  # no deletes
    assert len(box.captures("voucherify")) == 3
    assert SECRET not in result.out + result.err


def test_sink_down_then_notify_retry_delivers_once_with_original_ids(box: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                     tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RECONCILER_RETRY_ATTEMPTS", "2")
    catalog = write_catalog(CATALOG.format(url=box.url))
    box.fail_sink("webhook", 503, None)  # down until cleared
    applied = run("apply", "-c", catalog, "--auto-approve")
    assert applied.code == 1  # the changes were made, a sink failed
    assert "Apply complete: 3 succeeded, 0 failed, 0 skipped." in applied.out
    assert {p["code"] for p in box.readycloud_products(1)} == {"SAME", "UPD", "NEW"}
    outbox = tmp_path / ".reconciler" / "outbox.json"
    stored = outbox.read_text()
    assert SECRET not in stored and box.token not in stored
    kept = [e for e in json.loads(stored)["entries"] if e["sink"].startswith("webhook")]
    first_ids = {e["event"]["id"] for e in kept}
    assert len(kept) == 3 and len(first_ids) == 3  # all three webhook events wait in the outbox
    tried = [json.loads(h["body"]) for h in box.captures("webhook")]
    assert tried and {t["id"] for t in tried} <= first_ids  # a sink that stays down is not hammered
    attempts = {t["attemptId"] for t in tried}

    httpx.delete(f"{box.url}/_sandbox/capture/fail").raise_for_status()
    box.clear_captures()
    retried = run("notify", "-c", catalog)  # (no flag needed: delivering the outbox is what notify does)
    assert retried.code == 0, retried.out + retried.err
    delivered = [json.loads(h["body"]) for h in box.captures("webhook")]
    assert {d["id"] for d in delivered} == first_ids  # the original ids
    assert not {d["attemptId"] for d in delivered} & attempts  # new attempts
    assert box.captures("usercom") == [] and box.captures("voucherify") == []  # those were delivered already

    again = run("notify", "--retry", "-c", catalog)  # (--retry still accepted)
    assert again.code == 0 and again.out == "Nothing to deliver: the outbox is empty.\n"
    assert len(box.captures("webhook")) == 3  # nothing delivered twice
    for text in (applied.out, applied.err, retried.out, retried.err):
        assert SECRET not in text and "sandbox-usercom-token" not in text


def test_failed_change_sends_no_event(box: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    box.inject({"status": 400, "count": 1, "method": "PATCH"})
    result = run("apply", "-c", write_catalog(CATALOG.format(url=box.url)), "--auto-approve")
    assert result.code == 1
    codes = sorted(json.loads(h["body"])["data"]["code"] for h in box.captures("webhook"))
    assert codes == ["NEW", "OLD"]


def test_bad_event_type_fails_validation_offline(box: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(CATALOG.format(url=box.url).replace("event_type: view", "event_type: viewed"))
    box.clear_requests()
    result = run("validate", "-c", catalog)
    assert result.code == 1
    assert ":12: notify.usercom.event_type:" in result.err and "'view'" in result.err
    assert box.requests() == []


def test_applying_a_saved_plan_announces_its_deletes_too(box: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The CD flow: plan --out on the PR, apply PLANFILE on merge. The deleted
    product's last known state comes from the plan file."""
    catalog = write_catalog(CATALOG.format(url=box.url))
    old = next(p for p in box.readycloud_products(1) if p["code"] == "OLD")
    plan_path = str(tmp_path / "plan.json")
    assert run("plan", "-c", catalog, "--out", plan_path).code == 0
    result = run("apply", plan_path, "-c", catalog)
    assert result.code == 0, result.err
    hooks = {json.loads(h["body"])["event"]: json.loads(h["body"]) for h in box.captures("webhook")}
    assert sorted(hooks) == ["product.created", "product.deleted", "product.updated"]
    assert hooks["product.deleted"]["data"] == old
    changes = [json.loads(c["body"])["metadata"]["change"] for c in box.captures("voucherify")]
    assert sorted(changes) == ["created", "deleted", "updated"]


def test_notify_without_an_outbox_says_there_is_nothing_to_deliver(box: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(CATALOG.format(url=box.url))
    result = run("notify", "-c", catalog)
    assert (result.code, result.out, result.err) == (0, "Nothing to deliver: the outbox is empty.\n", "")


def test_the_voucherify_event_and_customer_take_values_from_the_environment(box: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                           monkeypatch) -> None:
    """``${VAR}`` in any string is replaced (README): the event name and the
    customer were sent as written, ``${VOUCHER_EVENT}`` included; the name is
    checked (1-300 characters) once substituted, and unset it stops apply's
    notifications before any change, like a webhook secret's."""
    catalog = write_catalog(CATALOG.format(url=box.url).replace(
        "event: catalog-product-changed", "event: ${VOUCHER_EVENT}").replace(
        "source_id: catalog-bot", "source_id: '${VOUCHER_CUSTOMER:-catalog-bot}'"))
    monkeypatch.setenv("VOUCHER_EVENT", "e" * 301)
    too_long = run("validate", "-c", catalog)
    assert too_long.code == 1 and "notify.voucherify.event: event is 301 characters long; Voucherify takes 1-300" \
        in too_long.err
    monkeypatch.delenv("VOUCHER_EVENT")
    assert run("validate", "-c", catalog).code == 0  # (validate and plan need no notification variable)
    unset = run("apply", "-c", catalog, "--auto-approve")
    assert unset.code != 0 and "VOUCHER_EVENT" in unset.err and box.captures("voucherify") == []
    monkeypatch.setenv("VOUCHER_EVENT", "catalog-changed-from-env")
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.out + result.err
    sent = [json.loads(c["body"]) for c in box.captures("voucherify")]
    assert len(sent) == 3
    assert {(s["event"], s["customer"]["source_id"]) for s in sent} == {("catalog-changed-from-env", "catalog-bot")}
