"""The catalog's JSON Schema (``reconciler schema``, ``schemas/catalog.v1.json``)
and the loader agree: every catalog in the repository validates, and for
catalogs written in the tests, typo'd keys and wrong values, the loader and
the schema accept and reject the same documents, except where a schema
cannot say what the loader checks (:data:`LOADER_ONLY`, each with its reason)."""
from __future__ import annotations

import ast
import copy
import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, Mapping

import pytest
from jsonschema import Draft202012Validator

from reconciler.catalog.load import build_catalog
from reconciler.catalog.schema import SCHEMA_FILE, catalog_schema, render
from reconciler.catalog.yamlload import load_yaml
from reconciler.errors import CatalogError

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / SCHEMA_FILE
REGENERATE = f"regenerate it with: reconciler schema -o {SCHEMA_FILE}"
#: the environment the catalogs here are loaded with
ENVIRON = {"WEBHOOK_SECRET": "s3cret", "RC_ORG": "7", "RPM": "20", "PRUNE": "true", "SHOP": "demo",
           "PRICE": "5 USD", "EXCLUSIVE": "true", "CUSTOMER": "bot"}


@dataclass(frozen=True)
class LoaderOnly:
    """A rule the loader checks and the schema cannot express."""

    name: str
    message: re.Pattern[str]
    reason: str


#: What the loader rejects and the schema accepts, each on purpose (and each
#: shown by :data:`LOADER_ONLY_EXAMPLES`). A loader problem not matching one of
#: these, on a document the schema accepts, fails the tests.
LOADER_ONLY = (
    LoaderOnly("unique", re.compile(r"duplicate code|is already used by product|is declared twice|the same url as"),
               "uniqueness of one key across list items (codes, Cobuilder ids, property GUIDs, webhook "
               "URLs): JSON Schema's uniqueItems compares whole items"),
    LoaderOnly("env", re.compile(r"environment variable \w+ is not set|must be (an integer|a number|true or false)"
                                 r"( \(it is .*\))?$|secret is empty|characters long; at most|"
                                 r"prune: true needs a scope|must be an https?:// (or https:// )?URL|"
                                 r"must start with http|plain http:// never carries"),
               "${VAR} values: the schema sees the reference, the loader the environment's value (its type, "
               "length, URL; whether prune: ${PRUNE} is true, which needs a scope)"),
    LoaderOnly("hosts", re.compile(r"is not one of \w+'s hosts"),
               "which hosts may receive credentials depends on the environment (RECONCILER_TRUSTED_HOSTS); "
               "the schema checks https:// and a host only"),
    LoaderOnly("files", re.compile(r"declares ReadyCloud fields, but the catalog has no 'readycloud' section"),
               "a rule across files: a directory catalog may keep its settings in another file than its "
               "products, and the schema sees one file"),
    LoaderOnly("datetime", re.compile(r"is not an ISO 8601 date-time"),
               "date-times are what Python's datetime.fromisoformat reads (a date alone too), which no "
               "JSON Schema format describes"),
    LoaderOnly("integers", re.compile(r"expected an integer[\w ]*( or null| from \d+ to \d+)?, got number"),
               "JSON has one number type: 2.0 is an integer to JSON Schema, a float to YAML and the loader"),
)

#: For each of :data:`LOADER_ONLY`, changes to :data:`RICH` the loader alone rejects: (path, value, environment).
LOADER_ONLY_EXAMPLES: dict[str, list[tuple[tuple[Any, ...], Any, dict[str, str]]]] = {
    "unique": [(("products", 1, "code"), "SHOP-1", {}),
               (("products", 1, "cobuilder"), {"id": 1000000}, {}),
               (("products", 0, "cobuilder", "properties", 1),
                {"propertyGuid": "MaterialComposition001", "unitGuid": "NoUnitGuid000000000001", "values": []}, {}),
               (("notify", "webhooks", 1), {"url": "https://hooks.example.com/catalog", "secret": "${S}"}, {})],
    "env": [(("readycloud", "org"), "${UNSET_VAR}", {}),
            (("readycloud", "org"), "${SHOP}", {}),
            (("policy", "scope"), [], {}),  # (prune: ${PRUNE}, true)
            (("readycloud", "base_url"), "${SHOP}", {}),
            (("cobuilder", "audience_url"), "${SHOP}", {}),
            (("notify", "webhooks", 0, "url"), "${SHOP}", {}),
            (("notify", "webhooks", 0, "secret"), "${EMPTY}", {"EMPTY": ""}),
            (("products", 0, "cobuilder", "properties", 0, "values", 0, "value"), "${LONG}", {"LONG": "x" * 2001})],
    "hosts": [(("readycloud", "base_url"), "https://rc.internal/api/v2", {}),
              (("cobuilder", "token_url"), "https://auth.example.com/token", {})],
    "files": [(("readycloud",), None, {})],
    "datetime": [(("products", 0, "net_cost_begin_date"), "2026-13-01", {}),
                 (("products", 0, "net_cost_begin_date"), "soon", {})],
    "integers": [(("readycloud", "page_size"), 50.0, {}), (("products", 0, "quantity"), 3.0, {}),
                 (("products", 0, "cobuilder", "id"), 1000000.0, {})],
}


