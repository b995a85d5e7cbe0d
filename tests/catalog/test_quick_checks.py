"""The quick checks the loader runs first agree with the full rules: a value
the quick check passes is one the full rule passes unchanged, with nothing to
report (so each rule has one meaning, whichever path checks it). Checked over
a seeded sweep of right, wrong and borderline values of every field kind."""
from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from reconciler.catalog.check import Checker
from reconciler.errors import Location
from reconciler.vendors.cobuilder import catalog as cobuilder_catalog
from reconciler.vendors.cobuilder import contract as cb
from reconciler.vendors.readycloud import fields as rc_fields

STRINGS = ["", " ", "a", "88.00 USD", "88 usd", "88.00USD", "-1.00 USD", "1e3 EUR", "180 g", "180.0000 g",
           "0.5 kg", "180 stone", "g 180", "2026-12-03T09:20:00Z", "2026-12-03", "2026-13-03T00:00:00Z",
           "2026-12-03T09:20:00+01:00", "goods", "tax", "Goods", "${X}", "a ${X} b", "$X", "12345", "true", "null"]
OTHERS: list[Any] = [None, 0, 1, -7, 2**40, 1.5, True, False, [], ["a"], {}, {"Color": {"value": "red"}},
                     {"Color": {"value": "red", "type": "str"}}, {"Color": {"value": "${X}"}},
                     {"Color": {"type": "str"}}, {"Color": {"value": "red", "extra": 1}}, {1: {"value": "x"}},
                     {"Color": "red"}]


def values(seed: int = 13, extra: int = 300) -> list[Any]:
    rng = random.Random(seed)
    made = [*STRINGS, *OTHERS]
    for _ in range(extra):  # amounts, weights and dates with random parts
        made.append(rng.choice([f"{rng.randint(-5, 999)}.{rng.randint(0, 99):02} {rng.choice(['USD', 'EUR', 'usd', 'XX'])}",
                                f"{rng.randint(0, 999)} {rng.choice(['g', 'kg', 'lb', 'oz', 'm'])}",
                                f"2026-{rng.randint(1, 13):02}-{rng.randint(1, 32):02}T{rng.randint(0, 24):02}:00:00Z",
                                rng.choice(STRINGS) + rng.choice(["", " ", "x"])]))
    return made


@pytest.mark.parametrize("kind", sorted(rc_fields._TYPE_CHECKS))
def test_a_value_the_quick_check_passes_passes_the_full_rule_unchanged(kind: str) -> None:
    passed = 0
    for value in values():
        rc_fields._CHECKED.clear()
        if not rc_fields._quick_check(kind, value):
            continue
        passed += 1
        check = Checker("c.yaml", {})
        entry = {"field": value}
        checked, from_env = rc_fields._field_value(kind, value, entry, "field", "products[0]", check)
        assert not check.problems, (kind, value, check.problems)
        assert checked == value and not from_env, (kind, value)
    assert passed  # (the sweep holds values each quick check passes)


def _properties() -> list[Any]:
    guid, other = "1" * 22, "A" * 22
    keys = list(cb.VALUE_STRING_KEYS)[:3]
    made: list[Any] = [None, "x", [], {}]
    for g, u, vals in itertools.product([guid, other, "short", 7], [guid, "x" * 22, None],
                                        [[], [{"value": "a"}], [{"value": "${X}"}], [{"value": 1}], "v",
                                         [{k: "t" for k in keys}], [{"bogus": "t"}],
                                         [{"value": "x" * (cb.MAX_VALUE_LENGTH + 1)}]]):
        made.append({"propertyGuid": g, "unitGuid": u, "values": vals})
    made.append({"propertyGuid": guid, "unitGuid": guid, "values": [], "extra": 1})
    return made


def test_a_property_the_quick_check_passes_passes_the_full_rule_the_same() -> None:
    passed = 0
    location = Location("c.yaml", None, "p")
    for prop in _properties():
        quick = cobuilder_catalog._quick_property(prop, location)
        if quick is None:
            continue
        passed += 1
        check = Checker("c.yaml", {})
        full = cobuilder_catalog._property(prop, "p", location, check)
        assert not check.problems and full == quick, (prop, check.problems)
    assert passed
