"""Notifications end to end against the sandbox over real HTTP: a real plan and
apply of ReadyCloud products, then delivery to the capture endpoints."""
from __future__ import annotations

import json
import logging
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from reconciler import engine
from reconciler.apply import ApplyResult
from reconciler.catalog.load import load_catalog
from reconciler.catalog.model import Catalog
from reconciler.plan import Plan
from reconciler.http import RetryPolicy
from reconciler.sandbox.capture import (DEFAULT_USERCOM_TOKEN, DEFAULT_VOUCHERIFY_APP_ID,
                                        DEFAULT_VOUCHERIFY_APP_TOKEN, sandbox_notify_environ)
from reconciler.sinks import Outbox, build_events, deliver, retry_outbox

Box = Any  # tests/sinks/conftest.py's Box (conftest modules are not importable with importlib mode)
FAST = RetryPolicy(attempts=3, backoff_initial=0.01, backoff_max=0.05)

SEED = [
    {"code": "KEEP", "kind": "goods", "description": "Stays as it is", "unit_price": "5.00 USD"},
    {"code": "UPD", "kind": "goods", "description": "Mug", "unit_price": "12.00 EUR"},
    {"code": "DEL", "kind": "goods", "description": "Discontinued", "unit_price": "1.00 USD"},
]
CATALOG = """readycloud: {{org: 1}}
products:
  - code: KEEP
    kind: goods
    description: Stays as it is
    unit_price: 5.00 USD
  - code: UPD
    kind: goods
    description: Mug
    unit_price: 12.50 EUR
  - code: NEW
    kind: goods
    description: Brand new
    unit_price: 3 USD
  - code: DEL
    absent: true
notify:
  webhooks:
    - url: {url}/hooks/storefront
      secret: ${{SINKS_WEBHOOK_SECRET}}
  usercom:
    event_type: view
    user_id: 431
    attributes: [description, unit_price, kind]
  voucherify:
    event: catalog-product-changed
    customer: {{source_id: catalog-bot}}
"""
ENVELOPE_KEYS = ["id", "attemptId", "created", "event", "livemode", "data"]


def prepare(box: Box, catalog_file: Callable[[str], Path]) -> tuple[Catalog, dict[str, str], Path]:
    box.sandbox.seed_readycloud(1, SEED)
    path = catalog_file(CATALOG.format(url=box.url))
    env = {"READYCLOUD_MAX_RPM": os.environ["READYCLOUD_MAX_RPM"],  # (unpaced: tests/conftest.py's ``unpaced``)
           "READYCLOUD_BASE_URL": box.sandbox.readycloud_base_url, "READYCLOUD_TOKEN": box.sandbox.token,
           "RECONCILER_RETRY_BACKOFF": "0.01", **sandbox_notify_environ(box.url)}
    return load_catalog(path), env, path.parent / ".reconciler" / "outbox.json"


def plan_and_apply(catalog: Catalog, env: dict[str, str], *, apply: bool = True) -> tuple[Plan, ApplyResult]:
    with ExitStack() as stack:
        providers = engine.open_providers(catalog, stack, environ=env)
        plan = engine.refresh_and_plan(catalog, providers)
        result = engine.apply(plan, providers) if apply else ApplyResult(())
    return plan, result


def nothing_captured(box: Box) -> bool:
    return not any(box.captures(sink) for sink in ("webhook", "usercom", "voucherify"))


