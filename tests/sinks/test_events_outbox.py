"""Events from apply results, and the outbox file."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from reconciler.apply import ApplyResult, ChangeResult
from reconciler.catalog.load import build_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.plan.model import Change, FieldChange
from reconciler.sinks import Event, Outbox, OutboxEntry, build_events, default_outbox_path
from reconciler.sinks.events import coalesce

LIVE = {"url": "https://rc.test/api/v2/orgs/1/products/7/", "code": "OLD", "description": "Old thing",
        "unit_price": "1.00 USD"}


def change(action: str, key: str, fields: tuple[FieldChange, ...] = (), vendor: str = "readycloud",
           live: object = None) -> Change:
    return Change(vendor, action, key, None if action == "create" else "7", fields, live=live)  # type: ignore[arg-type]


def test_one_event_per_succeeded_readycloud_change() -> None:
    created = {"url": "u/1/", "code": "NEW", "description": "New", "net_cost_code": "secret-cost"}
    updated = {"url": "u/2/", "code": "UPD", "description": "Updated", "unit_price": "2.00 USD"}
    result = ApplyResult((
        ChangeResult(change("create", "NEW", (FieldChange("code", None, "NEW"),
                                              FieldChange("net_cost_code", None, "secret-cost", True))),
                     "succeeded", resource=created),
        ChangeResult(change("update", "UPD", (FieldChange("unit_price", "1.00 USD", "2.00 USD"),)),
                     "succeeded", resource=updated),
        ChangeResult(change("delete", "OLD", live=LIVE), "succeeded"),
        ChangeResult(change("update", "BAD", (FieldChange("description", "a", "b"),)), "failed", "HTTP 400"),
        ChangeResult(change("update", "SKIP"), "skipped", "not attempted"),
    ))
    events = build_events(result, now=lambda: 1700000000.7)
    assert [(e.event, e.code) for e in events] == [
        ("product.created", "NEW"), ("product.updated", "UPD"), ("product.deleted", "OLD")]
    new, upd, old = events
    assert all(e.created == 1700000000 for e in events)
    assert len({e.id for e in events}) == 3 and all(uuid.UUID(e.id).version == 4 for e in events)
    assert "net_cost_code" not in new.data and new.changed == ("code", "net_cost_code")  # sensitive value left out
    assert upd.data == updated and upd.changed == ("unit_price",) and upd.kind == "updated"
    assert old.data == LIVE and old.changed == () and old.kind == "deleted"  # last known state


G1, G2, G3 = "PropertyGuid0000000001", "PropertyGuid0000000002", "PropertyGuid0000000003"


def values(action: str, code: str, *guids: str) -> ChangeResult:
    """A succeeded change of Cobuilder property values (a vendor whose changes are ``properties``)."""
    fields = tuple(FieldChange(g, None, [{"value": "secret"}], True) for g in guids)
    fields += tuple(FieldChange(f"{g}.unitGuid", "a", "b") for g in guids[:1] if action == "update")
    return ChangeResult(Change("cobuilder", action, code, "10", fields, {"properties": []}),  # type: ignore[arg-type]
                        "succeeded", resource={"properties": []})


def test_a_change_of_property_values_alone_is_one_product_updated_naming_them() -> None:
    events = build_events(ApplyResult((values("create", "CB", G2), values("update", "CB", G1),
                                       values("delete", "CB", G3),
                                       ChangeResult(values("update", "NO", G1).change, "failed", "HTTP 409"))))
    assert [(e.event, e.code, e.changed, e.values_only) for e in events] == [
        ("product.updated", "CB", (G2,), True), ("product.updated", "CB", (G1,), True),
        ("product.updated", "CB", (G3,), True)]
    assert all(e.data == {"code": "CB"} for e in events)  # (never a value: they may be sensitive)
    (one,) = coalesce(events)
    assert one.id == events[0].id and one.changed == (G2, G1, G3) and one.event == "product.updated"
    assert Event.from_json(json.loads(json.dumps(one.to_json()))) == one


def test_property_changes_join_their_products_event() -> None:
    updated = {"url": "u/2/", "code": "UPD", "description": "Updated"}
    events = build_events(ApplyResult((
        values("update", "UPD", G1),
        ChangeResult(change("update", "UPD", (FieldChange("description", "a", "Updated"),)), "succeeded",
                     resource=updated),
        values("create", "ONLY", G2),
        ChangeResult(change("delete", "OLD", live=LIVE), "succeeded"),
        values("delete", "OLD", G3),
    )))
    merged = coalesce(events)
    assert [(e.event, e.code, e.changed) for e in merged] == [
        ("product.updated", "UPD", ("description", G1)), ("product.updated", "ONLY", (G2,)),
        ("product.deleted", "OLD", ()), ("product.updated", "OLD", (G3,))]
    assert merged[0].data == updated and not merged[0].values_only


def test_catalog_sensitive_fields_are_left_out_even_when_unchanged(tmp_path: Path) -> None:
    data = load_yaml("readycloud: {org: 1}\nproducts:\n  - code: UPD\n    description: x\n"
                     "    net_cost_code: c-1\n    sensitive: [net_cost_code]\n", "c.yaml")
    catalog = build_catalog(data, "c.yaml", "d")
    resource = {"code": "UPD", "description": "x", "net_cost_code": "c-1"}
    result = ApplyResult((ChangeResult(change("update", "UPD", (FieldChange("description", "y", "x"),)),
                                       "succeeded", resource=resource),))
    (event,) = build_events(result, catalog=catalog)
    assert event.data == {"code": "UPD", "description": "x"}


def test_nothing_without_a_product_or_success() -> None:
    result = ApplyResult((ChangeResult(change("update", "A"), "succeeded", resource=None),
                          ChangeResult(change("delete", "B"), "succeeded")))
    assert build_events(result) == ()
    assert build_events(ApplyResult(())) == ()


def test_event_json_round_trip() -> None:
    event = Event(str(uuid.uuid4()), "product.updated", 1, "A", {"code": "A"}, ("description",))
    assert Event.from_json(json.loads(json.dumps(event.to_json()))) == event


def entry(sink: str, code: str, attempts: int = 1, error: str = "HTTP 503") -> OutboxEntry:
    event = Event(str(uuid.uuid4()), "product.created", 1, code, {"code": code}, ("code",))
    return OutboxEntry(sink, sink, event, livemode=False, attempts=attempts, last_error=error, failed_at=5)


def test_outbox_add_settle_and_atomic_files(tmp_path: Path) -> None:
    path = tmp_path / ".reconciler" / "outbox.json"
    box = Outbox(path)
    assert box.entries() == [] and box.pending() == 0
    a, b, c = entry("webhook:1", "A"), entry("usercom", "B"), entry("voucherify", "C")
    assert box.add([a, b]) == 2
    assert box.add([c, a]) == 3  # the same (sink, event) is kept once
    assert [e.event.code for e in box.entries()] == ["A", "B", "C"]
    assert box.entries()[0] == a and box.entries()[0].livemode is False
    again = OutboxEntry(b.sink, b.label, b.event, livemode=False, attempts=2, last_error="HTTP 502")
    assert box.settle([a.ident, c.ident], [again]) == 1
    (left,) = box.entries()
    assert left.event.id == b.event.id and left.attempts == 2 and left.last_error == "HTTP 502"
    assert box.settle([b.ident], []) == 0
    assert not path.exists()  # an empty outbox is no file
    leftovers = [p.name for p in path.parent.iterdir() if p.name != "outbox.json.lock"]
    assert leftovers == []  # no temporary files


def test_damaged_outbox_is_moved_aside_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "outbox.json"
    path.write_text("{not json")
    box = Outbox(path)
    assert box.add([entry("usercom", "A")]) == 1
    assert any(p.name.startswith("outbox.json.damaged-") for p in tmp_path.iterdir())
    assert box.warnings and "moved it to" in box.warnings[0]


def test_default_outbox_path_is_next_to_the_catalog(tmp_path: Path) -> None:
    assert default_outbox_path(tmp_path / "catalog.yaml") == tmp_path.resolve() / ".reconciler" / "outbox.json"
