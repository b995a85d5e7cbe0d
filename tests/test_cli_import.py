"""`reconciler import` against the sandbox over real HTTP: the round trip
(plan of an imported catalog shows no change), --select, -c CATALOG (only
what it does not declare), Cobuilder own-vs-inherited values, and errors."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml_rs

from reconciler.catalog import fastyaml
from reconciler.catalog.load import Source, build, load_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.sandbox import Sandbox

from tests.catalog.test_dump import TRICKY, same

#: live products holding every kind of value ReadyCloud can: numeric-looking
#: codes, YAML 1.1 words, ':' and '#', '- ', unicode, multi-line text, nulls,
#: zeros, nested custom fields, date-times
SEED = [
    {"code": "007", "kind": "goods", "description": "NO", "quantity": 0, "unit_price": "0.00 USD"},
    {"code": "12345", "kind": "tax", "description": "yes", "ean": "012345", "isbn": "1e3"},
    {"code": "true", "kind": "discount", "description": "null", "part_number": "0o17", "joint_production": False},
    {"code": "NO", "kind": "adjustment", "description": "a: b # not a comment", "pick_location": "- shelf 3"},
    {"code": "ünï-日本", "kind": "goods", "description": "Größe: XL — 😀", "origin_country_code": "NO"},
    {"code": "MULTI", "kind": "goods", "description": "line one\n  indented: two\nthree\n",
     "link": "https://example.com/a?b=c#d"},
    {"code": "NULLS", "kind": None, "description": None, "quantity": None, "custom_fields": {}},
    {"code": "DATES", "kind": "goods", "net_cost_begin_date": "2014-10-10T08:49:50+02:00",
     "net_cost_end_date": "2030-01-01T00:00:00.123456Z", "unit_weight": "0 g"},
    {"code": "NESTED", "kind": "goods", "custom_fields": {
        "NO": {"value": "yes", "type": "null"},
        "size": {"value": {"w": 0, "h": 1.5, "tags": ["007", None, True, {"deep": "- x"}]}},
        "empty": {"value": None},
        "007": {"value": 7}}},
    *[{"code": f"T{i:03}", "kind": "goods", "description": text} for i, text in enumerate(TRICKY)],
]


def imported(run, path: Path, *args: str) -> str:  # type: ignore[no-untyped-def]
    done = run("import", *args, "-o", str(path))
    assert done.code == 0, done.err
    assert f"to {path}" in done.err
    return path.read_text()


def test_round_trip_of_every_kind_of_value(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, SEED)
    path = tmp_path / "catalog.yaml"
    text = imported(run, path, "--org", "1")
    assert text.startswith("# Catalog imported from ReadyCloud") and "readycloud:\n  org: 1\n" in text
    # both parsers read the file alike, and the two loading paths make the same catalog
    pyyaml, rust = load_yaml(text, "c.yaml"), yaml_rs.loads(text, parse_datetime=False)
    assert same(pyyaml, rust)
    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "catalog.v1.json").read_text())
    jsonschema.validate(json.loads(json.dumps(pyyaml)), schema)  # (what editors and CI check catalogs with)
    fast = load_catalog(str(path))
    slow = build(Source(str(path), "d", text))  # (not parsed by the fast path: PyYAML)
    assert [(p.code, dict(p.fields)) for p in fast.products] == [(p.code, dict(p.fields)) for p in slow.products]
    assert len(fast.products) == len(SEED)
    # what the server owns, and nulls, are not written
    assert not any(key in p for p in pyyaml["products"] for key in ("url", "created_at", "updated_at", "source"))
    nulls = next(p for p in fast.products if p.code == "NULLS")
    assert dict(nulls.fields) == {"code": "NULLS", "description": None}  # (one null: its entry manages it)
    # and the plan against the state it came from shows no change
    planned = run("plan", "-c", str(path), "--detailed-exitcode")
    assert planned.code == 0, planned.out + planned.err
    assert "No changes." in planned.out and f"{len(SEED)} unchanged" in planned.out


def test_the_fast_parser_takes_an_ordinary_import(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": f"P{i}", "kind": "goods", "description": f"Product {i}", "quantity": i,
                             "unit_price": "5.00 USD", "net_cost_begin_date": "2014-10-10T06:49:50Z",
                             "custom_fields": {"Color": {"value": "black"}}} for i in range(3)])
    text = imported(run, tmp_path / "c.yaml", "--org", "1")
    parsed, data = fastyaml.parse_fast(text)
    assert parsed and same(data, load_yaml(text, "c.yaml"))


def test_select_keeps_matching_codes(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": c, "kind": "goods"} for c in ("SHIRT-1", "SHIRT-2", "MUG-1", "CAP-1")])
    done = run("import", "--org", "1", "--select", "SHIRT-*", "--select", "CAP-?", "--select", "SHRIT-*")
    assert done.code == 0 and "note: --select 'SHRIT-*' matched no product" in done.err
    assert [p["code"] for p in load_yaml(done.out, "c.yaml")["products"]] == ["SHIRT-1", "SHIRT-2", "CAP-1"]
    assert "# 3 products imported." in done.out


def test_standard_output_and_the_sandbox_flag(run, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    done = run("import", "--org", "1", "--sandbox")
    assert done.code == 0, done.err
    data = load_yaml(done.out, "stdout")
    assert done.out.startswith("# Catalog imported from org 1 of the sandbox (.reconciler/sandbox.sqlite3)\n")
    assert data["readycloud"] == {"org": 1} and "LEGACY-UNMANAGED" in [p["code"] for p in data["products"]]
    Path("catalog.yaml").write_text(done.out)
    assert "No changes." in run("plan", "--sandbox").out


CATALOG = """readycloud: {org: 1}
products:
    -   code: A
        kind: goods
    -   code: ONLY-COBUILDER
        cobuilder: {id: 900}