@functools.cache
def committed() -> dict[str, Any]:
    return json.loads(COMMITTED.read_text())


def loader_found(data: Any, environ: Mapping[str, str] = ENVIRON) -> list[tuple[str, str]]:
    """The loader's problems with a parsed document, (path, message) each (on
    a copy: the loader settles ``${VAR}``s in place); a crash is one too."""
    try:
        build_catalog(copy.deepcopy(data), "catalog.yaml", "", environ)
    except CatalogError as exc:
        return [(p.location.path or "", p.message) for p in exc.problems]
    except Exception as exc:  # noqa: BLE001 - a crash is a disagreement, reported with the document
        return [("", f"the loader crashed: {type(exc).__name__}: {exc}")]
    return []


def loader_problems(data: Any, environ: Mapping[str, str] = ENVIRON) -> list[str]:
    return [message for _, message in loader_found(data, environ)]


_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    kept = _VALIDATORS.get(id(schema))
    if kept is None or kept[0] is not schema:
        kept = _VALIDATORS[id(schema)] = (schema, Draft202012Validator(schema))
    return kept[1]


def schema_problems(data: Any, schema: Mapping[str, Any]) -> list[str]:
    validator = _validator(schema)
    if validator.is_valid(data):  # (quicker than looking for every error)
        return []
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]


_UNSET = re.compile(r"environment variable \w+ is not set")


def disagreement(data: Any, schema: Mapping[str, Any], environ: Mapping[str, str] = ENVIRON) -> str | None:
    """Why the loader and the schema disagree on ``data`` (None: they agree,
    or differ only as :data:`LOADER_ONLY` says; a value whose variable is not
    set is reported by the loader as such and as the empty value it then is)."""
    loader, rejected = loader_found(data, environ), not _validator(schema).is_valid(data)
    crashed = [m for _, m in loader if m.startswith("the loader crashed")]
    if crashed:
        return crashed[0]
    if rejected and not loader:
        return f"the schema rejects what the loader accepts: {schema_problems(data, schema)[:3]}"
    if loader and not rejected:
        unset = {path for path, message in loader if _UNSET.search(message)}
        unexplained = [m for path, m in loader
                       if path not in unset and not any(e.message.search(m) for e in LOADER_ONLY)]
        if unexplained:
            return f"the loader rejects what the schema accepts: {unexplained[:3]}"
    return None


# -- the committed schema -------------------------------------------------------


def test_reconciler_schema_prints_the_committed_schema(run) -> None:  # type: ignore[no-untyped-def]
    result = run("schema")
    assert result.code == 0, result.err
    assert json.loads(result.out) == committed(), f"{SCHEMA_FILE} is out of date: {REGENERATE}"
    assert result.out == COMMITTED.read_text(), f"{SCHEMA_FILE} is not formatted as printed: {REGENERATE}"


