"""A product's own fields: the entry's top-level keys are ReadyCloud's
(:data:`contract.WRITABLE_FIELDS`), each checked by its kind (money, weight,
date-time, kind, custom fields). Runs for every field of every product: the
usual value is passed by a cheap check, anything else gets the full rule,
which says what is wrong and where."""
from __future__ import annotations

from typing import Any

from reconciler import values
from reconciler.catalog import env as catalog_env
from reconciler.catalog.check import Checker, did_you_mean, substitute_env
from reconciler.vendors.readycloud import contract as rc

#: the keys of one custom field
CUSTOM_FIELD_KEYS = frozenset(("value", "type"))
#: each field's name (the one shared copy) and kind, by name
_FIELDS: dict[str, tuple[str, str]] = {name: (name, kind) for name, kind in rc.WRITABLE_FIELDS.items()}
_PLAIN: dict[str, type] = {"str": str, "int": int, "bool": bool}
_PARSED: dict[str, Any] = {"money": values.parse_money, "weight": values.parse_weight,
                           "datetime": values.parse_datetime}


#: (kind, string) pairs already found right by :func:`_quick_check` (product
#: kinds, amounts, weights, date-times): catalogs repeat their kinds, prices and
#: weights, and a set look-up is the cheapest check
_CHECKED: set[tuple[str, str]] = set()
_CHECKED_MAX = 1 << 16


def parse_fields(entry: dict, path: str, check: Checker,  # type: ignore[type-arg]
                 sensitive: set[str] | frozenset[str]) -> tuple[dict[str, Any], set[str] | frozenset[str]]:
    """The product ``entry``'s ReadyCloud fields (``code`` included), checked,
    ``${VAR}``s substituted; and ``sensitive`` with the fields whose value came
    from the environment added."""
    # A new dict with the one shared copy of each field name (the parsed entry
    # and its keys, one string per product, are then freed), made in the same
    # pass as the checks.
    fields: dict[str, Any] = {}
    changed: dict[str, Any] | None = None
    for key, value in entry.items():
        known = _FIELDS.get(key)
        if known is None:
            continue
        name, kind = known
        fields[name] = value
        if type(value) is str:
            if kind == "str" and "${" not in value or (kind, value) in _CHECKED:
                continue  # (the commonest fields, checked inline)
        elif type(value) is int and kind == "int":
            continue
        elif type(value) is dict and kind == "object" and _plain_custom_fields(value):
            continue  # (custom fields: what _quick_check would say, without the call)
        if _quick_check(kind, value):
            continue
        new, from_env = _field_value(kind, value, entry, name, path, check, hidden=name in sensitive)
        if from_env:
            sensitive = {*sensitive, name}
        if new is not value:
            changed = {**(changed or {}), name: new}
    if changed:
        fields = {**fields, **changed}
    return fields, sensitive


def _quick_check(kind: str, value: Any) -> bool:
    """True when ``value`` is certainly right for ``kind`` as it is (no
    ``${VAR}``, nothing to report): the usual case, checked cheaply; anything
    else goes to :func:`_field_value`, which says what is wrong and where."""
    if value is None:
        return kind != "kind" and kind != "object"
    if type(value) is str:
        if "${" in value:
            return False
        if kind == "str":
            return True
        if kind == "kind":
            if value not in rc.KINDS:
                return False
        else:
            parse = _PARSED.get(kind)
            if parse is None:
                return False
            try:
                parse(value)
            except ValueError:
                return False
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED.add((kind, value))
        return True
    if kind == "object":
        return type(value) is dict and _plain_custom_fields(value)
    return type(value) is _PLAIN.get(kind)


def _plain_custom_fields(value: dict) -> bool:  # type: ignore[type-arg]
    """Custom fields with nothing to report or substitute (the usual case)."""
    for name, item in value.items():
        if type(name) is not str or type(item) is not dict or "value" not in item \
                or not CUSTOM_FIELD_KEYS.issuperset(item):
            return False
        for text in item.values():
            if type(text) is str and "${" in text:
                return False
    return True

_TYPE_CHECKS: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str, type(None)), "a string or null"),
    "bool": ((bool, type(None)), "true, false or null"),
    "int": ((int, type(None)), "an integer or null"),
    "money": ((str, type(None)), "an amount with a currency, like '88.00 USD'"),
    "weight": ((str, type(None)), "an amount with a unit, like '180 g'"),
    "datetime": ((str, type(None)), "an ISO 8601 date-time string"),
    "object": ((dict,), "a mapping of name -> {value, type}"),
    "kind": ((str,), f"one of {', '.join(rc.KINDS)}"),
}


def _field_value(kind: str, value: Any, entry: dict, name: str, path: str,  # type: ignore[type-arg]
                 check: Checker, hidden: bool = False) -> tuple[Any, bool]:
    """Check one product field. Its location is worked out only for a problem
    (this runs for every field of every product). A value from the environment
    or a field marked sensitive (``hidden``) is never quoted in a message."""
    kinds, what = _TYPE_CHECKS[kind]
    if kind in ("int", "bool") and type(value) is str and catalog_env.WHOLE.fullmatch(value):
        value, from_env = catalog_env.typed(value, kind, check.at(entry, name, f"{path}.{name}"), check)
        return value, from_env
    if type(value) not in kinds:
        where = check.at(entry, name, f"{path}.{name}")
        if not (check.text(value, where, name, nullable=True) if kind == "str" else
                check.expect(value, kinds, where, what)):
            return value, False
    from_env = False
    if isinstance(value, str) and "${" in value:
        value, from_env = substitute_env(value, check.at(entry, name, f"{path}.{name}"), check)
    try:
        if kind == "kind" and value not in rc.KINDS:
            raise ValueError(f"kind must be one of {', '.join(rc.KINDS)}, got {value!r}{did_you_mean(value, rc.KINDS)}")
        if value is not None and kind == "money":
            values.parse_money(value)
        elif value is not None and kind == "weight":
            values.parse_weight(value)
        elif value is not None and kind == "datetime":
            values.parse_datetime(value)
        elif kind == "object":
            value, used = _custom_fields(value, f"{path}.{name}", check)
            from_env = from_env or used
    except ValueError as exc:
        message = str(exc)
        if (from_env or hidden) and isinstance(value, str) and value:
            message = message.replace(repr(value), "(sensitive)").replace(value, "(sensitive)")
        check.add(check.at(entry, name, f"{path}.{name}"), message)
    return value, from_env


def _custom_fields(value: dict, path: str, check: Checker) -> tuple[dict, bool]:  # type: ignore[type-arg]
    if _plain_custom_fields(value):
        return value, False
    result: dict[str, Any] = {}
    used_env = False
    for name, item in value.items():
        item_path = f"{path}.{name}"
        if not isinstance(name, str):
            check.add(check.at(value, name, item_path), "custom field names must be strings")
            continue
        if not isinstance(item, dict) or "value" not in item:
            check.add(check.at(value, name, item_path), "expected a mapping with 'value' (and optional 'type')")
            continue
        if not CUSTOM_FIELD_KEYS.issuperset(item):
            check.unknown_keys(item, CUSTOM_FIELD_KEYS, item_path)
        entry = dict(item)
        for key in ("value", "type"):
            text = entry.get(key)
            if isinstance(text, str) and "${" in text:
                entry[key], used = substitute_env(text, check.at(item, key, f"{item_path}.{key}"), check)
                used_env = used_env or used
        result[name] = entry
    return result, used_env
