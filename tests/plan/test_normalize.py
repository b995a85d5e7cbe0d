import pytest

from reconciler.vendors.readycloud.normalize import normalise_field


@pytest.mark.parametrize("name,a,b", [
    ("unit_price", "88 USD", "88.00 USD"),
    ("unit_price", "88.00 usd", "88 USD"),
    ("unit_weight", "180 g", "180.0000 g"),
    ("unit_weight", "29.00 g", "29.0000 g"),
    ("net_cost_begin_date", "2014-10-10T08:49:50+02:00", "2014-10-10T06:49:50Z"),
    ("net_cost_begin_date", "2014-10-10T06:49:50", "2014-10-10T06:49:50Z"),
    ("custom_fields", None, {}),
    ("custom_fields", {"a": {"value": "x", "type": None}}, {"a": {"value": "x"}}),
])
def test_equal_after_normalising(name: str, a: object, b: object) -> None:
    assert normalise_field(name, a) == normalise_field(name, b)


@pytest.mark.parametrize("name,a,b", [
    ("unit_price", "88 USD", "88 EUR"),
    ("unit_price", "88.01 USD", "88 USD"),
    ("unit_weight", "180 g", "180 kg"),
    ("net_cost_begin_date", "2014-10-10T06:49:50+02:00", "2014-10-10T06:49:50Z"),
    ("custom_fields", {"a": {"value": "x"}}, {"a": {"value": "y"}}),
    ("quantity", 3, 4),
])
def test_different_after_normalising(name: str, a: object, b: object) -> None:
    assert normalise_field(name, a) != normalise_field(name, b)


def test_unparseable_live_value_is_kept() -> None:
    assert normalise_field("unit_price", "garbage") == "garbage"
