"""Safety thresholds count each product once, as the plan's counts do."""
from reconciler.catalog.load import build_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.plan import build_plan

U, G1, G2 = "U" * 22, "1" * 22, "2" * 22


def test_deleting_a_product_s_property_values_counts_as_updating_it() -> None:
    catalog = build_catalog(load_yaml(f"""readycloud: {{org: 1}}
cobuilder: {{}}
policy: {{max_update_percent: 10, min_existing: 1}}
products:
  - code: A
    kind: goods
    cobuilder: {{id: 1, exclusive: true, properties: [{{propertyGuid: "{G1}", unitGuid: {U}, values: [{{value: x}}]}}]}}
  - {{code: B, kind: goods}}
""", "c.yaml"), "c.yaml", "d")
    readycloud = {code: [{"code": code, "kind": "goods", "url": f"/api/v2/orgs/1/products/{pk}/"}]
                  for pk, code in enumerate(("A", "B"), 1)}
    cobuilder = {1: [{"propertyGuid": G1, "unitGuid": U, "parentId": 0, "values": [{"value": "x"}]},
                     {"propertyGuid": G2, "unitGuid": U, "parentId": 0, "values": [{"value": "undeclared"}]}]}
    plan = build_plan(catalog, {"readycloud": readycloud, "cobuilder": cobuilder})
    assert [(c.vendor, c.action, c.key) for c in plan.changes] == [("cobuilder", "delete", "A")]
    assert plan.counts["update"] == 1
    assert len(plan.violations) == 1 and plan.violations[0].startswith(
        "max_update_percent: the plan would update 1 of 2 managed live products (50.0%)")
