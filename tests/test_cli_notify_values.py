"""A change to Cobuilder property values is announced, over real HTTP: alone
as its product's ``product.updated`` naming the changed properties (never
their values), together with a ReadyCloud change of the same product as one
event; and it is not lost when the apply is cut off before its answer."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox

SECRET = "whsec-values-test-7070"
U = "NoUnitGuid000000000001"
FIRE, THICK, OLD = "FireResistanceClass001", "ThicknessProperty00001", "ObsoleteMarketingText1"
CATALOG = f"""readycloud: {{org: 1}}
products:
  - code: VAL                       # ReadyCloud unchanged, Cobuilder values changed
    kind: goods
    quantity: 1
    cobuilder:
      id: 200
      exclusive: true
      properties:
        - {{propertyGuid: {FIRE}, unitGuid: {U}, values: [{{value: "${{FIRE_CLASS}}"}}]}}
        - {{propertyGuid: {THICK}, unitGuid: {U}, values: [{{value: "5"}}]}}
  - code: BOTH                      # both changed: one event
    kind: goods
    quantity: 3
    cobuilder:
      id: 300
      properties:
        - {{propertyGuid: {THICK}, unitGuid: {U}, values: [{{value: "7"}}]}}
  - code: SAME
    kind: goods
    quantity: 1
    cobuilder: {{id: 400, properties: [{{propertyGuid: {THICK}, unitGuid: {U}, values: [{{value: "1"}}]}}]}}
notify:
  webhooks:
    - url: SANDBOX/hooks/storefront
      secret: ${{HOOK_SECRET}}
  voucherify:
    event: catalog-product-changed
    customer: {{source_id: catalog-bot}}
"""


@pytest.fixture
def box(notify_env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    env = notify_env
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    monkeypatch.setenv("FIRE_CLASS", "A2-s1,d0 (secret)")
    env.seed_readycloud(1, [{"code": c, "kind": "goods", "quantity": 1} for c in ("VAL", "BOTH", "SAME")])
    prop = lambda guid, value: {"propertyGuid": guid, "unitGuid": U, "values": [{"value": value}]}  # noqa: E731
    env.seed_cobuilder(200, [prop(FIRE, "B"), prop(OLD, "stale")])
    env.seed_cobuilder(300)
    env.seed_cobuilder(400, [prop(THICK, "1")])
    return env


def hooks(box: Sandbox) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(h["body"]) for h in box.captures("webhook")]


def test_a_change_to_values_alone_is_announced_as_product_updated(box: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    catalog = write_catalog(CATALOG.replace("SANDBOX", box.url))
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.out + result.err
    events = {e["data"]["code"]: e for e in hooks(box)}
    assert sorted(events) == ["BOTH", "VAL"]  # one event per changed product; SAME unchanged: none
    assert events["VAL"]["event"] == "product.updated" and events["VAL"]["data"] == {"code": "VAL"}
    assert events["BOTH"]["event"] == "product.updated" and events["BOTH"]["data"]["quantity"] == 3
    metadata = {e["json"]["metadata"]["code"]: e["json"]["metadata"] for e in box.captures("voucherify")}
    assert sorted(metadata["VAL"]["changed_fields"]) == sorted([FIRE, THICK, OLD])
    assert metadata["VAL"]["change"] == "updated" and metadata["VAL"]["event_id"] == events["VAL"]["id"]
    assert metadata["BOTH"]["changed_fields"] == ["quantity", THICK]
    everything = json.dumps(box.captures("webhook") + box.captures("voucherify")) + result.out
    assert "A2-s1,d0" not in everything and SECRET not in everything  # values are never announced


def test_an_unanswered_change_of_values_is_read_back_and_announced_with_its_id(  # type: ignore[no-untyped-def]
        box: Sandbox, run, write_catalog, tmp_path: Path) -> None:
    """The create of VAL's values acts, but its answer is lost and nothing can
    be read back (Cobuilder down): the intent stays in the outbox; the next
    ``notify --retry`` reads the values back and announces it with the id
    recorded before the create was sent."""
    catalog = write_catalog(CATALOG.replace("SANDBOX", box.url))
    box.inject({"status": 503, "mode": "after", "method": "POST", "path_contains": "/products/200/"})
    box.inject({"status": 503, "count": None, "skip": 1, "method": "GET", "path_contains": "/products/200/"})
    result = run("apply", "-c", catalog, "--auto-approve", "--target", "VAL")
    assert result.code == 1
    outbox = tmp_path / ".reconciler" / "outbox.json"
    (left,) = json.loads(outbox.read_text())["intents"]
    assert (left["vendor"], left["action"], left["code"], left["state"]) == ("cobuilder", "create", "VAL", "intent")
    assert left["expected"] == {} and "A2-s1,d0" not in outbox.read_text()  # (no value recorded)
    box.clear_faults()
    box.clear_captures()

    retried = run("notify", "--retry", "-c", catalog)
    assert retried.code == 0, retried.out + retried.err
    (event,) = hooks(box)
    assert (event["id"], event["event"], event["data"]) == (left["id"], "product.updated", {"code": "VAL"})
    assert not outbox.exists() or json.loads(outbox.read_text())["intents"] == []  # (settled)
