from reconciler.catalog.load import build_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.errors import ProviderError
from reconciler.plan import build_plan

G1, G2, G3, G4 = ("1" * 22, "2" * 22, "3" * 22, "4" * 22)
U = "U" * 22


def catalog(exclusive: bool = False):  # type: ignore[no-untyped-def]
    text = f"""products:
  - code: A
    cobuilder:
      id: 10
      exclusive: {str(exclusive).lower()}
      properties:
        - {{propertyGuid: "{G1}", unitGuid: {U}, values: [{{value: "1"}}, {{value: "2"}}]}}
        - {{propertyGuid: "{G2}", unitGuid: {U}, values: [{{value: "new"}}]}}
        - {{propertyGuid: "{G3}", unitGuid: {U}, values: [{{value: "x"}}]}}
        - {{propertyGuid: "{G4}", unitGuid: {U}, values: [{{value: "inherited"}}]}}
"""
    return build_catalog(load_yaml(text, "c.yaml"), "c.yaml", "d")


def prop(guid: str, values: list, parent: int = 0) -> dict:  # type: ignore[type-arg]
    return {"propertyGuid": guid, "unitGuid": U, "propertyTitle": "T", "unitTitle": "u", "parentId": parent,
            "values": values}


LIVE = {10: [
    # same values, other order, with server-filled nulls and empty lists: unchanged
    prop(G1, [{"value": "2", "operator": None, "ifdValues": [], "valueTranslations": []},
              {"value": "1", "lowerValue": None}]),
    prop(G3, [{"value": "old"}]),                    # changed -> update
    prop(G4, [{"value": "from parent"}], parent=9),  # inherited -> note
    prop("5" * 22, [{"value": "own, undeclared"}]),  # deleted only when exclusive
]}


def test_create_update_unchanged_and_inherited_note() -> None:
    plan = build_plan(catalog(), {"cobuilder": LIVE})
    actions = [(c.action, c.resource_id) for c in plan.changes]
    assert actions == [("create", "10"), ("update", "10")]
    create, update = plan.changes
    assert create.body == {"properties": [{"propertyGuid": G2, "unitGuid": U, "values": [{"value": "new"}]}]}
    assert update.body == {"properties": [{"propertyGuid": G3, "unitGuid": U, "values": [{"value": "x"}]}]}
    # one product, updated (its property values); the properties are counted apart
    assert plan.counts == {"create": 0, "update": 1, "delete": 0, "unchanged": 0, "unmanaged": 0,
                           "properties_create": 1, "properties_update": 1, "properties_delete": 0,
                           "properties_unchanged": 1}
    assert len(plan.notes) == 1 and "inherited from parent product 9" in plan.notes[0]


def test_exclusive_deletes_own_undeclared_but_never_inherited() -> None:
    plan = build_plan(catalog(exclusive=True), {"cobuilder": LIVE})
    deletes = [c for c in plan.changes if c.action == "delete"]
    assert [c.body for c in deletes] == [{"propertyGuid": "5" * 22}]


def test_unreadable_product_is_a_plan_error() -> None:
    plan = build_plan(catalog(), {"cobuilder": {10: ProviderError("cobuilder", "Not Found: no product 10", 404)}})
    assert not plan.changes and "Cobuilder product 10" in plan.errors[0].message
    assert "Not Found" in plan.errors[0].message


def test_documented_get_shape_string_parent_id_and_answer_only_keys() -> None:
    """The portal's GET shape: ``parentId`` a string when inherited (``"111111"``);
    ``0``, ``"0"`` and null are the product's own; ``valueGuid``, ``dataType`` and
    the default titles are not compared (only what the request model sets is)."""
    def documented(guid: str, values: list, parent: object) -> dict:  # type: ignore[type-arg]
        return {**prop(guid, [{**v, "valueGuid": "V" * 22, "dataType": "string"} for v in values]),
                "propertyDefaultTitle": "T", "unitDefaultTitle": "u", "parentId": parent}
    live = {10: [documented(G1, [{"value": "1"}, {"value": "2"}], "0"),
                 documented(G2, [{"value": "new"}], None),
                 documented(G3, [{"value": "x"}], 0),
                 documented(G4, [{"value": "from parent"}], "111111"),
                 documented("5" * 22, [{"value": "own"}], "0")]}
    plan = build_plan(catalog(exclusive=True), {"cobuilder": live})
    assert [(c.action, c.body) for c in plan.changes] == [("delete", {"propertyGuid": "5" * 22})]
    assert plan.counts["properties_unchanged"] == 3
    assert len(plan.notes) == 1 and "inherited from parent product 111111" in plan.notes[0]
