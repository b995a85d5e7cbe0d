"""The catalog YAML writer: what it writes, both parsers read back as it was
(PyYAML's located loader, and yaml-rs, the fast path, even where the fast
path's prescan would not have let it decide)."""
from __future__ import annotations

import json
import random
from typing import Any

import pytest
import yaml
import yaml_rs

from reconciler.catalog import dump, fastyaml
from reconciler.catalog.yamlload import load_yaml

#: strings every YAML parser has opinions about
TRICKY = ["007", "12345", "0", "-0", "+5", "1.0", "1.", "true", "True", "TRUE", "false", "NO", "no", "yes", "Yes",
          "y", "n", "on", "off", "null", "Null", "NULL", "~", "", " ", "  x", "x  ", "a: b", "a:b", "x:", ": x",
          "#x", "a #b", "- x", "-", "--- x", "---", "...", "0o17", "0x1F", "0X1F", "0b101", "1e3", "1E3", "1e+3",
          "1.0e3", "0e0", "-.5", ".5", ".inf", ".iNf", "-.inf", ".nan", ".NaN", "NaN", "inf", "_1", "1_000", "09",
          "012", "1:20", "12:30:45", "=", "<<", "|", "|-", ">", "> x", "!x", "!!str", "&a", "*a", "?", "? x", "%x",
          "@x", "`x", "'q'", '"d"', "'", '"', "\\", "[a]", "{a: 1}", "a, b", "a]", "x\ny", "x\n", "\nx", "x\n\n",
          "line1\n  indented\nline3", "  lead\nx", "trail \nx", "tab\tx", "\t", "\r\n", "x\r\ny",
          "ünïcödé 日本 😀 €5 —", "\u2028", "x\u2029y", "a\x85b", "\ufeffx", "a\x07b", "\x1b[31m", "\u200e",
          "2014-10-10T06:49:50Z", "2014-10-10", "2014-10-10 06:49:50", "x" * 300, "a  b", "${HOME}"]
#: other values: nulls, zeros, numbers, nesting
VALUES: list[Any] = [None, 0, 0.0, -1, 1.5, 10 ** 30, -1.5e-7, 1e20, True, False, [], {}, [1, [2, {"a": None}]],
                     {"nested": {"deep": [None, "NO", 1.0, {"007": "yes"}]}}]


def both(text: str) -> tuple[Any, Any]:
    """What PyYAML (our loader) and yaml-rs (the fast path's parser) read."""
    return load_yaml(text, "x.yaml"), yaml_rs.loads(text, parse_datetime=False)


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same JSON types (1 is not 1.0, a key "1" is not 1)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and a == b


def document() -> dict[str, Any]:
    products = [{"code": t, "description": t, "custom_fields": {t or "(empty)": {"value": t, "type": t}}}
                for t in TRICKY]
    products += [{"code": f"V{i}", "custom_fields": {"f": {"value": v}}} for i, v in enumerate(VALUES)]
    return {"readycloud": {"org": 1}, "products": products}


class PurePythonDumper(yaml.SafeDumper):
    """PyYAML's emitter in Python (where libyaml is missing), with the writer's string styles."""


PurePythonDumper.add_representer(str, dump.represent_str)


@pytest.mark.parametrize("dumper", [dump.CatalogDumper, PurePythonDumper], ids=["libyaml", "python"])
def test_every_tricky_value_reads_back_the_same_in_both_parsers(dumper: type) -> None:
    data = document()
    text = dump.dump(data, dumper)
    pyyaml, rust = both(text)
    assert same(pyyaml, data)
    for written, read in zip(data["products"], rust["products"]):
        assert same(read, written), (written, read)


def test_the_fast_path_agrees_where_it_takes_the_file() -> None:
    text = dump.dump(document())
    parsed, data = fastyaml.parse_fast(text)
    assert not parsed or same(data, load_yaml(text, "x.yaml"))
    plain = dump.dump({"products": [{"code": "P1", "kind": "goods", "unit_price": "88.00 USD", "quantity": 0,
                                     "net_cost_begin_date": "2014-10-10T06:49:50Z", "description": "NO",
                                     "custom_fields": {"Top color": {"value": "Deep purple"}}}]})
    parsed, data = fastyaml.parse_fast(plain)
    assert parsed and same(data, load_yaml(plain, "x.yaml"))  # (an ordinary product takes the fast path)


def test_strings_either_parser_could_read_as_something_else_are_quoted() -> None:
    text = dump.dump({"a": "0o17", "b": "1e3", "c": "NO", "d": "a\u2028b", "e": "plain text", "f": "two\nlines"})
    assert "a: '0o17'\nb: '1e3'\nc: 'NO'\nd: \"a\\Lb\"\ne: plain text\nf: |-\n  two\n  lines\n" == text


@pytest.mark.parametrize("indent", [0, 2, 4])
def test_entries_moved_right_keep_their_meaning(indent: int) -> None:
    entries = [{"code": t, "custom_fields": {"x": {"value": t}}} for t in TRICKY]
    text = "products:\n" + dump.dump_entries(entries, indent)
    pyyaml, rust = both(text)
    assert same(pyyaml["products"], entries) and same(rust["products"], entries)


def test_random_strings_read_back_the_same_in_both_parsers() -> None:
    alphabet = [*"ab01 9.-+_:#&*!?|>'\"%@`,[]{}\n\t\r\\=<~eExXoO", "\x85", "\u2028", "\u2029", "\ufeff", "\x00",
                "\x1b", "é", "日", "😀", "\u200e", "- ", ": ", " #", "\n\n", "  "]
    rng = random.Random(14)
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        data = {"products": [{"code": s, "custom_fields": {s: {"value": s}}, "more": [s, {"x": s}]}]}
        text = dump.dump(data)
        pyyaml, rust = both(text)
        assert same(pyyaml, data) and same(rust, data), repr(s)


def test_comment_lines() -> None:
    assert dump.comment("one\n\ntwo  ") == "# one\n#\n# two\n"
