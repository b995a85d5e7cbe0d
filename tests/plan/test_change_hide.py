"""Change.hide: a vendor's error message that quotes a sensitive value sent
(or the one it had) is shown with the value replaced."""
from __future__ import annotations

from reconciler.plan.model import SENSITIVE, Change, FieldChange


def change(*fields: FieldChange) -> Change:
    return Change("readycloud", "update", "P1", "7", fields=fields)


def test_sensitive_values_before_and_after_are_hidden_nested_ones_and_numbers_too() -> None:
    c = change(FieldChange("description", "old-secret", "new-secret-longer", sensitive=True),
               FieldChange("custom_fields", None, {"Key": {"value": "nested-secret"}}, sensitive=True),
               FieldChange("quantity", 1, 123456, sensitive=True))
    shown = c.hide("refused 'new-secret-longer' (had 'old-secret'), nested-secret, quantity 123456")
    assert shown == f"refused '{SENSITIVE}' (had '{SENSITIVE}'), {SENSITIVE}, quantity {SENSITIVE}"


def test_values_not_sensitive_and_short_ones_are_left() -> None:
    c = change(FieldChange("description", "plain", "plain text", sensitive=False),
               FieldChange("quantity", 1, 400, sensitive=True),   # "400" would hide the status
               FieldChange("kind", None, True, sensitive=True))
    text = "HTTP 400: description 'plain text' is too long; True"
    assert c.hide(text) == text


def test_a_value_inside_a_longer_one_does_not_leave_the_longer_ones_tail() -> None:
    c = change(FieldChange("a", "secret", "secret-and-more", sensitive=True))
    assert c.hide("x secret-and-more y") == f"x {SENSITIVE} y"