def test_one_signed_event_per_applied_change_and_nothing_on_plan(
        box: Box, catalog_file: Callable[[str], Path], webhook_secret: str,
        doc_verify: Callable[..., bool]) -> None:
    catalog, env, outbox = prepare(box, catalog_file)
    before = {p["code"]: p for p in box.sandbox.readycloud_products()}
    plan, _ = plan_and_apply(catalog, env, apply=False)
    assert plan.counts["create"] == plan.counts["update"] == plan.counts["delete"] == 1
    assert nothing_captured(box)  # a plan announces nothing

    _, result = plan_and_apply(catalog, env)
    assert result.ok
    events = build_events(result, catalog=catalog)
    report = deliver(events, catalog.notify, environ=env, outbox_path=outbox, livemode=False, retry=FAST)
    assert report.ok and report.pending == 0 and not outbox.exists()
    assert {(s.kind, s.delivered) for s in report.sinks} == {("webhook", 3), ("usercom", 2), ("voucherify", 3)}

    now = {p["code"]: p for p in box.sandbox.readycloud_products()}
    hooks = box.captures("webhook")
    assert len(hooks) == 3 and all(h["name"] == "storefront" and h["status"] == 200 for h in hooks)
    by_event = {}
    for hook in hooks:
        body = hook["body"].encode()
        assert doc_verify(webhook_secret, hook["headers"]["reconciler-signature"], body)
        envelope = json.loads(body)
        assert list(envelope) == ENVELOPE_KEYS and envelope["livemode"] is False
        by_event[envelope["event"]] = envelope
    assert by_event["product.created"]["data"] == now["NEW"]  # the product as it now is
    assert by_event["product.updated"]["data"] == now["UPD"]
    assert by_event["product.updated"]["data"]["unit_price"] == "12.50 EUR"
    assert by_event["product.deleted"]["data"] == before["DEL"]  # its last known state
    assert {e["id"] for e in by_event.values()} == {e.id for e in events}

    usercom = box.captures("usercom")
    assert sorted(c["custom_id"] for c in usercom) == ["NEW", "UPD"]  # no deletions, no unchanged
    upd = next(c["json"] for c in usercom if c["custom_id"] == "UPD")
    assert upd == {"user_id": 431, "event_type": "view", "timestamp": by_event["product.updated"]["created"],
                   "data": {"description": "Mug", "unit_price": "12.50 EUR", "kind": "goods",
                            "event_id": by_event["product.updated"]["id"]}}  # the webhook envelope's id
    assert all(c["headers"]["accept"] == "*/*; version=2" for c in usercom)
    assert all(c["path"].endswith("/product_event/") and c["status"] == 201 for c in usercom)

    metadata = sorted((c["json"]["metadata"]["code"], c["json"]["metadata"]["change"],
                       tuple(c["json"]["metadata"]["changed_fields"])) for c in box.captures("voucherify"))
    assert metadata[0] == ("DEL", "deleted", ())
    assert metadata[1][:2] == ("NEW", "created") and "description" in metadata[1][2]
    assert metadata[2] == ("UPD", "updated", ("unit_price",))
    ids = {c["json"]["metadata"]["code"]: c["json"]["metadata"]["event_id"] for c in box.captures("voucherify")}
    assert ids == {"DEL": by_event["product.deleted"]["id"], "NEW": by_event["product.created"]["id"],
                   "UPD": by_event["product.updated"]["id"]}
    assert all(c["json"]["event"] == "catalog-product-changed" and c["json"]["customer"] == {
        "source_id": "catalog-bot"} for c in box.captures("voucherify"))

    box.clear()  # a second apply has nothing to do and announces nothing
    plan, result = plan_and_apply(catalog, env)
    assert not plan.has_changes and build_events(result, catalog=catalog) == ()


def test_failed_change_announces_nothing(box: Box, catalog_file: Callable[[str], Path],
                                         webhook_secret: str) -> None:
    catalog, env, outbox = prepare(box, catalog_file)
    box.sandbox.inject({"status": 400, "method": "PATCH", "count": 1})
    _, result = plan_and_apply(catalog, env)
    assert [r.change.key for r in result.failed] == ["UPD"]
    events = build_events(result, catalog=catalog)
    assert sorted(e.code for e in events) == ["DEL", "NEW"]
    deliver(events, catalog.notify, environ=env, outbox_path=outbox, livemode=False, retry=FAST)
    assert "UPD" not in {c["custom_id"] for c in box.captures("usercom")}
    assert len(box.captures("webhook")) == 2


