"""Offline validation of the catalog's notify section (file:line:path messages)."""
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.catalog.load import load_catalog
from reconciler.catalog.notify import NotifySettings, Secret
from reconciler.contracts import notify as nc
from reconciler.errors import CatalogError

HEAD = "readycloud: {org: 1}\nproducts: []\n"


def problems(path: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    return [str(p) for p in info.value.problems]


def test_full_section_is_parsed(catalog_file, webhook_secret: str) -> None:  # type: ignore[no-untyped-def]
    catalog = load_catalog(catalog_file(HEAD + """notify:
  webhooks:
    - url: https://hooks.example.com/catalog
      secret: ${SINKS_WEBHOOK_SECRET}
      events: [product.deleted, product.created]
    - url: https://cache.example.com/hook
      secret: ${SINKS_WEBHOOK_SECRET}
  usercom:
    base_url: https://acme.user.com/api/public/
    event_type: add to cart
    user_custom_id: catalog-bot
    attributes: [description, unit_price, kind]
  voucherify:
    event: catalog-product-changed
    customer: {source_id: catalog-bot, metadata: {team: ops}}
"""))
    notify = catalog.notify
    assert isinstance(notify, NotifySettings) and notify.configured
    first, second = notify.webhooks
    assert first.url == "https://hooks.example.com/catalog"
    assert first.events == ("product.created", "product.deleted")  # canonical order
    assert second.events == nc.EVENT_NAMES  # default: all
    assert first.secret == Secret(webhook_secret) and first.secret_env == ("SINKS_WEBHOOK_SECRET",)
    assert webhook_secret not in repr(notify) and webhook_secret not in str(first.secret)
    assert first.key.startswith("webhook:") and "hooks.example.com/catalog" not in first.key
    assert first.label == "webhooks[0] (hooks.example.com)"
    assert notify.usercom is not None
    assert notify.usercom.base_url == "https://acme.user.com/api/public"
    assert notify.usercom.attribution == ("user_custom_id", "catalog-bot")
    assert notify.usercom.attributes == ("description", "unit_price", "kind")
    assert notify.voucherify is not None
    assert notify.voucherify.base_url == nc.VOUCHERIFY_DEFAULT_BASE_URL
    assert dict(notify.voucherify.customer) == {"source_id": "catalog-bot", "metadata": {"team": "ops"}}


def test_bad_usercom_event_type_is_rejected_with_file_line_and_suggestion(catalog_file) -> None:  # type: ignore[no-untyped-def]
    path = catalog_file(HEAD + """notify:
  usercom:
    event_type: add to kart
    user_id: 431
    attributes: [description]
""")
    found = problems(path)
    assert len(found) == 1
    assert found[0].startswith(f"{path}:5: notify.usercom.event_type: event_type 'add to kart' is not one of "
                               "user.com's product event types (did you mean 'add to cart'?)")


def test_every_problem_is_reported_with_its_line(catalog_file, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SINKS_UNSET_SECRET", raising=False)
    path = catalog_file(HEAD + """notify:
  webhook: []
  webhooks:
    - url: ftp://hooks.example.com
      secret: hunter2-literal
      events: [product.create]
    - url: https://ok.example.com
      secret: ${SINKS_UNSET_SECRET}
      event: [product.created]
    - secret: ${SINKS_UNSET_SECRET}
  usercom:
    event_type: view
    user_id: 431
    user_custom_id: bot
    attributes: [descripton, custom_fields]
  voucherify:
    customer: {name: bot}
""")
    text = "\n".join(problems(path))
    assert ":4: notify.webhook: unknown key 'webhook' (did you mean 'webhooks'?)" in text
    assert ":6: notify.webhooks[0].url: url must be an http:// or https:// URL" in text
    assert ":7: notify.webhooks[0].secret: secret must come from the environment" in text
    assert "hunter2-literal" not in text  # a typed-in secret is never echoed
    assert ":8: notify.webhooks[0].events[0]: unknown event 'product.create' (did you mean 'product.created'?)" in text
    assert "SINKS_UNSET_SECRET" not in text  # needed by apply and notify only (tests/test_cli_secrets.py)
    assert ":11: notify.webhooks[1].event: unknown key 'event' (did you mean 'events'?)" in text
    assert ":12: notify.webhooks[2]: missing required key 'url'" in text
    assert ":13: notify.usercom: give exactly one of user_id or user_custom_id" in text
    assert ":17: notify.usercom.attributes[0]: 'descripton' is not a ReadyCloud product field user.com can " \
           "take (did you mean 'description'?)" in text
    assert ":17: notify.usercom.attributes[1]: 'custom_fields' is not a ReadyCloud product field user.com " \
           "can take (an object" in text
    assert ":18: notify.voucherify: missing required key 'event'" in text
    assert ":19: notify.voucherify.customer: missing required key 'source_id'" in text


def test_usercom_needs_an_attribution_and_attributes(catalog_file) -> None:  # type: ignore[no-untyped-def]
    path = catalog_file(HEAD + "notify:\n  usercom: {event_type: view}\n")
    text = "\n".join(problems(path))
    assert ":4: notify.usercom: give exactly one of user_id or user_custom_id" in text and "got none" in text
    assert ":4: notify.usercom: missing required key 'attributes'" in text


def test_user_id_must_be_a_positive_integer(catalog_file) -> None:  # type: ignore[no-untyped-def]
    path = catalog_file(HEAD + "notify:\n  usercom:\n    event_type: view\n    user_id: '431'\n"
                               "    attributes: []\n")
    assert problems(path) == [f"{path}:6: notify.usercom.user_id: expected an integer user_id, got string"]


def test_empty_notify_section_is_allowed(catalog_file) -> None:  # type: ignore[no-untyped-def]
    notify = load_catalog(catalog_file(HEAD + "notify:\n")).notify
    assert notify == NotifySettings() and not notify.configured


def test_voucherify_event_name_is_at_most_300_characters(catalog_file) -> None:  # type: ignore[no-untyped-def]
    path = catalog_file(HEAD + "notify:\n  voucherify:\n    customer: {source_id: bot}\n    event: " + "e" * 301 + "\n")
    assert problems(path) == [f"{path}:6: notify.voucherify.event: event is 301 characters long; "
                              "Voucherify takes 1-300"]
    longest = load_catalog(catalog_file(HEAD + "notify:\n  voucherify:\n    customer: {source_id: bot}\n"
                                               "    event: " + "e" * 300 + "\n")).notify
    assert longest.voucherify is not None and len(longest.voucherify.event) == 300


def test_voucherify_pace_defaults_under_the_documented_limit(catalog_file) -> None:  # type: ignore[no-untyped-def]
    section = HEAD + "notify:\n  voucherify:\n    event: e\n    customer: {source_id: bot}\n"
    default = load_catalog(catalog_file(section)).notify.voucherify
    assert default is not None
    assert default.max_requests_per_minute == nc.VOUCHERIFY_DEFAULT_MAX_RPM < nc.VOUCHERIFY_RATE_LIMIT_PER_MINUTE
    own = load_catalog(catalog_file(section + "    max_requests_per_minute: 500\n")).notify.voucherify
    assert own is not None and own.max_requests_per_minute == 500
    off = load_catalog(catalog_file(section + "    max_requests_per_minute: 0\n")).notify.voucherify
    assert off is not None and off.max_requests_per_minute is None
    path = catalog_file(section + "    max_requests_per_minute: -1\n")
    assert problems(path) == [f"{path}:7: notify.voucherify.max_requests_per_minute: "
                              "max_requests_per_minute must not be negative"]


def test_usercom_v1_client_is_refused_pointing_to_user_id(catalog_file) -> None:  # type: ignore[no-untyped-def]
    path = catalog_file(HEAD + "notify:\n  usercom:\n    event_type: view\n    client: 431\n"
                               "    attributes: [description]\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}:6: notify.usercom.client: client is user.com's API v1 attribution")
    assert "use user_id" in problem


def test_voucherify_event_from_the_environment_is_checked_once_substituted(catalog_file,  # type: ignore[no-untyped-def]
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = catalog_file(HEAD + "notify:\n  voucherify:\n    customer: {source_id: '${VC_ID}'}\n"
                               "    event: ${VC_EVENT}\n")
    monkeypatch.setenv("VC_EVENT", "")
    assert problems(path) == [f"{path}:6: notify.voucherify.event: event is 0 characters long; "
                              "Voucherify takes 1-300"]
    monkeypatch.setenv("VC_EVENT", "product-changed")
    monkeypatch.setenv("VC_ID", "bot-7")
    settings = load_catalog(path).notify.voucherify
    assert settings is not None and (settings.event, settings.customer["source_id"]) == ("product-changed", "bot-7")
    monkeypatch.delenv("VC_EVENT")
    monkeypatch.delenv("VC_ID")
    unset = load_catalog(path).notify.voucherify
    assert unset is not None and unset.unset_env == (("VC_EVENT", "notify.voucherify.event"),
                                                     ("VC_ID", "notify.voucherify.customer.source_id"))


def test_voucherify_customer_metadata_strings_take_the_environment_at_any_depth(catalog_file,  # type: ignore[no-untyped-def]
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``${VAR}`` works in any string of the notify section (README), nested
    metadata too; an unset one is reported with its path, like the customer's
    top-level strings."""
    path = catalog_file(HEAD + "notify:\n  voucherify:\n    event: changed\n    customer:\n      source_id: bot\n"
                               "      metadata:\n        team: ${VC_TEAM}\n        deploy: {env: '${VC_ENV:-prod}', n: 3}\n"
                               "        tags: [a, '${VC_TAG}']\n")
    monkeypatch.setenv("VC_TEAM", "ops")
    monkeypatch.setenv("VC_TAG", "blue")
    settings = load_catalog(path).notify.voucherify
    assert settings is not None and settings.unset_env == ()
    assert dict(settings.customer)["metadata"] == {"team": "ops", "deploy": {"env": "prod", "n": 3},
                                                  "tags": ["a", "blue"]}
    monkeypatch.delenv("VC_TEAM")
    monkeypatch.delenv("VC_TAG")
    unset = load_catalog(path).notify.voucherify
    assert unset is not None and unset.unset_env == (("VC_TEAM", "notify.voucherify.customer.metadata.team"),
                                                     ("VC_TAG", "notify.voucherify.customer.metadata.tags[1]"))


@pytest.mark.parametrize("section", [
    "webhooks:\n    - {url: 'https://hooks.example.com/LONG', secret: '${SINKS_WEBHOOK_SECRET}'}\n",
    "usercom:\n    base_url: https://acme.user.com/LONG\n    event_type: add to cart\n"
    "    user_id: 1\n    attributes: [description]\n",
    "voucherify:\n    base_url: https://api.voucherify.io/LONG\n    event: e\n    customer: {source_id: b}\n"])
def test_a_notify_url_too_long_to_send_is_a_located_problem(catalog_file, webhook_secret: str,  # type: ignore[no-untyped-def]
                                                            section: str) -> None:
    """Like the vendors' base_url (2,000 characters at most): httpx refuses
    a URL over 65,536 characters only when it sends."""
    path = catalog_file(HEAD + "notify:\n  " + section.replace("LONG", "a" * 70000))
    (problem,) = problems(path)
    field = "notify.webhooks[0].url: url" if "webhooks" in section else "base_url: base_url"
    assert problem.startswith(f"{path}:5: notify.") and field in problem
    assert "characters long; at most 2000" in problem and "aaaa" not in problem