# the end of the list
notify: {}
"""


def test_catalog_import_writes_only_the_unmanaged_ready_to_append(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods"}, {"code": "B", "kind": "tax", "description": "NO"},
                            {"code": "C-1", "kind": "goods", "quantity": 0}, {"code": "ONLY-COBUILDER", "kind": "goods"},
                            {"code": "X", "kind": "goods"}])
    env.seed_cobuilder(900, [])
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG.replace("notify: {}\n", ""))
    planned = run("plan", "-c", str(path), "--format", "json")
    assert '"unmanaged": [\n    "B",\n    "C-1",\n    "ONLY-COBUILDER",\n    "X"\n  ]' in planned.out
    done = run("import", "-c", str(path), "--select", "[BCO]*")
    assert done.code == 0, done.err
    assert "ONLY-COBUILDER: declared in the catalog without ReadyCloud fields; not imported" in done.err
    assert "after line 6 of" in done.out and "\n    -   code: B\n" not in done.out
    assert [p["code"] for p in load_yaml(done.out, "o")] == ["B", "C-1"]  # (X left out by --select)
    assert "\n    - code: B\n      kind: tax\n      description: 'NO'\n" in done.out  # (indented as the list)
    path.write_text(path.read_text() + done.out)
    assert fastyaml.parse_fast(path.read_text())[0]  # (what import adds keeps the file on the fast path)
    again = run("plan", "-c", str(path), "--detailed-exitcode", "--show-unmanaged")
    assert again.code == 0, again.out + again.err
    assert "Plan: 0 to create, 0 to update, 0 to delete, 4 unchanged, 2 unmanaged." in again.out
    assert "\n  ONLY-COBUILDER\n  X\n" in again.out


def test_catalog_import_mid_file_and_into_a_directory(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods"}, {"code": "B", "kind": "goods", "quantity": 3}])
    env.seed_cobuilder(900, [])
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    done = run("import", "-c", str(path))
    assert "after line 6 of" in done.out  # (the list is followed by other keys: where to insert)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:6]) + done.out + "".join(lines[6:]))
    assert run("plan", "-c", str(path), "--detailed-exitcode").code == 0
    directory = tmp_path / "dir"
    directory.mkdir()
    (directory / "main.yaml").write_text("readycloud: {org: 1}\nproducts:\n  - {code: A, kind: goods}\n")
    done = run("import", "-c", str(directory))
    assert done.code == 0 and "\nproducts:\n- code: B\n" in done.out
    (directory / "imported.yaml").write_text(done.out)
    assert run("plan", "-c", str(directory), "--detailed-exitcode").code == 0


U = "NoUnitGuid000000000001"
OWN, CHANGED, INHERITED = "OwnPropertyGuid0000001", "OwnPropertyGuid0000002", "InheritedFromParent001"


def test_cobuilder_ids_import_own_values_and_leave_inherited_ones_out(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods"}, {"code": "B", "kind": "goods"}, {"code": "C", "kind": "goods"}])
    env.seed_cobuilder(100, [{"propertyGuid": INHERITED, "unitGuid": U, "values": [{"value": "from parent"}]}])
    env.seed_cobuilder(200, [
        {"propertyGuid": OWN, "unitGuid": U, "values": [{"value": "NO"}, {"value": "007"}]},
        {"propertyGuid": CHANGED, "unitGuid": U, "values": [
            {"lowerValue": "10", "lowerOperator": ">=", "upperValue": "20", "upperOperator": "<=",
             "valueTranslations": [{"text": "dix: #1", "languageCode": "fr"}]}]}], parent_id=100)
    ids = tmp_path / "ids.csv"
    ids.write_text("code,cobuilder_id\nA,200\n\nZ,300\n")
    path = tmp_path / "c.yaml"
    done = run("import", "--org", "1", "--cobuilder-ids", str(ids), "-o", str(path))
    assert done.code == 0, done.err
    assert f"{ids}: 1 code not among the imported products: 'Z' (line 4)" in done.err
    text = path.read_text()
    products = {p["code"]: p for p in load_yaml(text, "c")["products"]}
    assert products["A"]["cobuilder"]["id"] == 200 and "cobuilder" not in products["B"]
    assert [p["propertyGuid"] for p in products["A"]["cobuilder"]["properties"]] == [OWN, CHANGED]
    assert INHERITED not in text and "propertyTitle" not in text and "parentId" not in text
    planned = run("plan", "-c", str(path), "--detailed-exitcode")
    assert planned.code == 0, planned.out + planned.err
    assert "Cobuilder properties: 0 to add, 0 to change, 0 to delete, 2 unchanged." in planned.out


def test_cobuilder_ids_codes_are_taken_exactly_as_written(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A live code with surrounding spaces can be listed (CSV keeps spaces,
    quoted or not; README, Import); the id is a number and may be padded."""
    env.seed_readycloud(1, [{"code": " A", "kind": "goods"}, {"code": "B ", "kind": "goods"},
                            {"code": "C", "kind": "goods"}])
    for number in (200, 201, 202):
        env.seed_cobuilder(number, [{"propertyGuid": OWN, "unitGuid": U, "values": [{"value": str(number)}]}])
    ids = tmp_path / "ids.csv"
    ids.write_text('" A", 200\nB ,201\nC , 202\n')
    path = tmp_path / "c.yaml"
    done = run("import", "--org", "1", "--cobuilder-ids", str(ids), "-o", str(path))
    assert done.code == 0, done.err
    assert f"{ids}: 1 code not among the imported products: 'C ' (line 3)" in done.err
    products = {p["code"]: p for p in load_yaml(path.read_text(), "c")["products"]}
    assert (products[" A"]["cobuilder"]["id"], products["B "]["cobuilder"]["id"]) == (200, 201)
    assert "cobuilder" not in products["C"]


