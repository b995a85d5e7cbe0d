from reconciler.catalog.load import build_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.plan import build_plan


def catalog(text: str):  # type: ignore[no-untyped-def]
    return build_catalog(load_yaml("readycloud: {org: 1}\n" + text, "c.yaml"), "c.yaml", "digest")


def live(code: str, pk: int, **fields: object) -> dict[str, object]:
    return {"code": code, "url": f"/api/v2/orgs/1/products/{pk}/", **fields}


def test_mix_of_create_update_delete_unchanged() -> None:
    c = catalog("products:\n"
                " - {code: A, kind: goods, unit_price: 88 USD, unit_weight: 180 g}\n"
                " - {code: B, quantity: 3, description: same}\n"
                " - {code: C, absent: true}\n"
                " - {code: D, kind: tax, description: new}\n"
                " - {code: E, absent: true}\n")
    index = {"A": [live("A", 1, kind="goods", unit_price="88.00 USD", unit_weight="180.0000 g", quantity=9)],
             "B": [live("B", 2, quantity=2, description="same", ean="keep")],
             "C": [live("C", 3)],
             "Z": [live("Z", 4)]}
    plan = build_plan(c, {"readycloud": index})
    assert plan.counts == {"create": 1, "update": 1, "delete": 1, "unchanged": 2, "unmanaged": 1}
    by_key = {ch.key: ch for ch in plan.changes}
    assert by_key["B"].action == "update" and by_key["B"].resource_id == "2"
    assert by_key["B"].body == {"quantity": 3}  # only the changed field; ean is unmanaged
    assert [(f.field, f.before, f.after) for f in by_key["B"].fields] == [("quantity", 2, 3)]
    assert by_key["C"].action == "delete" and by_key["C"].resource_id == "3"
    assert by_key["D"].body == {"code": "D", "kind": "tax", "description": "new"}
    assert not plan.errors


def test_duplicate_live_code_is_an_error_not_a_guess() -> None:
    plan = build_plan(catalog("products:\n - {code: A, quantity: 1}\n"),
                      {"readycloud": {"A": [live("A", 1), live("A", 7)]}})
    assert not plan.changes
    assert len(plan.errors) == 1 and "2 live products share code 'A' (ids 1, 7)" in plan.errors[0].message


def test_create_without_kind_is_a_located_error() -> None:
    plan = build_plan(catalog("products:\n - {code: A, quantity: 1}\n"), {"readycloud": {}})
    assert not plan.changes
    assert "c.yaml:3" in plan.errors[0].message and "'kind' is required" in plan.errors[0].message


def test_checksum_is_stable_and_content_sensitive() -> None:
    c = catalog("products:\n - {code: A, quantity: 3}\n")
    a = build_plan(c, {"readycloud": {"A": [live("A", 1, quantity=1)]}})
    b = build_plan(c, {"readycloud": {"A": [live("A", 1, quantity=1)]}})
    d = build_plan(c, {"readycloud": {"A": [live("A", 1, quantity=2)]}})
    assert a.checksum == b.checksum != d.checksum


def test_custom_fields_compared_as_a_whole() -> None:
    c = catalog("products:\n - code: A\n   custom_fields: {Color: {value: red}}\n")
    same = build_plan(c, {"readycloud": {"A": [live("A", 1, custom_fields={"Color": {"value": "red"}})]}})
    extra = build_plan(c, {"readycloud": {"A": [live("A", 1, custom_fields={"Color": {"value": "red"}, "X": {"value": "1"}})]}})
    assert not same.changes
    assert extra.changes[0].body == {"custom_fields": {"Color": {"value": "red"}}}


def test_prune_never_deletes_a_product_declared_only_for_cobuilder() -> None:
    c = catalog("policy: {prune: true, scope: ['S-*'], max_delete_percent: 100}\n"
                "products:\n"
                " - code: S-CB\n"
                "   cobuilder: {id: 7, properties: []}\n"
                " - {code: S-RC, quantity: 1}\n")
    plan = build_plan(c, {"readycloud": {"S-CB": [live("S-CB", 1)], "S-RC": [live("S-RC", 2, quantity=1)],
                          "S-GONE": [live("S-GONE", 3)]}})
    assert [(ch.action, ch.key) for ch in plan.changes if ch.vendor == "readycloud"] == [("delete", "S-GONE")]
    assert plan.counts["unmanaged"] == 1 and plan.counts["unchanged"] == 1


