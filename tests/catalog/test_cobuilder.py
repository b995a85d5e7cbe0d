from pathlib import Path

import pytest

from reconciler.catalog.load import load_catalog
from reconciler.errors import CatalogError
from reconciler.vendors.cobuilder.catalog import entry_of, settings_of as cb_settings_of
from reconciler.vendors.readycloud.catalog import manages

G = "2bHQbU5wD0o8dSnz0QYp9X"
U = "0Rb7Jp3V1hXQ2rZy8yP4kF"


def problems(tmp_path: Path, text: str) -> str:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    return "\n".join(str(p) for p in info.value.problems)


def test_valid_cobuilder_product(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(f"""cobuilder:
  token_url: https://auth.cobuilder.com/token
products:
  - code: A
    cobuilder:
      id: 1000000
      exclusive: true
      properties:
        - propertyGuid: {G}
          unitGuid: {U}
          values:
            - value: "30"
            - {{lowerValue: "10", lowerOperator: ">=", upperValue: "20", upperOperator: "<="}}
""")
    catalog = load_catalog(path)
    spec = catalog.products[0]
    assert not manages(spec)
    entry, settings = entry_of(spec), cb_settings_of(catalog)
    assert entry is not None and entry.id == 1000000 and entry.exclusive
    assert entry.properties[0].values[1]["upperOperator"] == "<="
    assert settings is not None and settings.token_url == "https://auth.cobuilder.com/token"


def test_schema_errors_name_line_and_path(tmp_path: Path) -> None:
    text = problems(tmp_path, f"""products:
  - code: A
    cobuilder:
      id: 7
      properties:
        - propertyGuid: too-short
          unitGuid: {U}
          values:
            - value: 30
            - {{valu: "x"}}
            - value: "{'x' * 2001}"
        - unitGuid: {U}
          values: []
  - code: B
    cobuilder: {{id: 7, properties: []}}
""")
    assert ":6: products[0].cobuilder.properties[0].propertyGuid: 'too-short' is not a GUID" in text
    assert ":9: products[0].cobuilder.properties[0].values[0].value: value is a number; quote it (value: \"30\")" in text
    assert ":10: products[0].cobuilder.properties[0].values[1].valu: unknown key 'valu' (did you mean 'value'?)" in text
    assert ":11: products[0].cobuilder.properties[0].values[2].value: value is 2001 characters long" in text
    assert "products[0].cobuilder.properties[1]: missing required key 'propertyGuid'" in text
    assert ":15: products[1].cobuilder: Cobuilder product 7 is already used by product 'A'" in text


def test_bad_ifd_guid(tmp_path: Path) -> None:
    text = problems(tmp_path, f"""products:
  - code: A
    cobuilder:
      id: 7
      properties:
        - propertyGuid: {G}
          unitGuid: {U}
          values:
            - ifdValues: [{{valueGuid: "has space in it 12345678"}}]
""")
    assert "ifdValues[0].valueGuid: 'has space in it 12345678' is not a GUID" in text


def test_guid_with_a_trailing_newline_is_not_a_guid(tmp_path: Path) -> None:
    text = problems(tmp_path, f"""products:
  - code: A
    cobuilder:
      id: 7
      properties:
        - propertyGuid: "{G}\\n"
          unitGuid: {U}
          values: [{{value: "1"}}]
""")
    assert ":6: products[0].cobuilder.properties[0].propertyGuid: '" + G + "\\n' is not a GUID" in text


def test_a_quoted_id_does_not_hide_the_entry_s_other_problems(tmp_path: Path) -> None:
    text = problems(tmp_path, f"""products:
  - code: A
    cobuilder:
      id: "1000"
      exclusive: maybe
      properties:
        - {{propertyGuid: too-short, unitGuid: {U}, values: []}}
""")
    assert ":4: products[0].cobuilder.id: the Cobuilder product id is a number: write it without quotes (id: 1000)" \
        in text
    assert ":5: products[0].cobuilder.exclusive: expected true or false, got string" in text
    assert ":7: products[0].cobuilder.properties[0].propertyGuid: 'too-short' is not a GUID" in text
