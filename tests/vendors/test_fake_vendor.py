"""A third vendor plugs in through the registry alone: the fake price list
of tests/vendors/fake.py (no file of the reconciler knows it) is loaded from
the catalog, planned, applied, saved and shown like the built-in vendors."""
from __future__ import annotations

import json
from contextlib import ExitStack
from types import ModuleType

import click
import pytest

from reconciler import engine
from reconciler.apply import apply_plan
from reconciler.catalog.load import build_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.errors import CatalogError
from reconciler.plan import build_plan, planfile
from reconciler.render.text import render_plan

CATALOG = """pricelist: {shop: s1}
products:
  - {code: A, pricelist: {price: 5}}
  - {code: B, pricelist: {absent: true}}
  - {code: C, pricelist: {price: 7}}
  - {code: D, pricelist: {price: 1}}
"""


def catalog(text: str = CATALOG):  # type: ignore[no-untyped-def]
    return build_catalog(load_yaml(text, "c.yaml"), "c.yaml", "digest")


def test_the_catalog_takes_a_registered_vendor_s_sections(fake: ModuleType) -> None:
    loaded = catalog()
    assert loaded.settings == {"pricelist": "s1"}
    assert [p.sections.get("pricelist") for p in loaded.products] == [5, "absent", 7, 1]
    with pytest.raises(CatalogError) as bad:
        catalog("pricelist: {shop: s1}\nproducts:\n  - {code: A, pricelist: {price: cheap}}\n")
    assert "c.yaml:3" in str(bad.value) and "products[0].pricelist: expected {price: <integer>}" in str(bad.value)


def test_an_unregistered_vendor_s_section_is_an_unknown_key() -> None:
    with pytest.raises(CatalogError, match="pricelist"):
        catalog()


def test_sensitive_names_any_registered_vendor_s_product_fields(fake: ModuleType, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(fake.VENDOR, "product_fields", {"price": "int"}, raising=False)
    text = "pricelist: {shop: s1}\nsensitive: [price, unit_price]\nproducts:\n  - {code: A, pricelist: {price: 5}}\n"
    assert catalog(text).sensitive == {"price", "unit_price"}
    with pytest.raises(CatalogError) as bad:
        catalog(text.replace("[price,", "[prise,"))
    assert "c.yaml:2: sensitive[0]: sensitive names unknown field 'prise' (did you mean 'price'?)" in str(bad.value)


def test_build_plan_and_apply_plan_with_the_fake_provider(fake: ModuleType) -> None:
    fake.SHOPS["s1"] = {"A": 4, "B": 9, "D": 1}
    plan = build_plan(catalog(), {"pricelist": fake.SHOPS["s1"]})
    assert [(c.vendor, c.action, c.key) for c in plan.changes] == [
        ("pricelist", "update", "A"), ("pricelist", "create", "C"), ("pricelist", "delete", "B")]
    assert plan.counts == {"create": 1, "update": 1, "delete": 1, "unchanged": 1, "unmanaged": 0}
    shown = click.unstyle(render_plan(plan))
    assert "price of A (price list)" in shown and "price of B (price list)" in shown
    provider = fake.FakeProvider("s1")
    result = apply_plan(plan, {"pricelist": provider})
    assert result.ok and sorted(provider.writes) == [("create", "C"), ("delete", "B"), ("update", "A")]
    assert fake.SHOPS["s1"] == {"A": 5, "C": 7, "D": 1}
    assert not build_plan(catalog(), {"pricelist": fake.SHOPS["s1"]}).changes


def test_a_failing_change_of_the_fake_vendor_fails_alone(fake: ModuleType) -> None:
    loaded = catalog("pricelist: {shop: s1}\nproducts:\n  - {code: FAIL-1, pricelist: {price: 2}}\n"
                     "  - {code: E, pricelist: {price: 3}}\n")
    result = apply_plan(build_plan(loaded, {"pricelist": {}}), {"pricelist": fake.FakeProvider("s1")})
    assert [(r.change.key, r.status) for r in result.results] == [("FAIL-1", "failed"), ("E", "succeeded")]
    assert fake.SHOPS["s1"] == {"E": 3}


def test_the_engine_opens_plans_saves_and_applies_a_catalog_of_the_fake_vendor(fake: ModuleType, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    fake.SHOPS["s1"] = {"B": 9}
    with ExitStack() as stack:
        loaded, providers = engine.load_and_open(str(path), stack, environ={})
        assert list(providers) == ["pricelist"]
        plan = engine.refresh_and_plan(loaded, providers)
        assert plan.counts["create"] == 3 and plan.counts["delete"] == 1
        made = engine.provenance(providers)
        assert made.vendors == {"pricelist": {"base_url": "memory://s1"}}
        document = json.loads(json.dumps(planfile.to_document(plan, provenance=made), default=str))
        assert planfile.plan_of(document).checksum == plan.checksum
        assert engine.apply(plan, providers).ok
        assert fake.SHOPS["s1"] == {"A": 5, "C": 7, "D": 1}
        assert not engine.refresh_and_plan(loaded, providers).changes


def test_import_of_a_catalog_adopts_the_fake_vendor_s_unmanaged_products(fake: ModuleType, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from reconciler import importer

    fake.SHOPS["s1"] = {"A": 5, "B": 9, "Z": 0, "NEG": -1}
    path = tmp_path / "c.yaml"
    path.write_text("pricelist: {shop: s1}\nproducts:\n  - {code: A, pricelist: {price: 5}}\n")
    out = StringIO()
    report = importer.import_unmanaged(str(path), out, environ={})
    assert report.products == 2 and report.notes == ["NEG: a negative price cannot be declared; not imported"]
    assert out.getvalue().endswith("  - code: B\n    pricelist:\n      price: 9\n  - code: Z\n    pricelist:\n"
                                   "      price: 0\n")
    path.write_text(path.read_text() + out.getvalue())
    with ExitStack() as stack:
        loaded, providers = engine.load_and_open(str(path), stack, environ={})
        again = engine.refresh_and_plan(loaded, providers)
    assert not again.changes and again.unchanged == 3 and again.unmanaged_codes == ("NEG",)
