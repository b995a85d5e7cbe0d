"""Hostile YAML ends in one validation error with file and line: alias
expansion and nesting are bounded in every value (custom_fields included)."""
from __future__ import annotations

import pytest

from reconciler.catalog import fastyaml
from reconciler.catalog.yamlload import MAX_ALIASED_NODES, MAX_DEPTH

HEAD = "readycloud: {org: 1}\nproducts:\n  - code: A\n    kind: goods\n    custom_fields:\n      X:\n        value:\n"


def alias_bomb() -> str:
    """9^10 elements once expanded, in a custom field's value."""
    lines = ["          - &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"          - &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return HEAD + "\n".join(lines) + "\n"


def deep_block(levels: int) -> str:
    return HEAD + "".join("  " * (5 + i) + f"k{i}:\n" for i in range(levels)) + "  " * (5 + levels) + "end\n"


def deep_flow(levels: int) -> str:
    return HEAD + "          " + "[" * levels + "]" * levels + "\n"


def deep_sequence(levels: int) -> str:
    return HEAD + "          " + "- " * levels + "x\n"


def deep_through_an_alias() -> str:
    """Each anchor within the limit; where the alias puts it, deeper."""
    half = MAX_DEPTH // 2 + 5
    return HEAD + "          - &deep " + "[" * half + "]" * half + "\n" + \
        "          - " + "[" * half + "*deep" + "]" * half + "\n"


CASES = {
    "alias bomb": (alias_bomb(), 13, f"aliases expand to more than {MAX_ALIASED_NODES:,} nodes (the limit), at alias *a"),
    "deep block mappings": (deep_block(1500), None, f"nested deeper than {MAX_DEPTH} levels (the limit)"),
    "deep block mappings within libyaml's limit": (deep_block(900), MAX_DEPTH + 3,
                                                   f"nested deeper than {MAX_DEPTH} levels"),
    "deep flow": (deep_flow(1500), 8, f"nested deeper than {MAX_DEPTH} levels"),
    "deep compact sequences": (deep_sequence(1500), 8, f"nested deeper than {MAX_DEPTH} levels"),
    "deep through an alias": (deep_through_an_alias(), 9, f"nested deeper than {MAX_DEPTH} levels"),
}


@pytest.mark.parametrize("command", ["validate", "plan"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_yaml_is_one_error_with_file_and_line(case: str, command: str, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    text, line, message = CASES[case]
    path = write_catalog(text)
    result = run(command, "-c", path)  # (plan: the catalog is invalid before any request)
    assert result.code == 1
    assert "Error: the catalog is invalid (1 problem):" in result.err, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert f"{path}:{line if line is not None else ''}" in result.err
    assert message in result.err


def test_recursive_alias_is_an_error(run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", "-c", write_catalog(HEAD + "          - &loop [a, *loop]\n"))
    assert result.code == 1 and ":8: YAML syntax: alias *loop is inside its own anchor" in result.err


def test_aliases_within_the_limit_still_work(run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    products = "".join(f"  - code: P{i}\n    kind: goods\n    custom_fields: *fields\n" for i in range(50))
    text = "readycloud: {org: 1}\nproducts:\n  - code: A\n    kind: goods\n    custom_fields: &fields\n" \
           "      X: {value: x}\n" + products
    assert run("validate", "-c", write_catalog(text)).code == 0


@pytest.mark.parametrize("text", [deep_block(200), deep_flow(200), deep_sequence(200), deep_block(20000)])
def test_the_fast_path_declines_deep_nesting_before_parsing(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """yaml-rs recurses: 20,000 block levels overflow its stack (a crash, not
    an exception), so a deep document must never reach it."""
    monkeypatch.setattr(fastyaml, "_load", lambda _text: pytest.fail("yaml-rs was given a deep document"))
    assert fastyaml.parse_fast(text) == (False, None)


def test_typical_nesting_and_brackets_in_quotes_keep_the_fast_path() -> None:
    text = ('readycloud: {org: 1}\nproducts:\n  - code: A\n    description: "[a] {b} ]]]"\n'
            '    custom_fields: {Color: {value: "black"}, Size: {value: \'[XL]\'}}\n'
            '    cobuilder: {id: 1, properties: [{propertyGuid: g, values: [{value: "30"}]}]}  # ]]\n')
    assert fastyaml.parse_fast(text)[0]


@pytest.mark.parametrize("alias", ["", "  # an alias needs a '*'"])
def test_the_depth_limit_is_the_same_with_or_without_a_possible_alias(alias: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reconciler.catalog.yamlload import load_yaml
    from reconciler.errors import CatalogError

    def nested(levels: int) -> str:  # the top-level mapping, then lists down to a scalar
        return "a: " + "[" * (levels - 1) + "x" + "]" * (levels - 1) + alias + "\n"

    assert load_yaml(nested(MAX_DEPTH), "c.yaml")["a"] is not None
    with pytest.raises(CatalogError, match=f"c.yaml:1: YAML limit: nested deeper than {MAX_DEPTH} levels"):
        load_yaml(nested(MAX_DEPTH + 1), "c.yaml")


def long_value_repeated() -> str:
    """A 200 KiB value repeated by 1,000 aliases (200 MiB once copied): few nodes, much text."""
    return HEAD + "          - &long " + "x" * 200 * 1024 + "\n" + "".join("          - *long\n" for _ in range(1000))


def test_a_long_value_repeated_by_aliases_counts_by_its_size(run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", "-c", write_catalog(long_value_repeated()))
    assert result.code == 1 and f"aliases expand to more than {MAX_ALIASED_NODES:,} nodes" in result.err


def test_a_large_document_that_may_hold_aliases_never_reaches_yaml_rs(monkeypatch: pytest.MonkeyPatch) -> None:
    """yaml-rs copies what each alias repeats, with no limit: a catalog past
    the size where it is parsed alongside the scan must not be given to it."""
    monkeypatch.setattr(fastyaml, "_load", lambda _text: pytest.fail("yaml-rs was given aliases"))
    assert fastyaml.parse_fast(long_value_repeated()) == (False, None)
