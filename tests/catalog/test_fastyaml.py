"""The fast YAML path must give exactly what the located PyYAML loader gives,
or decline. Differential tests: documented differences, random documents,
and typical catalogs (which must take the fast path, or it saves nothing)."""
from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from reconciler.catalog import fastyaml
from reconciler.catalog.load import load_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.errors import CatalogError
from reconciler.vendors.cobuilder.catalog import entry_of

ROOT = Path(__file__).resolve().parents[2]


def typed(value: Any) -> Any:
    """A form that tells 1, 1.0 and True apart and keeps key order."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def agrees(text: str) -> bool:
    """parse_fast either declines or returns what load_yaml returns."""
    ok, data = fastyaml.parse_fast(text)
    try:
        expected = load_yaml(text, "x.yaml")
    except CatalogError:
        return not ok
    return not ok or typed(data) == typed(expected)


def test_a_supported_yaml_rs_is_installed() -> None:
    assert fastyaml.available()


# Every construct where yaml-rs and our loader are known to (or might) differ.
DIFFERING = [
    "a: 012", "a: 09", "a: 0o17", "a: 0X1F", "a: _1", "a: -012", "a: +0x1", "a: 0_7",
    "a: 1e3", "a: 1.0e3", "a: 0e0", "a: 1.0e+3", "a: -.5", "a: +.5", "a: .iNf", "a: .5", "a: 5.e3",
    "a: 1:20", "a: -1:20", "a: 10:00:00", "- 1:20", "a: [1:20]",
    "a: &x 1\nb: *x", "a: &x {b: 1}\nc:\n  <<: *x", "<<: {a: 1}", "a: =", "- =",
    "a: !!str 1", "a: !custom x", "a: !!binary aGk=", "a: !!bool yes", "a: !!timestamp 2020-01-01",
    "[a]: b", "? {a: 1}\n: b", "- : a", "a: [:]", "a: {a:}", "a: [?]", "a: {\"b\":[1]}",
    "a: 1\n---\nb: 2", "a: 1\n...\n", "%YAML 1.1\n---\na: 1",
    "a:\t1", "- \ta", "a: b\x07", "a: b\x85c", "a: b\u2028c", "\ufeffa: 1", "a: \ufeffb",
    "a: 1\rb: 2", "a: " + "1" * 5000, "a: 1_000", "a: 1__0", "a: 1.2.3", "a: 5..",
    "a: [|]", "a: {b: >}", "a: %x", "- |\n  x", "- >\n  x", "a: {x: 1, {b: 1}}", "a: {{b: 1}}", "a: {x: 1, [b]}",
]


@pytest.mark.parametrize("text", DIFFERING)
def test_documented_differences_decline_or_agree(text: str) -> None:
    assert agrees(text), text


def test_the_risky_ones_are_declined() -> None:
    for text in ("a: 012", "a: 1e3", "a: 1:20", "a: +.5", "a: &x 1\nb: *x", "a: !!str 1", "a:\t1"):
        assert fastyaml.parse_fast(text) == (False, None), text


ATOMS = ["0", "00", "012", "09", "1", "-1", "+1", "1.5", "1.", ".5", "-.5", "1e3", "1.0e+3", "1_0", "0x1F",
         "0o7", "0b1", "1:20", "12:30:45", "NO", "no", "yes", "on", "Off", "y", "true", "True", "FALSE",
         "null", "~", "Null", "2026-01-01", "2026-01-01T10:00:00Z", "88.00 USD", "180 g", ".inf", ".NaN",
         "a b", "x-1", "ES-4335-64667", "2bHQbU5wD0o8dSnz0QYp9X", "'012'", '"1e3"', "'a: b'", '"x\\ty"',
         "Black & White", "Buy now!", "a?", "@x", "`x`", "|", "=", "<<", "&a", "*a", "!x", "%", "#c",
         "a #c", "[1, 2]", "{a: 1}", "[]", "{}", "é", "日本", "5..", "1.2.3", "-", "--", "---", "...",
         ": x", "?", "a:b", "\"a\":1", "_", "-_1", "0_0", "9" * 40, ">", "@x", "`x`", "%x", "x%", "-",
         "|\n  block\n  text", ">-\n  folded\n\n  more", "|+\n  kept\n"]


def random_document(rng: random.Random) -> str:
    lines = []
    for i in range(rng.randint(1, 6)):
        key = rng.choice(["k", f"k{i}", "code", "0", "01", "1:2", "'q'", "a b", "NO"])
        style = rng.random()
        if style < 0.5:
            lines.append(f"{key}{i}: {rng.choice(ATOMS)}")
        elif style < 0.75:
            lines.append(f"{key}{i}:")
            lines += [f"  - {rng.choice(ATOMS)}" for _ in range(rng.randint(1, 3))]
        else:
            items = ", ".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 3)))
            lines.append(f"{key}{i}: {rng.choice(['[%s]', '{x: %s}'])}" % items)
    return "\n".join(lines) + rng.choice(["", "\n", "\r\n"])


def test_random_documents_decline_or_agree() -> None:
    rng = random.Random(20261202)
    fast = 0
    for _ in range(3000):
        text = random_document(rng)
        assert agrees(text), text
        fast += fastyaml.parse_fast(text)[0]
    assert fast > 100  # the fast path is really exercised, not declined every time


def typical_catalog(n: int) -> str:
    products = "".join(
        f"  - code: ES-{i:04}-64667\n    kind: goods\n    description: \"T-Shirt #{i}: Black & White, size M?\"\n"
        f"    unit_price: {i % 90 + 10}.00 USD\n    unit_weight: 170.5 g\n    quantity: {i}\n"
        f"    origin_country_code: NO\n    net_cost_begin_date: 2026-01-01T00:00:00Z\n"
        f"    custom_fields:\n      Top color: {{value: Deep purple}}\n"
        f"    cobuilder:\n      id: {1000000 + i}\n      properties:\n"
        f"        - propertyGuid: 2bHQbU5wD0o8dSnz0QYp9X\n          unitGuid: 0Rb7Jp3V1hXQ2rZy8yP4kF\n"
        f"          values:\n            - value: \"30\"\n"
        f"            - {{lowerValue: \"10\", lowerOperator: \">=\", upperValue: \"20\", upperOperator: \"<=\"}}\n"
        for i in range(n))
    return f"# a catalog\n---\nreadycloud: {{org: 1}}\ncobuilder: {{}}\nproducts:\n{products}"


@pytest.mark.parametrize("text", [typical_catalog(50), typical_catalog(300), (ROOT / "catalog.yaml").read_text()])
def test_typical_catalogs_take_the_fast_path(text: str) -> None:  # 300 products: the prescan in a thread
    assert not fastyaml.needs_slow_path(text)
    ok, data = fastyaml.parse_fast(text)
    assert ok and typed(data) == typed(load_yaml(text, "x.yaml"))


def test_without_yaml_rs_everything_goes_through_pyyaml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fastyaml, "yaml_rs", None)
    assert fastyaml.parse_fast("a: 1") == (False, None)
    path = tmp_path / "catalog.yaml"
    path.write_text(typical_catalog(3))
    assert [p.code for p in load_catalog(path).products] == ["ES-0000-64667", "ES-0001-64667", "ES-0002-64667"]


def test_errors_found_on_the_fast_path_still_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("readycloud: {org: 1}\nproducts:\n  - code: A\n    kind: goods\n  - code: B\n"
                    "    origin_countr_code: NO\n")
    assert fastyaml.parse_fast(path.read_text())[0]
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == (f"{path}:6: products[1].origin_countr_code: unknown key 'origin_countr_code' "
                                 "(did you mean 'origin_country_code'?)")


def test_a_fast_parsed_catalog_finds_lines_for_plan_messages(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("readycloud: {org: 1}\nproducts:\n  - code: A\n    kind: goods\n\n  - code: B\n"
                    "    quantity: 3\n")
    catalog = load_catalog(path)
    spec = catalog.products[1]
    assert spec.location.line is None  # loaded without lines
    assert str(catalog.locate(spec.location)) == f"{path}:6: products[1]"



def test_a_catalog_edited_after_loading_gives_no_line_rather_than_a_wrong_one(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("readycloud: {org: 1}\nproducts:\n  - code: A\n    kind: goods\n  - code: B\n")
    catalog = load_catalog(path)
    path.write_text("readycloud: {org: 1}\nproducts:\n\n\n  - code: A\n    kind: goods\n  - code: B\n")
    assert str(catalog.locate(catalog.products[1].location)) == f"{path}: products[1]"

@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stream product lists of any size, 7 items a chunk."""
    monkeypatch.setattr(fastyaml, "STREAM_FROM", 0)
    monkeypatch.setattr(fastyaml, "CHUNK_ITEMS", 7)


