"""A catalog over many files: a directory, -c given more than once (issue 14)."""
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.catalog.load import load_catalog
from reconciler.errors import CatalogError
from reconciler.vendors.readycloud.catalog import settings_of as rc_settings_of


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


SPLIT = {"catalog/a.yaml": "readycloud: {org: 1, max_reads_per_minute: 5}\nproducts:\n  - {code: A, kind: goods}\n",
         "catalog/shirts/b.yml": "products:\n  - {code: B, kind: goods}\n  - {code: C, kind: tax}\n",
         "catalog/notes.txt": "not a catalog\n", "catalog/.hidden/x.yaml": "nonsense: 1\n"}


def problems(spec: object) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(spec, environ={})  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def test_a_directory_is_one_catalog_in_sorted_path_order(tmp_path: Path) -> None:
    root = tree(tmp_path, SPLIT)
    catalog = load_catalog(root / "catalog", environ={})
    assert [p.code for p in catalog.products] == ["A", "B", "C"]
    assert rc_settings_of(catalog) is not None and rc_settings_of(catalog).org == 1
    assert all(p.location.line is None for p in catalog.products)  # the fast path: lines looked up when needed
    assert [str(catalog.locate(p.location)).split(": ")[0] for p in catalog.products] == [
        f"{root}/catalog/a.yaml:3", f"{root}/catalog/shirts/b.yml:2", f"{root}/catalog/shirts/b.yml:3"]
    assert rc_settings_of(catalog).location.file == f"{root}/catalog/a.yaml"
    assert catalog.path == str(root / "catalog")


def test_a_directory_the_fast_parser_declines_loads_the_same(tmp_path: Path) -> None:
    root = tree(tmp_path, {**SPLIT, "catalog/shirts/b.yml": "x-d: &d {kind: goods}\nproducts:\n"
                                                            "  - {<<: *d, code: B}\n  - {code: C, kind: tax}\n"})
    catalog = load_catalog(root / "catalog", environ={})
    assert [(p.code, p.fields["kind"]) for p in catalog.products] == [("A", "goods"), ("B", "goods"), ("C", "tax")]
    assert str(catalog.locate(catalog.products[1].location)) == f"{root}/catalog/shirts/b.yml:3: products[0]"


def test_a_later_catalog_overrides_settings_key_by_key(tmp_path: Path) -> None:
    root = tree(tmp_path, {**SPLIT, "envs/staging.yaml": "readycloud: {org: 2}\nx-note: staging\n"})
    catalog = load_catalog([root / "catalog", root / "envs/staging.yaml"], environ={})
    assert rc_settings_of(catalog) is not None and rc_settings_of(catalog).org == 2
    assert rc_settings_of(catalog).max_reads_per_minute == 5  # kept from the earlier file
    assert [p.code for p in catalog.products] == ["A", "B", "C"]


def test_a_code_in_two_files_names_both(tmp_path: Path) -> None:
    root = tree(tmp_path, {**SPLIT, "catalog/shirts/c.yaml": "products:\n  - {code: X, kind: goods}\n"
                                                             "  - {code: A, kind: tax}\n"})
    assert problems(root / "catalog") == [
        f"{root}/catalog/shirts/c.yaml:3: products[1].code: duplicate code 'A' (also declared at "
        f"{root}/catalog/a.yaml:3)"]


def test_an_error_names_the_file_and_line_it_is_in(tmp_path: Path) -> None:
    root = tree(tmp_path, {**SPLIT, "catalog/shirts/b.yml": "products:\n  - {code: B, kind: goods}\n"
                                                            "  - code: C\n    kind: tax\n    quantty: 3\n",
                           "catalog/z.yaml": "policy: {prune: maybe}\n"})
    found = problems(root / "catalog")
    assert f"{root}/catalog/shirts/b.yml:5: products[1].quantty: unknown key 'quantty' (did you mean 'quantity'?)" \
        in found, found  # (the index within its own file)
    assert any(p.startswith(f"{root}/catalog/z.yaml:1: policy.prune") for p in found), found
    syntax = problems([root / "catalog/a.yaml", tree(tmp_path, {"bad.yaml": "products:\n  - {code: [\n"}) / "bad.yaml"])
    assert len(syntax) == 1 and syntax[0].startswith(f"{root}/bad.yaml:")


def test_a_section_in_two_files_of_a_directory_is_an_error(tmp_path: Path) -> None:
    root = tree(tmp_path, {**SPLIT, "catalog/z.yaml": "readycloud: {org: 3}\n"})
    assert problems(root / "catalog") == [
        f"{root}/catalog/z.yaml:1: readycloud: 'readycloud' is already declared in {root}/catalog/a.yaml:1 "
        "(a section may be in one file of a directory)"]


def test_the_digest_covers_every_file_and_their_order(tmp_path: Path) -> None:
    root = tree(tmp_path, {**SPLIT, "envs/s.yaml": "readycloud: {org: 2}\n", "envs/t.yaml": "readycloud: {org: 3}\n"})
    first = load_catalog([root / "catalog", root / "envs/s.yaml", root / "envs/t.yaml"], environ={})
    swapped = load_catalog([root / "catalog", root / "envs/t.yaml", root / "envs/s.yaml"], environ={})
    assert first.digest != swapped.digest
    (root / "catalog/shirts/b.yml").write_text(SPLIT["catalog/shirts/b.yml"] + "  - {code: D, kind: tax}\n")
    assert load_catalog([root / "catalog", root / "envs/s.yaml", root / "envs/t.yaml"], environ={}).digest \
        != first.digest


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert problems(tmp_path / "empty") == [f"{tmp_path}/empty: the directory holds no *.yaml or *.yml catalog file"]