def test_retries_keep_the_id_and_change_the_attempt_id(box: Box, catalog_file: Callable[[str], Path],
                                                       webhook_secret: str, doc_verify: Callable[..., bool]) -> None:
    catalog, env, outbox = prepare(box, catalog_file)
    _, result = plan_and_apply(catalog, env)
    events = [e for e in build_events(result, catalog=catalog) if e.code == "NEW"]
    box.fail("webhook", count=2, status=503)
    report = deliver(events, catalog.notify, environ=env, outbox_path=outbox, livemode=False, retry=FAST)
    assert report.ok
    attempts = box.captures("webhook")
    assert [a["status"] for a in attempts] == [503, 503, 200]
    bodies = [json.loads(a["body"]) for a in attempts]
    assert {b["id"] for b in bodies} == {events[0].id}
    assert len({b["attemptId"] for b in bodies}) == 3
    assert all(doc_verify(webhook_secret, a["headers"]["reconciler-signature"], a["body"].encode())
               for a in attempts)


def test_sink_down_during_apply_then_retry_delivers_each_event_once(
        box: Box, catalog_file: Callable[[str], Path], webhook_secret: str) -> None:
    catalog, env, outbox = prepare(box, catalog_file)
    _, result = plan_and_apply(catalog, env)
    events = build_events(result, catalog=catalog)
    box.fail("webhook", count=None, status=503)  # the receiver is down
    report = deliver(events, catalog.notify, environ=env, outbox_path=outbox, livemode=False, retry=FAST)
    assert result.ok  # the apply itself stands
    assert not report.ok and report.pending == 3
    hook = next(s for s in report.sinks if s.kind == "webhook")
    assert (hook.delivered, hook.failed) == (0, 3) and "HTTP 503" in hook.messages[0]
    assert all(s.ok for s in report.sinks if s.kind != "webhook")  # other sinks unaffected
    assert any("notify --retry" in line for line in report.lines())
    kept = Outbox(outbox).entries()
    assert [e.event.id for e in kept] == [e.id for e in events] and all(not e.livemode for e in kept)
    assert len(box.captures("webhook")) == FAST.attempts  # gave up after one event's retries

    # still down: a retry keeps everything
    again = retry_outbox(catalog.notify, environ=env, outbox_path=outbox, retry=FAST)
    assert not again.ok and again.pending == 3 and Outbox(outbox).entries()[0].attempts == 2

    box.recover()
    box.clear()
    again = retry_outbox(catalog.notify, environ=env, outbox_path=outbox, retry=FAST)
    assert again.ok and again.delivered == 3 and again.pending == 0 and not outbox.exists()
    delivered = [json.loads(c["body"]) for c in box.captures("webhook") if c["status"] == 200]
    assert sorted(d["id"] for d in delivered) == sorted(e.id for e in events)  # original ids, once each
    assert all(d["livemode"] is False for d in delivered)
    assert box.captures("usercom") == [] and box.captures("voucherify") == []  # nothing delivered twice

    again = retry_outbox(catalog.notify, environ=env, outbox_path=outbox, retry=FAST)
    assert again.ok and again.delivered == 0 and len(box.captures("webhook")) == 3


