"""Terraform-like text plans."""
import click

from reconciler.plan.model import Change, FieldChange, Plan
from reconciler.render.text import render_plan


def test_values_only_product_has_the_update_marker_and_deletes_say_what_goes() -> None:
    p = Plan((Change("cobuilder", "update", "PANEL", "7", (FieldChange("g" * 22, [{"value": "5"}], [{"value": "6"}]),),
                     {"properties": [{"propertyGuid": "g" * 22}]}),
              Change("readycloud", "delete", "OLD-1", "4", live={"code": "OLD-1", "description": "Discontinued item",
                                                                 "unit_price": "1.00 USD"})),
             properties_unchanged=0, notes=("a note",))
    styled = render_plan(p)
    assert click.style("  note: a note", dim=True) in styled  # notes are shown quietly
    out = click.unstyle(styled)
    assert "\n  ~ product PANEL\n    ~ property values of PANEL (Cobuilder product 7)\n" in out
    assert ("  - product OLD-1 (readycloud, id 4)\n      code:        \"OLD-1\"\n"
            "      description: \"Discontinued item\"\n      unit_price:  \"1.00 USD\"\n") in out
    assert out.endswith("Plan: 0 to create, 1 to update, 1 to delete, 0 unchanged.\n"
                        "      Cobuilder properties: 0 to add, 1 to change, 0 to delete, 0 unchanged.")
