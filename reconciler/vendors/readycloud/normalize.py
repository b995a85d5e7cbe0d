"""Normalise field values the way ReadyCloud stores them, so that equal values
compare equal: amounts numerically with their currency/unit, date-times as
instants, ``custom_fields`` as a whole object."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

from reconciler import values
from reconciler.vendors.readycloud import contract as rc


@lru_cache(maxsize=1 << 16)  # live listings repeat values; strings are hashable
def _money(value: Any) -> Any:
    amount, currency = values.parse_money(value)
    return f"{values.canonical_decimal(amount)} {currency}"


@lru_cache(maxsize=1 << 16)
def _weight(value: Any) -> Any:
    amount, unit = values.parse_weight(value)
    return f"{values.canonical_decimal(amount)} {unit}"


@lru_cache(maxsize=1 << 16)
def _datetime(value: Any) -> Any:
    return values.format_datetime(values.parse_datetime(value))


def _custom_fields(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if all(isinstance(entry, dict) and None not in entry.values() for entry in value.values()):
        return value  # nothing to drop (the usual case): no copy
    return {name: {k: v for k, v in entry.items() if v is not None} if isinstance(entry, dict) else entry
            for name, entry in value.items()}


_NORMALISERS: dict[str, Callable[[Any], Any]] = {
    "money": _money, "weight": _weight, "datetime": _datetime, "object": _custom_fields,
}


def normalise_field(name: str, value: Any) -> Any:
    """Canonical form of one ReadyCloud field value. Unparseable live values are
    kept as they are (they then simply differ from the desired value)."""
    if value is None:
        return None if name != "custom_fields" else {}
    normaliser = _NORMALISERS.get(rc.WRITABLE_FIELDS.get(name, "str"))
    if normaliser is None:
        return value
    try:
        return normaliser(value)
    except (ValueError, TypeError):  # TypeError: an unhashable live value (not one we would send)
        return value


def equal_normalised(name: str, have: Any, want: Any) -> bool:
    """Whether two values of field ``name`` are equal once normalised; cached
    for hashable pairs (a catalog and its listing repeat prices and weights)."""
    try:
        return _equal_cached(name, have, want)
    except TypeError:  # unhashable: custom_fields
        return bool(normalise_field(name, have) == normalise_field(name, want))


@lru_cache(maxsize=1 << 16, typed=True)
def _equal_cached(name: str, have: Any, want: Any) -> bool:
    return bool(normalise_field(name, have) == normalise_field(name, want))


#: the fields whose values are normalised before they are compared
NORMALISED = frozenset(name for name, kind in rc.WRITABLE_FIELDS.items() if kind in _NORMALISERS)