def test_a_streamed_product_list_parses_like_the_whole(small_chunks: None) -> None:
    text = typical_catalog(50).replace("readycloud: {org: 1}\n", "") + "policy: {prune: false}\n# the end\n"
    ok, data = fastyaml.parse_fast(text, stream=True)
    assert ok and isinstance(data["products"], fastyaml.Streamed)
    data["products"] = list(data["products"])
    assert typed(data) == typed(load_yaml(text, "x.yaml"))


def test_streamed_and_whole_loads_build_the_same_catalog(small_chunks: None, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(typical_catalog(30))
    streamed = load_catalog(path)
    monkeypatch.setattr(fastyaml, "yaml_rs", None)  # PyYAML, located
    located = load_catalog(path)
    def content(catalog: Any) -> list[Any]:
        return [(p.code, dict(p.fields), [(q.guid, q.unit_guid, q.values) for q in entry_of(p).properties])
                for p in catalog.products]
    assert content(streamed) == content(located) and len(streamed.products) == 30


def test_a_cut_inside_a_multiline_string_is_noticed(small_chunks: None, tmp_path: Path) -> None:
    items = [f"  - {{code: P{i}, kind: goods}}\n" for i in range(20)]
    tricky = '  - code: Q\n    description: "first line\n  - not an item, still the description"\n'
    path = tmp_path / "catalog.yaml"
    path.write_text("readycloud: {org: 1}\nproducts:\n" + "".join(items[:6]) + tricky + "".join(items[6:]))
    catalog = load_catalog(path)
    assert [p for p in catalog.products if p.code == "Q"][0].fields["description"] == \
        "first line - not an item, still the description"
    assert len(catalog.products) == 21


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_the_products_key_is_found_at_the_start_and_after_any_line_break(small_chunks: None, newline: str) -> None:
    for text in (typical_catalog(30).replace("readycloud: {org: 1}\n", ""), typical_catalog(30)):
        text = text.replace("\n", newline)
        ok, data = fastyaml.parse_fast(text, stream=True)
        assert ok and isinstance(data["products"], fastyaml.Streamed)
        data["products"] = list(data["products"])
        assert typed(data) == typed(load_yaml(text, "x.yaml"))
    twice = typical_catalog(30) + "products:\n  - {code: Z}\n"  # (a duplicate key: not cut, and refused)
    assert fastyaml._product_chunks(twice) is None


def streamed_agrees(text: str) -> tuple[bool, str]:
    """parse_fast(stream=True) declines (at once, or as its product list is
    iterated) or gives what load_yaml gives; and how it went."""
    ok, data = fastyaml.parse_fast(text, stream=True)
    how = "whole"
    if ok and isinstance(data, dict) and isinstance(data.get("products"), fastyaml.Streamed):
        try:
            data["products"] = list(data["products"])
            how = "streamed"
        except fastyaml.Declined:
            ok, how = False, "declined late"
    try:
        expected = load_yaml(text, "x.yaml")
    except CatalogError:
        return not ok, how
    return not ok or typed(data) == typed(expected), how


SAFE_ATOMS = ["1", "-1", "1.5", "NO", "yes", "true", "null", "88.00 USD", "a b", "x-1", "'012'", "é", "[]", "{}"]


def random_item(rng: random.Random, i: int, atoms: list[str]) -> str:
    atom = lambda: rng.choice(atoms).replace("\n", "\n      ")  # noqa: E731  (a block scalar, indented)
    style = rng.random()
    if style < 0.4:
        return f"  - code: C{i}\n    x: {atom()}\n"
    if style < 0.8:
        return f"  - {{code: C{i}, x: [{atom()}, {atom()}]}}\n"
    return f"  - code: C{i}\n    x:\n      - {atom()}\n"


def test_random_product_lists_stream_or_decline_as_the_whole_would(small_chunks: None) -> None:
    """The settings are parsed before the whole text's prescan, the products
    after it: whatever the products hold, the result is load_yaml's or a decline."""
    rng = random.Random(20261203)
    seen: dict[str, int] = {}
    for _ in range(1500):
        head = rng.choice(["readycloud: {org: 1}\n", "", "# c\n---\nreadycloud:\n  org: 2\n"])
        atoms = ATOMS if rng.random() < 0.5 else SAFE_ATOMS
        items = "".join(random_item(rng, i, atoms) for i in range(rng.randint(8, 30)))
        tail = rng.choice(["", "policy: {prune: false}\n", "x-notes: |\n  kept\n"])
        text = head + "products:\n" + items + tail
        agreed, how = streamed_agrees(text)
        assert agreed, text
        seen[how] = seen.get(how, 0) + 1
    assert seen.get("streamed", 0) > 100 and seen.get("declined late", 0) > 100, seen  # both paths exercised


def test_a_products_list_that_needs_the_slow_path_is_declined_before_yaml_rs_sees_it(
        small_chunks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    deep = "[" * 5000 + "]" * 5000  # (yaml-rs recurses: this deep would overflow its stack)
    text = "readycloud: {org: 1}\nproducts:\n" + "".join(f"  - {{code: P{i}}}\n" for i in range(20)) + \
        f"  - {{code: Q, x: {deep}}}\n" + "".join(f"  - {{code: R{i}}}\n" for i in range(20))
    parsed: list[str] = []
    load = fastyaml._load
    monkeypatch.setattr(fastyaml, "_load", lambda part: parsed.append(part) or load(part))
    ok, data = fastyaml.parse_fast(text, stream=True)
    assert ok and data["readycloud"] == {"org": 1} and isinstance(data["products"], fastyaml.Streamed)
    with pytest.raises(fastyaml.Declined):
        list(data["products"])
    assert parsed and not any("[[" in part for part in parsed)


def test_a_block_scalar_in_a_streamed_list_is_parsed_with_the_whole_document(
        small_chunks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    items = [f"  - {{code: P{i}, kind: goods}}\n" for i in range(20)]
    block = "  - code: Q\n    description: |+\n      kept\n\n"
    text = "readycloud: {org: 1}\nproducts:\n" + "".join(items[:7]) + block + "".join(items[7:])
    parsed: list[str] = []
    load = fastyaml._load
    monkeypatch.setattr(fastyaml, "_load", lambda part: parsed.append(part) or load(part))
    agreed, how = streamed_agrees(text)
    assert agreed and how == "streamed"
    assert parsed[1:] == [text]  # (after the settings, one parse of the whole text: no chunk alone)


@pytest.mark.parametrize("quote", ["'", '"'])
def test_a_products_line_inside_a_quoted_string_is_not_streamed_as_the_list(small_chunks: None, quote: str) -> None:
    """In a flow mapping a quoted string may run over lines at column 0: its
    ``products:`` line and '- ' lines are text, and the real key is elsewhere."""
    items = "".join(f"- P{i}\n" for i in range(20))
    text = f"{{note: {quote}start\nproducts:\n{items}end{quote}, products: null}}\n"
    assert load_yaml(text, "x.yaml")["products"] is None
    agreed, how = streamed_agrees(text)
    assert agreed, how


@pytest.mark.parametrize("first", ["  ---\n", "  -x\n", "  -1\n", "  --\n"])
def test_a_first_line_that_starts_with_a_dash_but_is_no_item_is_not_cut_away(small_chunks: None, first: str) -> None:
    """'products:' then '  -x': a plain scalar that the '- ' lines continue, not a list."""
    text = "readycloud: {org: 1}\nproducts:\n" + first + "".join(f"  - P{i}\n" for i in range(20))
    assert isinstance(load_yaml(text, "x.yaml")["products"], str)
    agreed, how = streamed_agrees(text)
    assert agreed, how


def test_a_long_number_is_declined_before_yaml_rs_sees_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """yaml-rs makes a Python int of any length, in time that grows with the
    square of its digits (3 million: 12 s): a text large enough to be parsed
    beside its prescan is not given to it with one."""
    text = typical_catalog(300).replace("products:", "x-n: " + "7" * 5000 + "\nproducts:")
    assert len(text) >= fastyaml.PARALLEL_FROM
    parsed: list[str] = []
    load = fastyaml._load
    monkeypatch.setattr(fastyaml, "_load", lambda part: parsed.append(part) or load(part))
    for stream in (False, True):
        assert fastyaml.parse_fast(text, stream=stream) == (False, None)
    assert not any("7" * 300 in part for part in parsed)
