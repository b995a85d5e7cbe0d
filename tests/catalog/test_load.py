from pathlib import Path

import pytest

from reconciler.catalog.load import load_catalog
from reconciler.errors import CatalogError
from reconciler.vendors.readycloud.catalog import settings_of as rc_settings_of

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, text))
    return [str(p) for p in info.value.problems]


def test_example_catalog_is_valid() -> None:
    unset = load_catalog(ROOT / "catalog.yaml", environ={})  # notification secrets: needed by apply only
    assert unset.notify.unset_env == (("WEBHOOK_SECRET", "notify.webhooks[0].secret"),)
    catalog = load_catalog(ROOT / "catalog.yaml", environ={"WEBHOOK_SECRET": "x"})
    assert catalog.notify.unset_env == ()
    codes = [p.code for p in catalog.products]
    assert "ES-4335-64667-7565" in codes
    tshirt = catalog.by_code()["ES-4335-64667-7565"]
    assert tshirt.fields["origin_country_code"] == "NO"  # YAML 1.1 would make this False
    assert catalog.by_code()["OLD-1"].absent
    assert rc_settings_of(catalog) is not None and rc_settings_of(catalog).org == 1


def test_typo_gets_did_you_mean_with_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "readycloud: {org: 1}\nproducts:\n  - code: A\n    kind: goods\n"
                               "    origin_countr_code: CN\n")
    assert len(found) == 1
    assert found[0].endswith("catalog.yaml:5: products[0].origin_countr_code: unknown key "
                             "'origin_countr_code' (did you mean 'origin_country_code'?)")


def test_wrong_types_kind_price_and_duplicates_are_all_reported(tmp_path: Path) -> None:
    found = problems(tmp_path, "\n".join([
        "readycloud: {org: 1}",
        "products:",
        "  - code: A",
        "    kind: gods",
        "    unit_price: 88",
        "  - code: B",
        "    quantity: three",
        "    unit_weight: heavy",
        "  - code: A",
        "    unit_price: 12.00",
        "    net_cost_begin_date: yesterday",
    ]))
    text = "\n".join(found)
    assert ":4: products[0].kind: kind must be one of goods, discount, tax, adjustment, got 'gods'" in text
    assert ":5: products[0].unit_price: expected an amount with a currency" in text
    assert ":7: products[1].quantity: expected an integer or null, got string" in text
    assert ":8: products[1].unit_weight: expected an amount followed by a unit" in text
    assert ":9: products[2].code: duplicate code 'A' (first declared on line 3)" in text
    assert ":11: products[2].net_cost_begin_date: 'yesterday' is not an ISO 8601 date-time" in text


def test_price_without_currency_string(tmp_path: Path) -> None:
    found = problems(tmp_path, "products:\n  - code: A\n    unit_price: '88.00'\n")
    assert any(":3: products[0].unit_price: expected an amount followed by a unit" in p for p in found)


def test_env_substitution_and_missing_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RC_TEST_DESC", "from env")
    head = "readycloud: {org: 1}\n"
    catalog = load_catalog(write(tmp_path, head + "products:\n  - code: A\n    description: ${RC_TEST_DESC}!\n"))
    spec = catalog.products[0]
    assert spec.fields["description"] == "from env!"
    assert "description" in spec.sensitive
    monkeypatch.delenv("RC_TEST_DESC")
    found = problems(tmp_path, head + "products:\n  - code: A\n    description: ${RC_TEST_DESC}\n")
    assert found == [f"{tmp_path / 'catalog.yaml'}:4: products[0].description: "
                     "environment variable RC_TEST_DESC is not set"]


def test_invalid_values_from_the_environment_or_marked_sensitive_are_not_quoted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RC_SECRET_KIND", "kind-secret-6a1f")
    monkeypatch.setenv("RC_SECRET_DATE", "date-secret-0b7e")
    found = problems(tmp_path, "readycloud: {org: 1}\nproducts:\n"
                               "  - {code: A, kind: '${RC_SECRET_KIND}', net_cost_end_date: '${RC_SECRET_DATE}'}\n"
                               "  - {code: B, kind: goods, net_cost_code: x, net_cost_begin_date: typed-secret-99,\n"
                               "     sensitive: [net_cost_begin_date]}\n")
    text = "\n".join(found)
    assert ":3: products[0].kind: kind must be one of goods, discount, tax, adjustment, got (sensitive)" in text
    assert ":3: products[0].net_cost_end_date: (sensitive) is not an ISO 8601 date-time" in text
    assert ":4: products[1].net_cost_begin_date: (sensitive) is not an ISO 8601 date-time" in text
    for secret in ("kind-secret-6a1f", "date-secret-0b7e", "typed-secret-99"):
        assert secret not in text


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "products:\n  - code: A\n   kind: [goods\n")
    assert len(found) == 1 and "YAML syntax" in found[0] and "catalog.yaml:" in found[0]


