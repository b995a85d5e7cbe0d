"""${VAR} typed by the field, ${VAR:-default}, and plain_env (issue 14)."""
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.catalog.load import load_catalog
from reconciler.errors import CatalogError
from reconciler.vendors.readycloud.catalog import settings_of as rc_settings_of


def load(tmp_path: Path, text: str, **environ: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return load_catalog(path, environ=environ)


def problems(tmp_path: Path, text: str, **environ: str) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load(tmp_path, text, **environ)
    return [str(p) for p in info.value.problems]


def test_a_whole_var_takes_the_type_of_its_setting(tmp_path: Path) -> None:
    catalog = load(tmp_path, "readycloud: {org: '${RC_ORG}', max_reads_per_minute: '${RPM}'}\n"
                             "policy: {prune: '${PRUNE}', scope: [A*], min_existing: '${MIN}'}\n"
                             "products:\n  - {code: A, quantity: '${QTY}', joint_production: '${JOINT}'}\n",
                   RC_ORG="42", RPM="12.5", PRUNE="true", MIN="3", QTY="7", JOINT="false")
    assert rc_settings_of(catalog) is not None and rc_settings_of(catalog).org == 42
    assert rc_settings_of(catalog).max_reads_per_minute == 12.5
    assert catalog.policy.prune is True and catalog.policy.min_existing == 3
    assert dict(catalog.products[0].fields) == {"code": "A", "quantity": 7, "joint_production": False}


def test_a_var_that_is_not_of_the_fields_type_is_one_problem_with_its_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "readycloud:\n  org: ${RC_ORG}\nproducts:\n  - {code: A, quantity: '${QTY}'}\n",
                     RC_ORG="acme", QTY="many")
    assert len(found) == 2, found
    assert found[0].endswith("catalog.yaml:2: readycloud.org: ${RC_ORG} must be an integer")
    assert "catalog.yaml:4: products[0].quantity: ${QTY} must be an integer" in found[1]
    assert "acme" not in "".join(found) and "many" not in "".join(found)  # values from the environment stay hidden
    assert problems(tmp_path, "readycloud: {org: '${RC_ORG}'}\n") == [
        f"{tmp_path / 'catalog.yaml'}:1: readycloud.org: environment variable RC_ORG is not set"]


def test_a_default_applies_when_the_variable_is_unset_or_empty(tmp_path: Path) -> None:
    text = ("readycloud: {org: '${RC_ORG:-1}', base_url: '${RC_URL:-https://www.readycloud.com/api/v2}'}\n"
            "products:\n  - {code: A, description: 'made in ${REGION:-EU}'}\n")
    unset = load(tmp_path, text)
    assert rc_settings_of(unset) is not None and rc_settings_of(unset).org == 1
    assert unset.products[0].fields["description"] == "made in EU"
    empty = load(tmp_path, text, RC_ORG="", REGION="")
    assert rc_settings_of(empty) is not None and rc_settings_of(empty).org == 1
    assert empty.products[0].fields["description"] == "made in EU"
    set_ = load(tmp_path, text, RC_ORG="9", REGION="US")
    assert rc_settings_of(set_) is not None and rc_settings_of(set_).org == 9
    assert set_.products[0].fields["description"] == "made in US"


def test_plain_env_variables_are_not_sensitive_others_are(tmp_path: Path) -> None:
    text = ("plain_env: [REGION]\nreadycloud: {org: 1}\nproducts:\n"
            "  - {code: A, description: 'shirt for ${REGION}', part_number: '${PN}'}\n")
    product = load(tmp_path, text, REGION="eu", PN="p").products[0]
    assert product.sensitive == frozenset({"part_number"})
    assert load(tmp_path, text.replace("[REGION]", "[]"), REGION="eu", PN="p").products[0].sensitive == \
        frozenset({"description", "part_number"})


def test_plain_env_is_checked(tmp_path: Path) -> None:
    assert problems(tmp_path, "plain_env: REGION\n")[0].endswith(
        "catalog.yaml:1: plain_env: plain_env must be a list of environment variable names, like [REGION, RC_ORG]")
    assert problems(tmp_path, "plain_env:\n  - OK\n  - not-a-name\n")[0].endswith(
        "catalog.yaml:3: plain_env[1]: plain_env names 'not-a-name', which is not an environment variable name")


def test_plain_env_may_not_name_a_variable_that_may_hold_a_secret(tmp_path: Path) -> None:
    import json

    from jsonschema import Draft202012Validator

    from reconciler.catalog.schema import SCHEMA_FILE

    schema = Draft202012Validator(json.loads((Path(__file__).resolve().parents[2] / SCHEMA_FILE).read_text()))
    refused = ["READYCLOUD_TOKEN", "COBUILDER_CLIENT_SECRET", "RECONCILER_PLAN_KEY", "github_token",
               "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "STRIPE_APIKEY", "DATABASE_URL", "SENTRY_DSN", "Auth"]
    for name in refused:
        found = problems(tmp_path, f"plain_env: [REGION, {name}]\n")
        assert len(found) == 1 and found[0].endswith(
            f"catalog.yaml:1: plain_env[1]: plain_env names {name!r}, which by its name may hold a secret (a "
            "token, key, password or URL): its value would be shown in plans and pull-request comments"), found
        assert not schema.is_valid({"plain_env": ["REGION", name]}), name  # (the schema agrees)
    for name in ("REGION", "RC_ORG", "PATH_PREFIX", "MONKEY_BRAND", "COUNTRY"):
        load(tmp_path, f"plain_env: [{name}]\n")  # (no problem)
        assert schema.is_valid({"plain_env": [name]}), name


def test_a_typed_value_too_long_for_an_integer_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    digits = "9" * 5000  # (past Python's int() limit of 4,300 digits)
    found = problems(tmp_path, f"readycloud: {{org: '${{NOPE:-{digits}}}'}}\nproducts: []\n")
    assert len(found) == 1 and len(found[0]) < 400, found
    assert "catalog.yaml:1: readycloud.org: ${NOPE:-999" in found[0] and found[0].endswith("... must be an integer")
    found = problems(tmp_path, f"plain_env: [NOPE]\nreadycloud: {{org: '${{NOPE:-{digits}}}'}}\nproducts: []\n")
    assert len(found) == 1 and found[0].endswith(f"must be an integer (it is '{'9' * 20}'..., 5000 characters)")
    found = problems(tmp_path, "readycloud: {org: '${BIG}'}\nproducts: []\n", BIG=digits)
    assert len(found) == 1 and found[0].endswith("readycloud.org: ${BIG} must be an integer") and digits not in found[0]