def test_schema_writes_to_a_file_and_says_when_it_cannot(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "catalog.json"
    assert run("schema", "-o", str(out)).code == 0
    assert json.loads(out.read_text()) == committed()
    failed = run("schema", "-o", str(tmp_path / "missing" / "catalog.json"))
    assert failed.code == 1 and "Could not open file" in failed.err and "Traceback" not in failed.err


def test_the_schema_is_valid_draft_2020_12() -> None:
    schema = committed()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


# -- every catalog in the repository --------------------------------------------


def _repository_yaml() -> list[Path]:
    """Every YAML file of the repository (catalogs or not); hidden directories
    (.git, .venv, .reconciler) and installed packages left out."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("venv", "node_modules", "__pycache__")]
        found += [Path(folder, name) for name in files if name.endswith((".yaml", ".yml"))]
    return sorted(found)


def _markdown_yaml() -> Iterator[tuple[str, str]]:
    """Each fenced ```yaml block of the README and docs/, named file:line."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = path.read_text()
        for match in re.finditer(r"^```ya?ml\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
            yield f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}", match.group(1)


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reconciler_bench_for_schema", ROOT / "bench" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_catalog_in_the_repository_validates(tmp_path: Path) -> None:
    """Catalog files (catalog.yaml, examples/, tests/, bench/ ...), the YAML
    snippets of the docs, and the catalogs bench/ writes: where the loader
    accepts one the schema does too (and files that are no catalog, such as
    the CI examples, fail both)."""
    schema = committed()
    documents = [(str(p.relative_to(ROOT)), p.read_text()) for p in _repository_yaml()]
    documents += list(_markdown_yaml())
    _bench().write_catalog(tmp_path / "bench.yaml", 300, 30)
    documents.append(("bench/bench.py write_catalog", (tmp_path / "bench.yaml").read_text()))
    accepted = []
    for name, text in documents:
        try:
            data = load_yaml(text, name)
        except CatalogError:
            continue  # (a fragment of a snippet)
        problem = disagreement(data, schema)
        assert problem is None, f"{name}: {problem}"
        if not loader_problems(data):
            accepted.append(name)
    assert "catalog.yaml" in accepted and "bench/bench.py write_catalog" in accepted, accepted
    assert any(name.startswith("README.md:") for name in accepted), accepted  # (the editor example)
    assert {"examples/github/catalog-plan.yml", "examples/gitlab/.gitlab-ci.yml"} <= {n for n, _ in documents}


# -- the catalogs written in the tests ------------------------------------------

#: top-level keys that make a YAML text of a test a catalog
_CATALOG_KEYS = {"products", "readycloud", "cobuilder", "policy", "notify"}


def _test_catalogs() -> Iterator[tuple[str, Any]]:
    """Each string literal of the test modules that parses as a catalog-like mapping."""
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and ":" in node.value):
                continue
            try:
                data = load_yaml(node.value, path.name)
            except CatalogError:
                continue
            if isinstance(data, dict) and _CATALOG_KEYS & set(data):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", data


def test_loader_and_schema_agree_on_the_tests_catalogs() -> None:
    """Hundreds of catalogs, valid and invalid, from the tests."""
    schema = committed()
    found = list(_test_catalogs())
    assert len(found) > 100, f"only {len(found)} catalogs found in the tests"
    problems = [f"{name}: {problem}" for name, data in found if (problem := disagreement(data, schema))]
    assert not problems, "\n".join(problems)
    assert sum(not loader_problems(data) for _, data in found) > 50


# -- typos and wrong values -----------------------------------------------------

#: Every section and key the loader knows, with a merge key and ${VAR}s.
RICH = """\
x-defaults: &defaults
  kind: goods
  unit_weight: 170 g
readycloud:
  org: ${RC_ORG}
  base_url: https://www.readycloud.com/api/v2
  max_reads_per_minute: ${RPM}
  max_writes_per_minute: 20
  page_size: 50
cobuilder:
  base_url: https://api.cobuilder.com/products-management/api/v3
  token_url: https://auth.cobuilder.com/token
  audience_url: https://api.cobuilder.com
  max_reads_per_minute: null
  max_writes_per_minute: 0
  endpoints:
    update: /products/{product_id}/properties/values/update
    delete: /products/{product_id}/properties/{property_guid}/values
sensitive: [unit_price]
plain_env: [RC_ORG, RPM]
policy:
  prune: ${PRUNE}
  scope: [SHOP-*]
  protect: SHOP-KEEP-*
  max_delete_percent: 20
  max_update_percent: null
  min_existing: 3
notify:
  webhooks:
    - url: https://hooks.example.com/catalog
      secret: ${WEBHOOK_SECRET}
      events: [product.created, product.deleted]
  usercom:
    base_url: https://acme.user.com/api/public
    event_type: add to cart
    user_custom_id: ${CUSTOMER}
    attributes: [description, quantity]
  voucherify:
    base_url: https://api.voucherify.io
    event: catalog-product-changed
    max_requests_per_minute: 60
    customer: {source_id: bot, name: Bot, email: bot@example.com, phone: "1", description: d, metadata: {a: 1}}
products:
  - <<: *defaults
    code: SHOP-1
    description: A
    unit_price: ${PRICE}
    quantity: 3
    joint_production: false
    net_cost_begin_date: 2026-01-01T00:00:00Z
    origin_country_code: NO
    custom_fields: {Colour: {value: black, type: text}}
    sensitive: [description]
    cobuilder:
      id: 1000000
      exclusive: true
      properties:
        - propertyGuid: MaterialComposition001
          unitGuid: NoUnitGuid000000000001
          values:
            - {value: Cotton, operator: "=", valueTranslations: [{text: Baumwolle, languageCode: de}]}
            - lowerValue: "0.4"
              lowerOperator: ">="
              upperValue: "0.6"
              upperOperator: "<="
              ifdValues: [{valueGuid: IfdValueGuid0000000001, title: t, defaultTitle: d}]
  - code: SHOP-2
    kind: discount
    unit_price: 3 EUR
    sensitive: true
  - {code: SHOP-3, absent: true}
"""
#: mappings whose keys are data, not the catalog's keys (a changed key is as valid as before)
_FREE = re.compile(r"^x-[^.]*$|\.custom_fields$|\.metadata$")