def test_tombstone_takes_no_fields_and_unknown_top_level(tmp_path: Path) -> None:
    found = problems(tmp_path, "prodcts: []\nproducts:\n  - code: A\n    absent: true\n    kind: goods\n")
    text = "\n".join(found)
    assert ":1: prodcts: unknown key 'prodcts' (did you mean 'products'?)" in text
    assert ":5: products[0].kind: a tombstone (absent: true) takes no other fields than code" in text


def test_custom_fields_shape(tmp_path: Path) -> None:
    found = problems(tmp_path, "products:\n  - code: A\n    custom_fields:\n      Color: red\n")
    assert any(":4: products[0].custom_fields.Color: expected a mapping with 'value'" in p for p in found)


def test_missing_file() -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog("/nonexistent/catalog.yaml")
    assert "cannot read catalog" in str(info.value)


def test_readycloud_fields_without_a_readycloud_section(tmp_path: Path) -> None:
    found = problems(tmp_path, "products:\n  - code: CB-ONLY\n    cobuilder: {id: 1, properties: []}\n"
                               "  - {code: A, kind: goods}\n  - {code: B, absent: true}\n")
    assert found == [f"{tmp_path / 'catalog.yaml'}:4: products[1]: product 'A' (and 1 more) declares ReadyCloud "
                     "fields, but the catalog has no 'readycloud' section; add 'readycloud: {org: <org_pk>}' "
                     "at the top level"]
    # an empty section (``readycloud:``, null) is no section: the products are not silently left out
    found = problems(tmp_path, "readycloud:\nproducts:\n  - {code: A, kind: goods}\n")
    assert found == [f"{tmp_path / 'catalog.yaml'}:3: products[0]: product 'A' declares ReadyCloud fields, but the "
                     "catalog has no 'readycloud' section; add 'readycloud: {org: <org_pk>}' at the top level"]
    # code alone (Cobuilder values only) needs no readycloud section
    assert load_catalog(write(tmp_path, "products:\n  - {code: A, cobuilder: {id: 1, properties: []}}\n"))


def test_vendor_settings_are_read_from_the_parsed_catalog_before_its_products_are_validated(
        tmp_path: Path) -> None:
    from reconciler.catalog.load import build, read_catalog, vendor_settings
    environ = {"RC_URL": "https://rc.test/api/v2", "RECONCILER_TRUSTED_HOSTS": "rc.test"}
    source = read_catalog(write(tmp_path, "products:\n  - {code: A, quantity: 1}\n  - {code: A, wrong: 1}\n"
                                          "readycloud:\n  org: 7\n  base_url: ${RC_URL}\n"))
    settings = vendor_settings(source, environ)
    assert list(settings) == ["readycloud"]
    assert (settings["readycloud"].org, settings["readycloud"].base_url) == (7, "https://rc.test/api/v2")
    with pytest.raises(CatalogError, match="duplicate code 'A'"):
        build(source, environ)  # (the products, validated after the settings were handed out)
    good = read_catalog(write(tmp_path, "readycloud:\n  org: 7\n  base_url: ${RC_URL}\nproducts: []\n"))
    assert build(good, environ).settings == vendor_settings(good, environ)


@pytest.mark.parametrize("text", [
    "readycloud: {org: 7, base_url: ${MISSING}}\nproducts:\n  - {code: A}\n",  # a problem: left out
    "readycloud: {org: 0}\n",
    "readycloud: [\nproducts:\n  - {code: A}\n",  # does not parse
])
def test_vendor_settings_with_a_problem_are_not_handed_out(tmp_path: Path, text: str) -> None:
    from reconciler.catalog.load import read_catalog, vendor_settings
    assert vendor_settings(read_catalog(write(tmp_path, text)), {}) == {}


def test_numbers_where_strings_are_expected_say_to_quote_them(tmp_path: Path) -> None:
    found = "\n".join(problems(tmp_path, "readycloud: {org: 1}\nproducts:\n  - code: 12345\n    kind: goods\n"
                                        "  - code: A\n    ean: 123\n    part_number: 12.5\n"))
    assert "catalog.yaml:3: products[0].code: codes are strings: quote it (code: \"12345\")" in found
    assert "catalog.yaml:6: products[1].ean: ean is a number; quote it (ean: \"123\") to make it a string" in found
    assert "catalog.yaml:7: products[1].part_number: part_number is a number; quote it (part_number: \"12.5\")" \
        in found


def test_currency_or_unit_before_the_amount(tmp_path: Path) -> None:
    found = "\n".join(problems(tmp_path, "readycloud: {org: 1}\nproducts:\n  - code: A\n"
                                        "    unit_price: USD 10\n    unit_weight: g 10.5\n"))
    assert "catalog.yaml:4: products[0].unit_price: amount first, then currency (e.g. '10 USD')" in found
    assert "catalog.yaml:5: products[0].unit_weight: amount first, then unit (e.g. '10.5 g')" in found
