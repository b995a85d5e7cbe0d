"""DRY catalogs: anchors, merge keys with overrides, top-level x- keys (issue 14)."""
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.catalog import fastyaml
from reconciler.catalog.load import load_catalog
from reconciler.errors import CatalogError

DRY = """x-defaults: &defaults
  kind: goods
  unit_price: 5 USD
  quantity: 1
x-heavy: &heavy {unit_weight: 2 kg, quantity: 9}
readycloud: {org: 1}
products:
  - <<: *defaults
    code: A
    unit_price: 6 USD
  - <<: [*heavy, *defaults]
    code: B
  - code: C
    quantity: 2
    <<: *defaults
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return path


def test_merge_keys_with_overrides_and_x_keys(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, DRY), environ={})
    fields = {p.code: dict(p.fields) for p in catalog.products}
    assert fields["A"] == {"code": "A", "kind": "goods", "unit_price": "6 USD", "quantity": 1}
    assert fields["B"] == {"code": "B", "kind": "goods", "unit_price": "5 USD", "quantity": 9,  # first listed wins
                           "unit_weight": "2 kg"}
    assert fields["C"] == {"code": "C", "kind": "goods", "unit_price": "5 USD", "quantity": 2}  # own, before <<
    assert fastyaml.parse_fast(DRY) == (False, None)  # anchors and merges: PyYAML, never the fast path


def test_a_key_given_twice_in_the_mapping_itself_is_still_a_duplicate(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, DRY + "  - <<: *defaults\n    code: D\n    quantity: 2\n    quantity: 3\n"))
    assert [str(p) for p in info.value.problems] == [
        f"{tmp_path / 'catalog.yaml'}:19: YAML syntax: duplicate key 'quantity'"]


def test_a_wrong_merged_value_names_the_line_where_it_is_written(tmp_path: Path) -> None:
    text = DRY.replace("  quantity: 1\n", "  quantity: one\n", 1)
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, text))
    assert f"{tmp_path / 'catalog.yaml'}:4: products[0].quantity: expected an integer" in str(info.value.problems[0])


def test_only_top_level_x_keys_are_free(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(write(tmp_path, "readycloud: {org: 1, x-note: 1}\nproducts: []\ny-note: 2\n"))
    found = [str(p) for p in info.value.problems]
    assert len(found) == 2 and "unknown key 'y-note'" in found[0] + found[1] and "x-note" in found[0] + found[1]
