"""Parsing of typed scalar values (money, weights, date-times) shared by
catalog validation and plan normalisation. Pure functions, no I/O."""
from __future__ import annotations

import re
from functools import lru_cache
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_AMOUNT_UNIT = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]+)\s*$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
#: What :func:`parse_weight` and :func:`parse_money` accept, as patterns (the catalog's JSON Schema)
WEIGHT_PATTERN = _AMOUNT_UNIT.pattern
MONEY_PATTERN = rf"^\s*{_NUMBER}\s*[A-Za-z]{{3}}\s*$"


_UNIT_AMOUNT = re.compile(r"^\s*([A-Za-z]+)\s*([-+]?\d+(?:\.\d+)?)\s*$")


def _amount(text: str, unit: str = "unit") -> tuple[Decimal, str]:
    match = _AMOUNT_UNIT.match(text)
    if not match:
        swapped = _UNIT_AMOUNT.match(text)
        if swapped:
            raise ValueError(f"amount first, then {unit} (e.g. '{swapped.group(2)} {swapped.group(1)}')")
        raise ValueError("expected an amount followed by a unit")
    try:
        return Decimal(match.group(1)), match.group(2)
    except InvalidOperation:  # pragma: no cover - the regex admits only numbers
        raise ValueError("invalid amount") from None


def canonical_decimal(amount: Decimal) -> str:
    """``88.00`` -> ``88``, ``180.5000`` -> ``180.5`` (never exponent notation)."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


@lru_cache(maxsize=1 << 16)  # catalogs repeat prices; the result is immutable
def parse_money(text: str) -> tuple[Decimal, str]:
    """``"88.00 USD"`` -> ``(Decimal("88.00"), "USD")``. Raises ValueError."""
    if not isinstance(text, str):
        raise ValueError("expected a string like '88.00 USD'")
    amount, currency = _amount(text, "currency")
    if not _CURRENCY.match(currency):
        raise ValueError(f"{currency!r} is not a 3-letter currency code")
    return amount, currency.upper()


@lru_cache(maxsize=1 << 16)
def parse_weight(text: str) -> tuple[Decimal, str]:
    """``"180 g"`` -> ``(Decimal("180"), "g")``. Raises ValueError."""
    if not isinstance(text, str):
        raise ValueError("expected a string like '180 g'")
    return _amount(text)


def parse_datetime(text: str) -> datetime:
    """ISO 8601 date-time; no zone means UTC. Returns an aware UTC datetime."""
    if not isinstance(text, str):
        raise ValueError("expected an ISO 8601 date-time string")
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_datetime(value: datetime) -> str:
    """UTC ``Z`` form, with microseconds only when there are any."""
    value = value.astimezone(timezone.utc)
    spec = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.strftime(spec)