def test_capture_endpoints_enforce_the_vendor_contracts(box: Box) -> None:
    usercom = f"{box.url}/usercom/api/public/products-by-id/MUG/product_event/"
    auth = {"Authorization": f"Token {DEFAULT_USERCOM_TOKEN}", "Accept": "*/*; version=2"}
    good = {"user_id": 431, "event_type": "view", "timestamp": 1700000000, "data": {"a": 1}}
    assert isinstance(httpx.post(usercom, json=good, headers=auth).json()["id"], int)
    v1 = httpx.post(usercom, json=good, headers={**auth, "Accept": "application/json"})  # no version: v1
    assert v1.status_code == 406 and "version=2" in v1.json()["detail"]
    for v1_body in ({**good, "user_id": "431"}, {"client": 431, **{k: good[k] for k in good if k != "user_id"}}):
        assert httpx.post(usercom, json=v1_body, headers=auth).status_code == 400  # v1 attributions
    assert httpx.post(usercom.rstrip("/"), json=good, headers=auth).status_code == 404  # trailing slash
    assert httpx.post(usercom, json=good).status_code == 401
    assert httpx.post(usercom, json=good, headers={"Authorization": "Token wrong"}).status_code == 401
    bad = httpx.post(usercom, json={**good, "event_type": "add to kart"}, headers=auth)
    assert bad.status_code == 400 and "event_type" in bad.json()
    both = httpx.post(usercom, json={**good, "client": 5}, headers=auth)
    assert both.status_code == 400
    assert httpx.post(usercom, json={**good, "timestamp": "now"}, headers=auth).status_code == 400
    by_id = f"{box.url}/usercom/api/public/products/49/product_event/"
    assert httpx.post(by_id, json=good, headers=auth).status_code == 201

    events = f"{box.url}/voucherify/v1/events"
    keys = {"X-App-Id": DEFAULT_VOUCHERIFY_APP_ID, "X-App-Token": DEFAULT_VOUCHERIFY_APP_TOKEN}
    body = {"event": "e", "customer": {"source_id": "bot"}, "metadata": {"code": "MUG"}}
    answer = httpx.post(events, json=body, headers=keys)
    assert answer.status_code == 200 and answer.json()["object"] == "event" and answer.json()["type"] == "e"
    denied = httpx.post(events, json=body, headers={"X-App-Id": DEFAULT_VOUCHERIFY_APP_ID})
    assert denied.status_code == 401 and set(denied.json()) == {"code", "key", "message", "details", "request_id"}
    assert httpx.post(events, json={"event": "e"}, headers=keys).status_code == 400
    assert httpx.post(events, json={"customer": {"source_id": "b"}}, headers=keys).status_code == 400

    hook = f"{box.url}/hooks/anything"
    assert httpx.post(hook, json={"id": "x"}).status_code == 400  # no signature header
    assert httpx.post(hook, json={"id": "x"}, headers={"Reconciler-Signature": "t=1,v1=00"}).status_code == 400

    captured = box.captures("usercom") + box.captures("voucherify")
    assert all(c["headers"].get("authorization", "[redacted]") == "[redacted]" for c in captured)
    assert DEFAULT_VOUCHERIFY_APP_TOKEN not in json.dumps(captured)
    assert httpx.get(f"{box.url}/_sandbox/captures/nope").status_code == 404
    assert httpx.post(f"{box.url}/_sandbox/capture/fail", json={"sink": "x"}).status_code == 400


def test_secrets_absent_from_all_output(box: Box, catalog_file: Callable[[str], Path], webhook_secret: str,
                                        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    catalog, env, outbox = prepare(box, catalog_file)
    wrong_token = "uc-wrong-token-4f8e2a61"
    env["USERCOM_TOKEN"] = wrong_token  # user.com rejects it
    _, result = plan_and_apply(catalog, env)
    events = build_events(result, catalog=catalog)
    box.fail("voucherify", count=None, status=500)  # Voucherify is down
    report = deliver(events, catalog.notify, environ=env, outbox_path=outbox, livemode=False, retry=FAST)
    retried = retry_outbox(catalog.notify, environ=env, outbox_path=outbox, retry=FAST)
    assert not report.ok and not retried.ok and outbox.exists()
    assert "HTTP 401" in next(s for s in report.sinks if s.kind == "usercom").messages[0]
    captured = capsys.readouterr()
    texts = {
        "report": "\n".join(report.lines()) + repr(report),
        "retry report": "\n".join(retried.lines()) + repr(retried),
        "outbox": outbox.read_text(),
        "captures": json.dumps([box.captures(s) for s in ("webhook", "usercom", "voucherify")]),
        "logs": caplog.text, "stdout": captured.out, "stderr": captured.err,
        "settings": repr(catalog.notify),
    }
    for secret in (webhook_secret, wrong_token, DEFAULT_VOUCHERIFY_APP_TOKEN):
        for name, text in texts.items():
            assert secret not in text, f"a secret leaked into the {name}"


def test_sandbox_request_log_keeps_no_voucherify_token(box: Box) -> None:
    box.sandbox.clear_requests()
    keys = {"X-App-Id": DEFAULT_VOUCHERIFY_APP_ID, "X-App-Token": DEFAULT_VOUCHERIFY_APP_TOKEN}
    httpx.post(f"{box.url}/voucherify/v1/events", json={"event": "e", "customer": {"source_id": "b"}},
               headers=keys)
    leaked = DEFAULT_VOUCHERIFY_APP_TOKEN in json.dumps(box.sandbox.requests())
    assert not leaked