def test_comparing_pages_as_they_arrive_gives_the_same_plan() -> None:
    """Pages compared as they are read settle unchanged products ahead; whatever
    it saw (duplicates, tombstones, other selections), the plan is the same."""
    from reconciler.vendors.readycloud import Listed
    from reconciler.vendors.readycloud.planner import PageComparison
    from reconciler.plan.select import ALL, Selection

    c = catalog("policy: {prune: true, scope: ['*'], max_delete_percent: 100}\nproducts:\n"
                " - {code: A, quantity: 1}\n - {code: B, quantity: 2}\n - {code: C, absent: true}\n"
                " - {code: D, quantity: 4}\n - {code: E, kind: goods, quantity: 5}\n - {code: F, cobuilder: {id: 9, properties: []}}\n"
                "cobuilder: {}\n")
    pages = [[live("A", 1, quantity=1), live("B", 2, quantity=3), live("C", 3)],
             [live("D", 4, quantity=4), live("D", 5, quantity=4), live("F", 6), live("Z", 7)]]
    index: dict[str, list[dict[str, object]]] = {}
    for product in (p for page in pages for p in page):
        index.setdefault(str(product["code"]), []).append(product)
    for selection in (ALL, Selection(("A", "B", "D")), Selection((), ("A",))):
        prediff = PageComparison(c, selection)
        for page in pages:
            prediff.add(page)
        with_prediff = build_plan(c, {"readycloud": Listed(index, prediff)}, selection)
        without = build_plan(c, {"readycloud": index}, selection)
        assert with_prediff == without
        assert build_plan(c, {"readycloud": Listed(index, prediff)}, ALL) == build_plan(c, {"readycloud": index}, ALL)  # another selection
    assert build_plan(c, {"readycloud": index}).counts == {"create": 1, "update": 1, "delete": 2, "unchanged": 1, "unmanaged": 1,
                                             "properties_create": 0, "properties_update": 0, "properties_delete": 0,
                                             "properties_unchanged": 0}


def test_listing_of_an_empty_org_keeps_its_watermark() -> None:
    """An org with no products yet still has a watermark: what the pre-create
    check and a saved plan's freshness check list since."""
    from reconciler.vendors.readycloud.provider import LiveIndex
    empty = LiveIndex()
    empty.watermark = "2026-12-03T09:20:00Z"
    plan = build_plan(catalog("products:\n - {code: A, kind: goods}\n"), {"readycloud": empty})
    assert dict(plan.context)["readycloud"]["watermark"] == "2026-12-03T09:20:00Z"


def test_a_live_url_without_a_plain_id_is_that_products_error() -> None:
    """A vendor ``url`` is untrusted: ``x/..`` or ``../2/products/5`` must not
    become a path segment to write to; the other products are planned."""
    c = catalog("products:\n - {code: A, quantity: 1}\n - {code: B, absent: true}\n - {code: C, quantity: 5}\n")
    plan = build_plan(c, {"readycloud": {"A": [{"code": "A", "url": "x/..", "quantity": 2}],
                                         "B": [{"code": "B", "url": "../2/products/5"}],
                                         "C": [live("C", 3, quantity=4)]}})
    assert [(ch.key, ch.resource_id) for ch in plan.changes] == [("C", "3")]
    assert sorted(e.key for e in plan.errors) == ["A", "B"]
    assert all("has no usable id in its url" in e.message for e in plan.errors)


def test_product_pk_from_url_accepts_only_a_plain_positive_integer() -> None:
    from reconciler.vendors.readycloud.contract import product_pk_from_url
    assert product_pk_from_url("https://www.readycloud.com/api/v2/orgs/1/products/42/") == "42"
    assert product_pk_from_url("/api/v2/orgs/1/products/7") == "7"
    for bad in ("x/..", "../2/products/5", "/p/0/", "/p/-1/", "/p/1e3/", "/p/ 4/", "/p/٣/", "", "/p/4%2F/"):
        assert product_pk_from_url(bad) == "", bad
