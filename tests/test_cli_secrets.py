"""Secrets only where they are used: `validate` and `plan` need no notification
credentials (a pull-request job holds none); `apply` (both paths) and
`notify --retry` check every one before any write and name what is missing."""
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.catalog.load import load_catalog
from reconciler.catalog.notify import NotifySettings, WebhookSettings
from reconciler.errors import ConfigError
from reconciler.sandbox import Sandbox
from reconciler.sandbox.capture import sandbox_notify_environ
from reconciler.sinks import Outbox, deliver, missing_credentials
from reconciler.sinks.events import Event
from reconciler.sinks.webhook import WebhookSink

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec-secrets-test-93e1"
NOTIFY_ENV = ("SECRETS_HOOK", "USERCOM_TOKEN", "USERCOM_BASE_URL", "VOUCHERIFY_APP_ID", "VOUCHERIFY_APP_TOKEN",
              "VOUCHERIFY_BASE_URL")
CATALOG = """readycloud: {{org: 1}}
products:
  - {{code: UPD, kind: goods, quantity: 2}}
  - {{code: NEW, kind: goods}}
notify:
  webhooks:
    - url: {url}/hooks/storefront
      secret: ${{SECRETS_HOOK}}
  usercom:
    event_type: view
    user_id: 431
    attributes: [quantity]
  voucherify:
    event: catalog-product-changed
    customer: {{source_id: catalog-bot}}
"""
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@pytest.fixture
def box(env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A sandbox with one product to update; no notification credentials set."""
    for name in NOTIFY_ENV:
        monkeypatch.delenv(name, raising=False)
    env.seed_readycloud(1, [{"code": "UPD", "kind": "goods", "quantity": 1}])
    return env


def with_credentials(box: Sandbox, monkeypatch: pytest.MonkeyPatch, *, leave_out: str = "") -> None:
    values = {**sandbox_notify_environ(box.url), "SECRETS_HOOK": SECRET}
    for name, value in values.items():
        if name != leave_out:
            monkeypatch.setenv(name, value)


def vendor_writes(box: Sandbox) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in box.requests() if r["method"] in WRITES]


def test_validate_of_the_shipped_catalog_needs_no_notification_secret(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    result = run("validate", "-c", str(ROOT / "catalog.yaml"))
    assert result.code == 0, result.err
    assert "valid (" in result.out


def test_product_fields_still_need_their_variables(tmp_path: Path, run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SECRETS_DESC", raising=False)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("readycloud: {org: 1}\nproducts:\n  - {code: A, description: '${SECRETS_DESC}'}\n")
    result = run("validate", "-c", str(catalog))
    assert result.code == 1 and ":3: products[0].description: environment variable SECRETS_DESC is not set" \
        in result.err


def test_plan_needs_no_notification_secret_and_apply_names_each_before_any_write(  # type: ignore[no-untyped-def]
        box: Sandbox, run, write_catalog, tmp_path: Path, monkeypatch) -> None:
    catalog = write_catalog(CATALOG.format(url=box.url))
    plan_path = str(tmp_path / "plan.json")
    planned = run("plan", "-c", catalog, "--detailed-exitcode", "--out", plan_path)
    assert planned.code == 2, planned.err  # changes, and no notification secret asked for

    box.clear_requests()
    refused = run("apply", plan_path, "-c", catalog)
    assert refused.code == 1
    for name in ("SECRETS_HOOK (notify.webhooks[0].secret)", "USERCOM_TOKEN", "USERCOM_BASE_URL",
                 "VOUCHERIFY_APP_ID", "VOUCHERIFY_APP_TOKEN"):
        assert name in refused.err
    assert "nothing was applied" in refused.err
    assert vendor_writes(box) == []
    assert {p["code"]: p.get("quantity") for p in box.readycloud_products(1)} == {"UPD": 1}

    with_credentials(box, monkeypatch, leave_out="VOUCHERIFY_APP_TOKEN")  # one left: still nothing written
    refused = run("apply", plan_path, "-c", catalog)
    assert refused.code == 1 and "not set: VOUCHERIFY_APP_TOKEN (the Voucherify secret key);" in refused.err
    assert vendor_writes(box) == []

    with_credentials(box, monkeypatch)
    applied = run("apply", plan_path, "-c", catalog)
    assert applied.code == 0, applied.err
    assert len(box.captures("webhook")) == 2 and SECRET not in applied.out + applied.err


def test_apply_without_a_plan_file_checks_before_any_write(box: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                           monkeypatch) -> None:
    with_credentials(box, monkeypatch, leave_out="SECRETS_HOOK")
    catalog = write_catalog(CATALOG.format(url=box.url))
    box.clear_requests()
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 1
    assert "not set: SECRETS_HOOK (notify.webhooks[0].secret); nothing was applied" in result.err
    assert vendor_writes(box) == [] and box.captures("usercom") == []


def test_notify_retry_names_the_missing_variable_and_sends_nothing(box: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                   tmp_path: Path, monkeypatch) -> None:
    with_credentials(box, monkeypatch)
    monkeypatch.setenv("RECONCILER_RETRY_ATTEMPTS", "1")
    catalog = write_catalog(CATALOG.format(url=box.url))
    box.fail_sink("webhook", 503, None)
    assert run("apply", "-c", catalog, "--auto-approve").code == 1  # the webhook's events kept in the outbox
    outbox = tmp_path / ".reconciler" / "outbox.json"
    kept = outbox.read_text()
    box.clear_captures()

    monkeypatch.delenv("SECRETS_HOOK")
    result = run("notify", "--retry", "-c", catalog)
    assert result.code == 1
    assert "not set: SECRETS_HOOK (notify.webhooks[0].secret); nothing was sent" in result.err
    assert outbox.read_text() == kept
    assert all(box.captures(sink) == [] for sink in ("webhook", "usercom", "voucherify"))


def test_unset_variables_of_the_notify_section_are_recorded_not_resolved(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("products: []\nnotify:\n  webhooks:\n    - url: https://hooks.example.com/${SECRETS_PATH}\n"
                       "      secret: ${SECRETS_HOOK}\n  usercom:\n    base_url: ${SECRETS_USERCOM_URL}\n"
                       "    event_type: view\n    user_custom_id: ${SECRETS_USER}\n    attributes: [kind]\n")
    notify = load_catalog(catalog, environ={}).notify
    assert notify.unset_env == (("SECRETS_PATH", "notify.webhooks[0].url"),
                                ("SECRETS_HOOK", "notify.webhooks[0].secret"),
                                ("SECRETS_USERCOM_URL", "notify.usercom.base_url"),
                                ("SECRETS_USER", "notify.usercom.user_custom_id"))
    assert missing_credentials(notify, {}) == [
        "SECRETS_PATH (notify.webhooks[0].url)", "SECRETS_HOOK (notify.webhooks[0].secret)",
        "SECRETS_USERCOM_URL (notify.usercom.base_url)", "SECRETS_USER (notify.usercom.user_custom_id)",
        "USERCOM_TOKEN (the user.com API key)"]
    full = {"SECRETS_PATH": "p", "SECRETS_HOOK": "s", "SECRETS_USERCOM_URL": "https://a.user.com/api/public",
            "SECRETS_USER": "bot", "USERCOM_TOKEN": "t"}
    resolved = load_catalog(catalog, environ=full).notify
    assert resolved.unset_env == () and missing_credentials(resolved, full) == []
    assert resolved.webhooks[0].url == "https://hooks.example.com/p"


def test_a_library_delivery_with_an_unset_secret_keeps_the_events(tmp_path: Path) -> None:
    hook = WebhookSettings(url="https://hooks.example.com/x", secret=None, secret_env=("SECRETS_HOOK",),
                           unset_env=(("SECRETS_HOOK", "notify.webhooks[0].secret"),))
    with pytest.raises(ConfigError, match="SECRETS_HOOK is not set"):
        WebhookSink(hook, livemode=False)
    event = Event(id="evt_1", event="product.created", created=1, code="A", data={"code": "A"})
    report = deliver([event], NotifySettings(webhooks=(hook,)), environ={}, outbox_path=tmp_path / "o.json",
                     livemode=False)
    assert not report.ok and "SECRETS_HOOK is not set" in report.sinks[0].messages[0]
    assert [e.event.id for e in Outbox(tmp_path / "o.json").entries()] == ["evt_1"]
