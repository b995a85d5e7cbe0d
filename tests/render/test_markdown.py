from reconciler.plan.model import Change, FieldChange, Plan, PlanIssue
from reconciler.render.markdown import MARKER, render_plan


def plan(n: int, size: int = 300) -> Plan:
    return Plan(tuple(Change("readycloud", "update", f"P{i}", str(i), (FieldChange("description", "a" * size, "b|c"),))
                      for i in range(n)), unchanged=7, unmanaged=2)


def test_small_plan_is_complete_with_counts_first() -> None:
    out = render_plan(plan(3))
    assert out.startswith(MARKER)
    table = out.index("| create | update | delete | unchanged | unmanaged |")
    assert table < out.index("<details>")
    assert "| 0 | 3 | 0 | 7 | 2 |" in out
    assert out.count("<details>") == 3 and "left out" not in out
    assert "<code>&quot;b&#124;c&quot;</code>" in out or '<code>"b&#124;c"</code>' in out


def test_large_plan_is_cut_to_fit_and_says_what_and_where() -> None:
    out = render_plan(plan(400), "the saved plan `plan.json`")
    assert len(out) <= 60_000
    shown = out.count("<details>")
    assert 0 < shown < 400
    assert f"_{400 - shown} of 400 products left out to fit a comment; the full plan is in the saved plan `plan.json`._" in out
    assert "| 0 | 400 | 0 | 7 | 2 |" in out  # summary kept


def test_sensitive_values_hidden() -> None:
    p = Plan((Change("readycloud", "update", "A", "1", (FieldChange("description", "old-secret", "new-secret", True),)),))
    out = render_plan(p)
    assert "secret" not in out and "(sensitive)" in out


def test_thousands_of_errors_and_notes_still_fit() -> None:
    issues = tuple(PlanIssue("readycloud", f"P{i}", f"catalog.yaml:{i}: 'kind' is required to create product "
                             f"'P{i}' (one of goods, discount, tax, adjustment)") for i in range(600))
    p = Plan(plan(50).changes, errors=issues, notes=tuple(f"note {i} " + "x" * 100 for i in range(300)))
    out = render_plan(p, "the saved plan `plan.json`")
    assert len(out) <= 60_000
    assert out.index("| create | update | delete | unchanged | unmanaged |") < out.index(":x: **P0**")
    shown = out.count("> :x: ") + out.count("> note: ")
    assert 0 < shown < 900
    assert f"> {900 - shown} more of 900 errors and notes left out to fit a comment; " \
           "the full plan is in the saved plan `plan.json`." in out
    assert "products left out to fit a comment" in out


def test_cobuilder_only_product_is_an_update_and_deletes_show_what_goes() -> None:
    from reconciler.plan.model import Change as C

    p = Plan((C("cobuilder", "create", "PANEL", "7", (FieldChange("g" * 22, None, [{"value": "60"}]),),
                {"properties": [{"propertyGuid": "g" * 22}]}),
              C("readycloud", "delete", "OLD-1", "4", live={"code": "OLD-1", "description": "Discontinued item",
                                                            "unit_price": "1.00 USD", "quantity": 3})),
             unchanged=1, properties_unchanged=2)
    out = render_plan(p)
    assert "<summary><code>~</code> <b>PANEL</b>" in out
    assert "| - readycloud delete | <code>description</code> | <code>\"Discontinued item\"</code> | |" in out
    assert "| - readycloud delete | <code>unit_price</code> | <code>\"1.00 USD\"</code> | |" in out
    assert "| - readycloud delete | | | |" not in out
    assert "| | 1 | 0 | 0 | 2 |" in out  # Cobuilder properties: 1 to add, 2 unchanged