def _mappings(data: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(data, dict):
        yield path, data
        for key, value in data.items():
            yield from _mappings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _mappings(value, f"{path}[{index}]")


def _leaves(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*path, key)
        yield from _leaves(value, (*path, key))


def _plain(data: Any) -> Any:
    """A parsed document as plain dicts and lists (what each mutation copies)."""
    return json.loads(json.dumps(data))


def _catalogs() -> list[tuple[str, Any]]:
    return [("catalog.yaml", _plain(load_yaml((ROOT / "catalog.yaml").read_text(), "catalog.yaml"))),
            ("RICH", _plain(load_yaml(RICH, "rich.yaml")))]


def test_the_base_catalogs_are_valid_to_both() -> None:
    schema = committed()
    for name, data in _catalogs():
        assert loader_problems(data) == [] and schema_problems(data, schema) == [], name
    assert loader_problems(_plain(load_yaml(RICH, "rich.yaml")), {}) != []  # (its ${VAR}s are needed)


def test_a_typo_in_any_key_fails_both() -> None:
    schema = committed()
    checked = 0
    for name, catalog in _catalogs():
        for path, mapping in list(_mappings(catalog)):
            for key in list(mapping):
                data = copy.deepcopy(catalog)
                target = dict(_mappings(data))[path]
                target[key + "x"] = target.pop(key)  # (at the end: another order, as an editor would not care)
                where = f"{name}: {path}.{key} -> {key}x"
                assert disagreement(data, schema) is None, where
                if _FREE.search(path) or (not path and key.startswith("x-")):
                    continue
                assert loader_problems(data) and schema_problems(data, schema), f"{where}: accepted"
                checked += 1
    assert checked > 100


_WRONG: tuple[Any, ...] = (None, True, -1, 2.5, "", "zz", "${UNSET_VAR}", ["zz"], {"zz": 1})


def test_wrong_values_anywhere_fail_both_or_neither() -> None:
    """Every value of the base catalogs replaced by values of every type:
    the loader and the schema agree on each document."""
    schema = committed()
    problems, checked = [], 0
    for name, catalog in _catalogs():
        for path in _leaves(catalog):
            for wrong in _WRONG:
                data = copy.deepcopy(catalog)
                container = data
                for step in path[:-1]:
                    container = container[step]
                container[path[-1]] = copy.deepcopy(wrong)
                problem = disagreement(data, schema)
                if problem:
                    problems.append(f"{name}: {'.'.join(map(str, path))} = {wrong!r}: {problem}")
                checked += 1
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} in all)"
    assert checked > 1500


