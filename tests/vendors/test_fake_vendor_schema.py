"""The fake vendor's JSON Schema fragment: registering a vendor is all the
catalog's schema needs to describe its section and its product entries."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.catalog.load import build_catalog
from reconciler.catalog.schema import SCHEMA_FILE, catalog_schema
from reconciler.errors import CatalogError

COMMITTED = json.loads((Path(__file__).resolve().parents[2] / SCHEMA_FILE).read_text())
GOOD = {"pricelist": {"shop": "demo"},
        "products": [{"code": "A", "pricelist": {"price": 3}}, {"code": "B", "pricelist": {"absent": True}}]}


def schema_rejects(data: Any, schema: dict[str, Any]) -> bool:
    return any(True for _ in Draft202012Validator(schema).iter_errors(data))


def loader_rejects(data: Any) -> bool:
    try:
        build_catalog(copy.deepcopy(data), "catalog.yaml", "", {})
    except CatalogError:
        return True
    return False


def test_a_registered_vendor_brings_its_fragment(fake: ModuleType) -> None:
    schema = catalog_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["pricelist"] == fake.VENDOR.settings_schema()["pricelist"]
    assert schema["properties"]["products"]["items"]["properties"]["pricelist"] == \
        fake.VENDOR.product_schema()["pricelist"]
    assert not schema_rejects(GOOD, schema) and not loader_rejects(GOOD)
    for bad in ({"price": "3"}, {"absent": False}, {"prices": 3}, "3"):
        data = {**GOOD, "products": [{"code": "A", "pricelist": bad}]}
        assert schema_rejects(data, schema) and loader_rejects(data), bad
    no_shop = {**GOOD, "pricelist": {"shops": "demo"}}
    assert schema_rejects(no_shop, schema) and loader_rejects(no_shop)


def test_an_unregistered_vendor_is_unknown_to_the_schema() -> None:
    assert "pricelist" not in COMMITTED["properties"]
    assert schema_rejects(GOOD, COMMITTED) and loader_rejects(GOOD)


def test_a_fragment_naming_a_key_the_loader_does_not_accept_is_refused(fake: ModuleType,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type(fake.VENDOR), "settings_schema", lambda self: {"pricelists": {}})
    with pytest.raises(ValueError, match="pricelists"):
        catalog_schema()
    monkeypatch.undo()
    monkeypatch.setattr(type(fake.VENDOR), "product_schema", lambda self: {"price": {}})
    with pytest.raises(ValueError, match="price"):
        catalog_schema()
