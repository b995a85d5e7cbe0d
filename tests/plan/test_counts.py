"""Plan counts: each product once, whatever vendors its changes are for;
Cobuilder properties counted apart."""
from reconciler.catalog.load import build_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.plan import build_plan
from reconciler.plan.select import Selection

U = "U" * 22
G1, G2, G3 = "1" * 22, "2" * 22, "3" * 22


def prop(guid: str, value: str) -> str:
    return f'{{propertyGuid: "{guid}", unitGuid: {U}, values: [{{value: "{value}"}}]}}'


CATALOG = f"""readycloud: {{org: 1}}
cobuilder: {{}}
products:
  - code: BOTH                      # ReadyCloud and two Cobuilder properties change: one product updated
    kind: goods
    quantity: 2
    cobuilder: {{id: 1, exclusive: true, properties: [{prop(G1, "new")}, {prop(G2, "added")}]}}
  - code: VALUES-ONLY               # ReadyCloud unchanged, a Cobuilder property changes: updated
    kind: goods
    quantity: 1
    cobuilder: {{id: 2, properties: [{prop(G1, "new")}, {prop(G3, "same")}]}}
  - code: COBUILDER-ONLY            # no ReadyCloud fields, values unchanged: unchanged, counted once
    cobuilder: {{id: 3, properties: [{prop(G1, "same")}, {prop(G2, "same")}]}}
  - code: NEW                       # created in ReadyCloud with a property: one product created
    kind: goods
    cobuilder: {{id: 4, properties: [{prop(G1, "x")}]}}
  - code: SAME                      # unchanged
    kind: goods
  - code: GONE
    absent: true
"""
RC = {"BOTH": [{"code": "BOTH", "kind": "goods", "quantity": 1, "url": "/api/v2/orgs/1/products/1/"}],
      "VALUES-ONLY": [{"code": "VALUES-ONLY", "kind": "goods", "quantity": 1, "url": "/api/v2/orgs/1/products/2/"}],
      "SAME": [{"code": "SAME", "kind": "goods", "url": "/api/v2/orgs/1/products/3/"}],
      "GONE": [{"code": "GONE", "kind": "goods", "description": "Old", "url": "/api/v2/orgs/1/products/4/"}]}
COBUILDER = {1: [{"propertyGuid": G1, "unitGuid": U, "values": [{"value": "old"}]},
                 {"propertyGuid": G3, "unitGuid": U, "values": [{"value": "undeclared"}]}],
             2: [{"propertyGuid": G1, "unitGuid": U, "values": [{"value": "old"}]},
                 {"propertyGuid": G3, "unitGuid": U, "values": [{"value": "same"}]}],
             3: [{"propertyGuid": G1, "unitGuid": U, "values": [{"value": "same"}]},
                 {"propertyGuid": G2, "unitGuid": U, "values": [{"value": "same"}]}],
             4: []}


def plan(selection: Selection = Selection()):  # type: ignore[no-untyped-def]
    return build_plan(build_catalog(load_yaml(CATALOG, "c.yaml"), "c.yaml", "d"), {"readycloud": RC, "cobuilder": COBUILDER}, selection)


def test_products_are_counted_once_and_properties_apart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reconciler.plan import planfile

    made = plan()
    planfile.save(made, tmp_path / "plan.json")
    assert planfile.load(tmp_path / "plan.json").plan.counts == made.counts  # a saved plan keeps them
    assert made.counts == {"create": 1, "update": 2, "delete": 1, "unchanged": 2, "unmanaged": 0,
                             "properties_create": 2, "properties_update": 2, "properties_delete": 1,
                             "properties_unchanged": 3}


def test_counts_follow_the_selection() -> None:
    counts = plan(Selection(targets=("COBUILDER-ONLY", "SAME", "VALUES-ONLY"))).counts
    assert (counts["update"], counts["unchanged"], counts["properties_update"]) == (1, 2, 1)