@pytest.mark.parametrize(("path", "value"), [
    (("products", 0, "kind"), "good"),  # not one of goods|discount|tax|adjustment
    (("products", 0, "unit_price"), "88"),  # no currency
    (("products", 0, "unit_price"), "USD 88"),
    (("products", 0, "unit_weight"), "170"),
    (("products", 0, "cobuilder", "properties", 0, "propertyGuid"), "TooShort"),
    (("products", 0, "cobuilder", "properties", 0, "unitGuid"), "NoUnitGuid 00000000001"),
    (("products", 0, "cobuilder", "properties", 0, "values", 1, "ifdValues", 0, "valueGuid"), "x"),
    (("products", 0, "cobuilder", "properties", 0, "values", 0, "value"), "x" * 2001),
    (("products", 0, "cobuilder", "id"), "1000000"),
    (("products", 0, "sensitive"), ["descriptio"]),
    (("sensitive",), ["code"]),
    (("plain_env",), ["NOT A NAME"]),
    (("readycloud", "org"), 0),
    (("readycloud", "page_size"), 1001),
    (("readycloud", "page_size"), "${RPM}"),  # (not a typed setting)
    (("readycloud", "org"), "${RC_ORG}x"),
    (("readycloud", "base_url"), "ftp://www.readycloud.com/api/v2"),
    (("policy", "max_delete_percent"), 101),
    (("policy", "min_existing"), -1),
    (("policy", "scope"), ""),
    (("notify", "webhooks", 0, "secret"), "written-in-the-catalog"),
    (("notify", "webhooks", 0, "secret"), "${WEBHOOK_SECRET:-default}"),
    (("notify", "webhooks", 0, "events"), ["product.made"]),
    (("notify", "webhooks", 0, "events"), []),
    (("notify", "usercom", "event_type"), "views"),
    (("notify", "usercom", "attributes"), ["custom_fields"]),  # an object: not a user.com attribute
    (("notify", "usercom", "attributes"), [["description"]]),  # (the loader crashed on it)
    (("notify", "usercom", "user_id"), 431),  # with user_custom_id: two attributions
    (("notify", "usercom", "client"), 431),  # user.com API v1
    (("notify", "voucherify", "event"), "e" * 301),
    (("notify", "voucherify", "customer", "source_id"), " "),
])
def test_invalid_values_fail_both(path: tuple[Any, ...], value: Any) -> None:
    data = _changed(path, value)
    assert loader_problems(data), "the loader accepts it"
    assert schema_problems(data, committed()), "the schema accepts it"


def test_prune_needs_a_scope_and_a_tombstone_no_fields() -> None:
    data = _plain(load_yaml(RICH, "rich.yaml"))
    data["policy"] = {"prune": True}
    assert loader_problems(data) and schema_problems(data, committed())
    data = _plain(load_yaml(RICH, "rich.yaml"))
    data["products"][2]["kind"] = "goods"
    assert loader_problems(data) and schema_problems(data, committed())


def test_render_is_sorted_and_stable() -> None:
    text = render(catalog_schema())
    assert text == render(json.loads(text)) and text.endswith("}\n")


def _changed(path: tuple[Any, ...], value: Any) -> Any:
    """:data:`RICH` with the value at ``path`` replaced (``None`` at a top-level key: the key removed)."""
    data = _plain(load_yaml(RICH, "rich.yaml"))
    container = data
    for step in path[:-1]:
        container = container[step]
    if value is None and len(path) == 1:
        del container[path[0]]
    elif isinstance(container, list) and path[-1] == len(container):
        container.append(value)
    else:
        container[path[-1]] = value
    return data


@pytest.mark.parametrize("rule", LOADER_ONLY, ids=lambda rule: rule.name)
def test_each_rule_only_the_loader_checks_is_shown(rule: LoaderOnly) -> None:
    """Each difference listed is real: the loader rejects these changes with
    that rule's message, the schema accepts them (and nothing else differs)."""
    examples = LOADER_ONLY_EXAMPLES[rule.name]
    assert examples
    for path, value, environ in examples:
        data = _changed(path, value)
        messages = loader_problems(data, {**ENVIRON, **environ})
        assert messages and all(rule.message.search(m) for m in messages), (path, value, messages)
        assert schema_problems(data, committed()) == [], (path, value)
        assert disagreement(data, committed(), {**ENVIRON, **environ}) is None


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="check-jsonschema is not installed")
def test_check_jsonschema_reads_the_catalog_as_the_loader_does(tmp_path: Path) -> None:
    """The CI line of the README: merge keys resolved, YAML 1.2 scalars (``NO`` a string), a typo caught."""
    good = tmp_path / "catalog.yaml"
    good.write_text(RICH)
    bad = tmp_path / "typo.yaml"
    bad.write_text(RICH.replace("  kind: goods\n", "  kindd: goods\n", 1))
    command = ["check-jsonschema", "--schemafile", str(COMMITTED)]
    assert subprocess.run([*command, str(good)], capture_output=True, text=True).returncode == 0
    result = subprocess.run([*command, str(bad)], capture_output=True, text=True)
    assert result.returncode == 1 and "kindd" in result.stdout
