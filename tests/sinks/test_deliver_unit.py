"""deliver / retry_outbox against httpx.MockTransport: isolation, retries,
missing credentials, refusals, and no secrets in reports or the outbox."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Callable

import httpx

from reconciler.catalog.notify import NotifySettings, Secret, UserComSettings, VoucherifySettings, WebhookSettings
from reconciler.catalog.model import frozen
from reconciler.http import RetryPolicy
from reconciler.sinks import Event, Outbox, deliver, retry_outbox, verify_signature

SECRET = "whsec-unit-deliver-77"
USERCOM_TOKEN = "uc-token-unit-0123456789"
APP_TOKEN = "vf-app-token-unit-9876"
TRUSTED = {"RECONCILER_TRUSTED_HOSTS": "acme.user.test,api.voucherify.test"}  # (the catalog-given base URLs)
ENV = {"USERCOM_TOKEN": USERCOM_TOKEN, "VOUCHERIFY_APP_ID": "app-id", "VOUCHERIFY_APP_TOKEN": APP_TOKEN,
       "VOUCHERIFY_MAX_RPM": "0", **TRUSTED}  # (Voucherify's pacing: test_voucherify_is_paced_by_default)
FAST = RetryPolicy(attempts=3, backoff_initial=0.001, backoff_max=0.002)

HOOK = WebhookSettings(url="https://hooks.test/catalog", secret=Secret(SECRET))
USERCOM = UserComSettings(event_type="view", attribution=("user_id", 431), attributes=("description",),
                          base_url="https://acme.user.test/api/public")
VOUCHERIFY = VoucherifySettings(event="catalog-product-changed", customer=frozen({"source_id": "bot"}),
                                base_url="https://api.voucherify.test")
ALL = NotifySettings(webhooks=(HOOK,), usercom=USERCOM, voucherify=VOUCHERIFY)


def ev(code: str, name: str = "product.updated") -> Event:
    return Event(str(uuid.uuid4()), name, 1700000000, code, {"code": code, "description": f"{code} desc"},
                 ("description",))


def transport(answer: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        return answer(request)
    return httpx.MockTransport(handler)


def secrets_absent(*texts: str) -> None:
    for text in texts:
        for secret in (SECRET, USERCOM_TOKEN, APP_TOKEN):
            assert secret not in text


def test_requests_each_sink_makes(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    events = [ev("A B/1", "product.created"), ev("GONE", "product.deleted")]
    report = deliver(events, ALL, environ=ENV, outbox_path=tmp_path / "o.json", livemode=True,
                     transport=transport(lambda r: httpx.Response(200, json={}), seen), retry=FAST)
    assert report.ok and report.delivered == 5 and report.pending == 0
    by_host: dict[str, list[httpx.Request]] = {}
    for request in seen:
        by_host.setdefault(request.url.host, []).append(request)
    hooks = by_host["hooks.test"]
    assert [json.loads(r.content)["event"] for r in hooks] == ["product.created", "product.deleted"]
    assert all(json.loads(r.content)["livemode"] is True for r in hooks)
    assert all(verify_signature(SECRET, r.headers["Reconciler-Signature"], r.content) for r in hooks)
    (uc,) = by_host["acme.user.test"]  # deletions send nothing to user.com
    assert uc.url.raw_path == b"/api/public/products-by-id/A%20B%2F1/product_event/"
    assert uc.headers["Authorization"] == f"Token {USERCOM_TOKEN}"
    assert uc.headers["Accept"] == "*/*; version=2"  # user.com apidocs v2
    assert json.loads(uc.content) == {"user_id": 431, "event_type": "view", "timestamp": 1700000000,
                                      "data": {"description": "A B/1 desc", "event_id": events[0].id}}
    vf = by_host["api.voucherify.test"]
    assert [r.url.path for r in vf] == ["/v1/events", "/v1/events"]
    assert vf[0].headers["X-App-Id"] == "app-id" and vf[0].headers["X-App-Token"] == APP_TOKEN
    assert json.loads(vf[1].content) == {"event": "catalog-product-changed", "customer": {"source_id": "bot"},
                                         "metadata": {"event_id": events[1].id, "code": "GONE", "change": "deleted",
                                                      "changed_fields": ["description"]}}


def test_retry_after_is_honoured_and_attempt_ids_change(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(502), httpx.Response(204)])
    waits: list[float] = []
    only_hook = NotifySettings(webhooks=(HOOK,))
    report = deliver([ev("A")], only_hook, environ={}, outbox_path=tmp_path / "o.json", livemode=False,
                     transport=transport(lambda r: next(answers), seen), retry=FAST, sleep=waits.append)
    assert report.ok and len(seen) == 3
    bodies = [json.loads(r.content) for r in seen]
    assert len({b["id"] for b in bodies}) == 1 and len({b["attemptId"] for b in bodies}) == 3
    assert 2.0 <= waits[0] <= 2.0 + FAST.backoff_initial / 4 and len(waits) == 2


def test_missing_credentials_fail_only_that_sink(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    outbox = tmp_path / "o.json"
    env = {"VOUCHERIFY_APP_ID": "app-id", "VOUCHERIFY_APP_TOKEN": APP_TOKEN, **TRUSTED}  # no USERCOM_TOKEN
    report = deliver([ev("A"), ev("B")], ALL, environ=env, outbox_path=outbox, livemode=True,
                     transport=transport(lambda r: httpx.Response(200, json={}), seen), retry=FAST)
    by_sink = {s.kind: s for s in report.sinks}
    assert by_sink["webhook"].delivered == 2 and by_sink["voucherify"].delivered == 2
    assert by_sink["usercom"].failed == 2 and "USERCOM_TOKEN is not set" in by_sink["usercom"].messages[0]
    assert not report.ok and report.pending == 2
    assert {e.sink for e in Outbox(outbox).entries()} == {"usercom"}


def test_sink_down_stops_that_sink_and_keeps_the_rest_in_order(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "hooks.test":
            raise httpx.ConnectError("connection refused")
        return httpx.Response(200, json={})

    events = [ev("A"), ev("B"), ev("C")]
    outbox = tmp_path / "o.json"
    report = deliver(events, ALL, environ=ENV, outbox_path=outbox, livemode=True,
                     transport=transport(answer, seen), retry=FAST)
    hook = next(s for s in report.sinks if s.kind == "webhook")
    assert hook.failed == 3 and hook.delivered == 0 and "3 event(s) not delivered" in hook.messages[0]
    assert sum(1 for r in seen if r.url.host == "hooks.test") == FAST.attempts  # not 3 x attempts
    assert [e.event.code for e in Outbox(outbox).entries()] == ["A", "B", "C"]
    # later the receiver is back: delivered with the original ids, then the outbox is empty
    seen.clear()
    again = retry_outbox(ALL, environ=ENV, outbox_path=outbox,
                         transport=transport(lambda r: httpx.Response(200), seen), retry=FAST)
    assert again.ok and again.delivered == 3 and again.pending == 0 and not outbox.exists()
    assert [json.loads(r.content)["id"] for r in seen] == [e.id for e in events]
    assert all(r.url.host == "hooks.test" for r in seen)  # only the sink that failed


def test_refused_event_is_kept_and_the_next_is_tried(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if b'"code":"BAD"' in request.content:  # Voucherify echoing our token back must not leak it
            return httpx.Response(400, json={"code": 400, "key": "invalid", "message": f"bad {APP_TOKEN}"})
        return httpx.Response(200, json={})

    outbox = tmp_path / "o.json"
    only = NotifySettings(voucherify=VOUCHERIFY)
    report = deliver([ev("BAD"), ev("OK")], only, environ=ENV, outbox_path=outbox, livemode=True,
                     transport=transport(answer, seen), retry=FAST)
    (sink,) = report.sinks
    assert (sink.delivered, sink.failed) == (1, 1) and len(seen) == 2  # a 4xx is not retried
    assert "product.updated BAD: voucherify: HTTP 400: bad [redacted]" in sink.messages[0]
    secrets_absent("\n".join(report.lines()), outbox.read_text())


def test_auth_rejection_is_reported_without_the_token(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    outbox = tmp_path / "o.json"
    only = NotifySettings(usercom=USERCOM)
    report = deliver([ev("A"), ev("B")], only, environ=ENV, outbox_path=outbox, livemode=True,
                     transport=transport(lambda r: httpx.Response(401, json={"detail": "Invalid token."}), seen),
                     retry=FAST)
    (sink,) = report.sinks
    assert sink.failed == 2 and len(seen) == 1  # credentials rejected: the rest is not tried
    assert "HTTP 401: Invalid token." in sink.messages[0]
    secrets_absent("\n".join(report.lines()), outbox.read_text(), repr(report))


def test_orphaned_outbox_entries_are_kept_and_reported(tmp_path: Path) -> None:
    outbox = tmp_path / "o.json"
    deliver([ev("A")], NotifySettings(webhooks=(HOOK,)), environ={}, outbox_path=outbox, livemode=True,
            transport=transport(lambda r: httpx.Response(503), []), retry=FAST)
    moved = WebhookSettings(url="https://elsewhere.test/hook", secret=Secret(SECRET))
    report = retry_outbox(NotifySettings(webhooks=(moved,)), environ={}, outbox_path=outbox,
                          transport=transport(lambda r: httpx.Response(200), []), retry=FAST)
    assert not report.ok and report.pending == 1
    assert "no longer configured" in report.sinks[0].messages[0]


def test_nothing_to_send_touches_nothing(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    report = deliver([], ALL, environ=ENV, outbox_path=tmp_path / "o.json", livemode=True,
                     transport=transport(lambda r: httpx.Response(200), seen))
    assert report.ok and report.sinks == () and seen == [] and not (tmp_path / "o.json").exists()
    assert retry_outbox(ALL, environ=ENV, outbox_path=tmp_path / "o.json").sinks == ()