def test_bad_ids_files_name_file_and_line(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = tmp_path / "ids.csv"
    ids.write_text("A,200\nB,x2\nC\nA,201\nD,200\n,5\n")
    out = tmp_path / "never.yaml"
    done = run("import", "--org", "1", "--cobuilder-ids", str(ids), "-o", str(out))
    assert done.code == 1 and not out.exists() and env.requests() == []
    assert done.err.startswith(f"Error: {ids} is invalid (5 problems):\n")
    for expected in (f"{ids}:2: cobuilder_id: 'x2' is not a Cobuilder product id (a positive integer)",
                     f"{ids}:3: expected 2 columns (code,cobuilder_id), found 1",
                     f"{ids}:4: code 'A' is listed twice (first on line 1)",
                     f"{ids}:5: cobuilder_id 200 is listed twice (for 'A' on line 1)",
                     f"{ids}:6: the code is empty"):
        assert expected in done.err
    ids.write_text("A,\u0663\u0660\u0660\nB,\u00b2\nC," + "9" * 5000 + "\n", encoding="utf-8")
    done = run("import", "--org", "1", "--cobuilder-ids", str(ids), "-o", str(out))
    assert done.code == 1 and done.err.startswith(f"Error: {ids} is invalid (3 problems):\n")
    for line, text in ((1, "'\u0663\u0660\u0660'"), (2, "'\u00b2'"), (3, "'999")):  # (Arabic-Indic 300 is not 300)
        assert f"{ids}:{line}: cobuilder_id: {text}" in done.err
    assert "is not a Cobuilder product id (a positive integer)" in done.err and "int()" not in done.err
    assert "limit" not in done.err
    missing = run("import", "--org", "1", "--cobuilder-ids", str(tmp_path / "nope.csv"))
    assert missing.code == 1 and "nope.csv: cannot read: No such file or directory" in missing.err


def test_an_ids_file_that_is_not_utf8_names_its_line(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The decoder's byte position said nothing a user could find; the
    line does. A byte order mark is still fine, and \r ends a line too."""
    ids = tmp_path / "ids.csv"
    ids.write_bytes("\ufeffcode,cobuilder_id\rA,200\r\nCaf\u00e9,201\n".encode("utf-8")
                    + "Gr\u00f6\u00dfe,202\n".encode("latin-1"))
    out = tmp_path / "never.yaml"
    done = run("import", "--org", "1", "--cobuilder-ids", str(ids), "-o", str(out))
    assert done.code == 1 and not out.exists() and env.requests() == []
    assert done.err == f"Error: {ids}:4: not UTF-8 (byte 0xf6); the file must be UTF-8\n"
    env.seed_readycloud(1, [{"code": "A", "kind": "goods"}])
    env.seed_cobuilder(200, [{"propertyGuid": OWN, "unitGuid": U, "values": [{"value": "x"}]}])
    ids.write_bytes(ids.read_bytes()[:-len("Gr\u00f6\u00dfe,202\n".encode("latin-1"))])
    done = run("import", "--org", "1", "--cobuilder-ids", str(ids), "-o", str(out))
    assert done.code == 0 and "'Caf\u00e9' (line 3)" in done.err, done.err


def test_http_errors_and_usage_errors_are_one_message(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": f"P{i}", "kind": "goods"} for i in range(250)])
    env.inject({"status": 404, "method": "GET", "count": None})
    out = tmp_path / "c.yaml"
    done = run("import", "--org", "7", "-o", str(out))
    assert done.code == 1 and not out.exists()
    assert done.err.startswith("Error: readycloud: HTTP 404: ") and "is the org right" in done.err
    env.clear_faults()
    env.inject({"status": 400, "method": "GET", "skip": 1})  # the second page fails: nothing is written
    done = run("import", "--org", "1", "-o", str(out))
    assert done.code == 1 and not out.exists() and "Traceback" not in done.err
    env.clear_faults()
    env.inject({"status": 400, "method": "GET", "skip": 1})
    cut = run("import", "--org", "1")  # (on standard output the first page is out before the second fails)
    assert cut.code == 1 and "- code: P0\n" in cut.out and "products imported" not in cut.out
    assert cut.out.endswith("# The import failed here (its error was on stderr): the products after this point "
                            "are missing.\nimport_incomplete: run the import again\n")
    out.write_text(cut.out)  # (as `> catalog.yaml` keeps it: a plan of it is an error, never 100 unmanaged)
    planned = run("plan", "-c", str(out))
    assert planned.code == 1 and f"{out}:{cut.out.count(chr(10))}: import_incomplete: unknown key" in planned.err
    out.unlink()
    env.clear_faults()
    empty = run("import", "--org", "2")
    assert empty.code == 0 and "note: org 2 has no products (is the org right?)" in empty.err
    assert "products:\n# 0 products imported." in empty.out
    both = run("import", "--org", "1", "-c", str(out))
    neither = run("import")
    assert both.code == neither.code == 1 and "give --org N (a new catalog) or -c CATALOG" in neither.err


def test_values_a_catalog_cannot_hold_as_they_are_are_left_out_and_told(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "ENV", "kind": "goods", "description": "cost ${PRICE}", "quantity": 2},
                            {"code": "ENVCODE-${X}", "kind": "goods"}])
    path = tmp_path / "c.yaml"
    done = run("import", "--org", "1", "-o", str(path))
    assert done.code == 0, done.err
    assert "note: ENV: description holds '${...}', which a catalog reads from the environment; left out" in done.err
    assert "ENVCODE-${X}: the code holds '${...}'" in done.err
    assert [dict(p.fields) for p in load_catalog(str(path)).products] == [{"code": "ENV", "kind": "goods",
                                                                           "quantity": 2}]
    planned = run("plan", "-c", str(path), "--detailed-exitcode")
    assert planned.code == 0 and "1 unchanged, 1 unmanaged" in planned.out
    assert "TOKEN" not in path.read_text() and "rc-test-token" not in path.read_text() + done.err


def test_show_of_a_saved_plan_lists_the_unmanaged_codes_when_asked(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods"}, {"code": "LIVE-ONLY", "kind": "goods"}])
    path = tmp_path / "c.yaml"
    path.write_text("readycloud: {org: 1}\nproducts:\n  - {code: A, kind: goods}\n")
    saved = tmp_path / "plan.json"
    assert run("plan", "-c", str(path), "--out", str(saved)).code == 0
    assert "LIVE-ONLY" not in run("show", str(saved)).out
    shown = run("show", str(saved), "--show-unmanaged", "--format", "markdown")
    assert shown.code == 0 and "- <code>LIVE-ONLY</code>" in shown.out


def test_fields_the_catalog_calls_sensitive_are_not_written(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods"},
                            {"code": "B", "kind": "goods", "description": "secret-3c9d", "quantity": 1}])
    path = tmp_path / "c.yaml"
    path.write_text("readycloud: {org: 1}\nsensitive: [description]\nproducts:\n  - {code: A, kind: goods}\n")
    done = run("import", "-c", str(path))
    assert done.code == 0 and "secret-3c9d" not in done.out + done.err
    assert "note: description not written: the catalog lists them under sensitive:" in done.err
    path.write_text(path.read_text() + done.out)
    assert run("plan", "-c", str(path), "--detailed-exitcode").code == 0


def test_import_streams_each_page_as_it_arrives(env: Sandbox) -> None:
    import os

    from reconciler import importer

    env.seed_readycloud(1, [{"code": f"P{i:04}", "kind": "goods"} for i in range(1000)])
    env.clear_requests()
    listed_when_written: list[int] = []

    written: list[str] = []

    class Out:
        def write(self, text: str) -> None:
            if text.startswith("- code:"):
                listed_when_written.append(len(env.requests()))
            written.append(text)

    report = importer.import_org(1, Out(), environ={**os.environ, "READYCLOUD_PAGE_SIZE": "10"})  # type: ignore[arg-type]
    assert report.products == 1000 and len(listed_when_written) == 100
    assert listed_when_written[0] <= 4  # the first page was written while the other 96+ were still to come
    text = "".join(written)
    assert text.endswith("\n# 1000 products imported.\n")
    parsed, data = fastyaml.parse_fast(text)  # (comments included: the prescan reads them too)
    assert parsed and len(data["products"]) == 1000


def test_a_cobuilder_product_that_cannot_be_read_fails_the_import(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods"}])
    ids = tmp_path / "ids.csv"
    ids.write_text("A,404404\n")
    out = tmp_path / "c.yaml"
    done = run("import", "--org", "1", "--cobuilder-ids", str(ids), "-o", str(out))
    assert done.code == 1 and not out.exists()
    assert done.err.startswith("Error: cobuilder: HTTP 404: product 404404 (code A): cannot read its property values")


def test_apply_shows_the_unmanaged_codes_when_asked(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods"}, {"code": "LIVE-ONLY", "kind": "goods"}])
    path = tmp_path / "c.yaml"
    path.write_text("readycloud: {org: 1}\nproducts:\n  - {code: A, kind: tax}\n")
    done = run("apply", "-c", str(path), "--auto-approve", "--show-unmanaged")
    assert done.code == 0 and "\n  LIVE-ONLY\n" in done.out


def test_import_shows_progress_and_keeps_the_vendor_s_pace(env: Sandbox) -> None:
    import os
    import time
    from io import StringIO

    from reconciler import importer

    class Recorder:
        def __init__(self) -> None:
            self.tasks: list[list] = []  # type: ignore[type-arg]

        def task(self, label: str, total: int | None = None, eta_hint: float | None = None):  # type: ignore[no-untyped-def]
            record = [label, total, eta_hint, 0, False]
            self.tasks.append(record)

            class Task:
                def advance(self, n: int = 1) -> None:
                    record[3] += n

                def set_total(self, total: int) -> None:
                    record[1] = total

                def close(self) -> None:
                    record[4] = True
            return Task()

    env.seed_readycloud(1, [{"code": f"P{i:03}", "kind": "goods"} for i in range(250)])
    progress = Recorder()
    started = time.monotonic()
    report = importer.import_org(1, StringIO(), environ={**os.environ, "READYCLOUD_MAX_RPM": "600"},
                                 progress=progress)
    assert report.products == 250
    assert progress.tasks == [["Reading ReadyCloud products (pages)", 3, pytest.approx(0.2, abs=0.05), 3, True]]
    assert time.monotonic() - started >= 0.18  # three reads at 600 a minute: 0.1 s apart


def test_products_prune_would_delete_are_not_unmanaged_and_are_said(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": c, "kind": "goods"} for c in ("SHOP-1", "SHOP-2", "OTHER-1")])
    path = tmp_path / "c.yaml"
    path.write_text('readycloud: {org: 1}\npolicy: {prune: true, scope: ["SHOP-*"]}\n'
                    "products:\n  - {code: SHOP-1, kind: goods}\n")
    done = run("import", "-c", str(path))
    assert done.code == 0 and [p["code"] for p in load_yaml(done.out, "o")] == ["OTHER-1"]
    assert "note: 1 live product in policy.prune's scope (e.g. 'SHOP-2') is planned for deletion, not imported" \
        in done.err


def test_out_replaces_only_regular_files_keeps_links_and_modes_and_names_what_it_cannot_write(
        env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat

    env.seed_readycloud(1, [{"code": "A", "kind": "goods"}])
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)  # (like /dev/null or /dev/stdout: never to be swapped for a file)
    done = run("import", "--org", "1", "-o", str(pipe))
    assert done.code == 1 and f"Error: {pipe} is not a regular file" in done.err
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    real = tmp_path / "real.yaml"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "catalog.yaml"
    link.symlink_to(real.name)
    assert run("import", "--org", "1", "-o", str(link)).code == 0
    assert link.is_symlink() and "- code: A\n" in real.read_text()  # (the link kept, its target written)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    umask = os.umask(0o027)
    try:
        assert run("import", "--org", "1", "-o", str(tmp_path / "new.yaml")).code == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o640  # (as the umask says, not 0600)
    blocked = tmp_path / "real.yaml" / "c.yaml"  # (under a file: no directory can be made)
    done = run("import", "--org", "1", "-o", str(blocked))
    assert done.code == 1 and done.err.startswith(f"Error: cannot write {blocked}: ") and done.err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.yaml", "new.yaml", "pipe", "real.yaml"]


def test_out_may_not_replace_a_file_of_the_catalog_it_reads(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods"}, {"code": "B", "kind": "goods"}])
    path = tmp_path / "catalog.yaml"
    path.write_text("readycloud: {org: 1}\nproducts:\n  - {code: A, kind: goods}\n")
    before = path.read_text()
    done = run("import", "-c", str(path), "-o", str(path))
    assert done.code == 1 and f"Error: -o {path} is a file of the catalog (-c {path})" in done.err
    assert path.read_text() == before and env.requests() == []
    directory = tmp_path / "dir"
    (directory / "sub").mkdir(parents=True)
    (directory / "main.yaml").write_text("readycloud: {org: 1}\n")
    (directory / "sub" / "imported.yaml").write_text("products:\n  - {code: A, kind: goods}\n")
    done = run("import", "-c", str(directory), "-o", str(tmp_path / "dir" / "." / "sub" / "imported.yaml"))
    assert done.code == 1 and "is a file of the catalog" in done.err
    assert "code: A" in (directory / "sub" / "imported.yaml").read_text()
    done = run("import", "-c", str(directory), "-o", str(directory / "sub" / "more.yaml"))  # (a new file: fine)
    assert done.code == 0 and "- code: B\n" in (directory / "sub" / "more.yaml").read_text()
    assert run("plan", "-c", str(directory), "--detailed-exitcode").code == 0


def test_a_product_with_nothing_but_nulls_is_imported_managed_not_counted_unmanaged(
        env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = env.seed_readycloud(1, [{"code": "NULLS", "kind": None}, {"code": "WEIRD", "kind": "goods"},
                                   {"code": "A", "kind": "goods"}])
    from reconciler.vendors.readycloud import contract as rc
    env.set_readycloud_product_raw(1, int(rc.product_pk_from_url(made[1]["url"])), {"kind": "weird"})
    path = tmp_path / "c.yaml"
    done = run("import", "--org", "1", "-o", str(path))
    assert done.code == 0 and "WEIRD: kind left out (not managed)" in done.err
    products = load_yaml(path.read_text(), "c")["products"]
    assert products[0] == {"code": "NULLS", "description": None}  # (a null written: the entry manages the product)
    assert products[1] == {"code": "WEIRD", "description": None}
    planned = run("plan", "-c", str(path), "--detailed-exitcode")
    assert planned.code == 0 and "Plan: 0 to create, 0 to update, 0 to delete, 3 unchanged." in planned.out
    again = run("import", "-c", str(path))
    assert again.code == 0 and "note:" not in again.err and "# 0 live products" in again.out


def test_an_ids_file_that_csv_cannot_read_names_its_line(env: Sandbox, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = tmp_path / "ids.csv"
    ids.write_text("A,200\nB,201\nC," + "x" * 200_000 + "\nD,203\n")
    done = run("import", "--org", "1", "--cobuilder-ids", str(ids), "-o", str(tmp_path / "never.yaml"))
    assert done.code == 1 and env.requests() == []
    assert done.err == f"Error: {ids}:3: not a CSV line (field larger than field limit (131072))\n"
