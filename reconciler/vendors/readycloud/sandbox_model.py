"""ReadyCloud product fields: validation, normalisation and the API representation.

Field names, types, kinds and decimals come from :mod:`reconciler.vendors.readycloud.contract`;
this module only decides how the simulated server checks and stores them.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from reconciler.vendors.readycloud.contract import (
    KINDS,
    MONEY_DECIMALS,
    READ_ONLY_FIELDS,
    WEIGHT_DECIMALS,
    WRITABLE_FIELDS,
)

from reconciler.sandbox.store import ProductRow

#: Field errors, Django REST framework style.
FieldErrors = dict[str, list[str]]

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
DATETIME_HELP = ("Datetime has wrong format. Use one of these formats instead: "
                 "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].")

_MONEY = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s+([A-Za-z]{3})\s*$")
_WEIGHT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$")
_SPACED_OFFSET = re.compile(r" (\d{2}(?::?\d{2})?)$")


class FieldError(ValueError):
    """One field's value is invalid; the message is what the API answers."""


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date-time as an aware datetime (UTC when no zone is given).

    A ``+`` before the offset that arrived as a space (unencoded in a query
    string) is read as ``+``.
    """
    for candidate in (text.strip(), _SPACED_OFFSET.sub(r"+\1", text.strip())):
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    raise ValueError(text)


def _datetime(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldError(DATETIME_HELP)
    try:
        moment = parse_datetime(value).astimezone(timezone.utc)
    except ValueError:
        raise FieldError(DATETIME_HELP) from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def _amount(text: str, places: int) -> str:
    """``text`` with exactly ``places`` decimals; more significant decimals are an error."""
    quantum = Decimal(1).scaleb(-places)
    amount = Decimal(text)
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded != amount:
        raise FieldError(f"Ensure that there are no more than {places} decimal places.")
    return str(rounded)


def _money(value: Any) -> str:
    match = _MONEY.match(value) if isinstance(value, str) else None
    if match is None:
        raise FieldError('Enter an amount and a currency code, e.g. "88.00 USD".')
    return f"{_amount(match[1], MONEY_DECIMALS)} {match[2].upper()}"


def _weight(value: Any) -> str:
    match = _WEIGHT.match(value) if isinstance(value, str) else None
    if match is None:
        raise FieldError('Enter an amount and a unit, e.g. "180 g".')
    return f"{_amount(match[1], WEIGHT_DECIMALS)} {match[2]}"


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldError("Not a valid string.")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError("A valid integer is required.")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError("Must be a valid boolean.")
    return value


def _kind(value: Any) -> str:
    if not isinstance(value, str) or value not in KINDS:
        raise FieldError(f'"{value}" is not a valid choice.')
    return value


def _custom_fields(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise FieldError('Expected an object of name → {"value": ..., "type": ...}.')
    fields: dict[str, dict[str, Any]] = {}
    for name, entry in value.items():
        if not isinstance(entry, dict) or "value" not in entry:
            raise FieldError(f'Custom field "{name}" must be an object with a "value".')
        kept: dict[str, Any] = {}
        if "type" in entry:
            if not isinstance(entry["type"], str):
                raise FieldError(f'Custom field "{name}": "type" must be a string.')
            kept["type"] = entry["type"]
        kept["value"] = entry["value"]
        fields[name] = kept
    return fields


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": _string, "int": _integer, "bool": _boolean, "money": _money, "weight": _weight,
    "datetime": _datetime, "object": _custom_fields, "kind": _kind,
}

#: Fields that may not be set to null (the others may).
_NOT_NULLABLE = frozenset({"kind", "custom_fields"})


def normalise(body: Any, *, creating: bool, kind_nullable: bool = False) -> tuple[dict[str, Any], FieldErrors]:
    """The writable fields of ``body`` as stored, and any field errors.

    Unknown and read-only fields are dropped. ``creating`` makes ``kind``
    required; ``kind_nullable`` lets seeds store ``kind: null`` like the docs show.
    """
    if not isinstance(body, Mapping):
        got = "list" if isinstance(body, list) else type(body).__name__
        return {}, {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {got}."]}
    fields: dict[str, Any] = {}
    errors: FieldErrors = {}
    if creating and "kind" not in body and not kind_nullable:
        errors["kind"] = [REQUIRED]
    for name, kind in WRITABLE_FIELDS.items():
        if name not in body:
            continue
        value = body[name]
        if value is None:
            nullable = name not in _NOT_NULLABLE or (name == "kind" and kind_nullable)
            if nullable:
                fields[name] = None
            else:
                errors[name] = [NOT_NULL]
            continue
        try:
            fields[name] = _CONVERTERS[kind](value)
        except FieldError as exc:
            errors[name] = [str(exc)]
        except (InvalidOperation, ValueError):
            errors[name] = ["Invalid value."]
    return fields, errors


def product_path(org: int, pk: int) -> str:
    return f"/api/v2/orgs/{org}/products/{pk}/"


#: Representation keys, alphabetical like the seed; fields never set answer null ({} for objects).
_OUTPUT_KEYS = tuple(sorted([*WRITABLE_FIELDS, *READ_ONLY_FIELDS]))
_NULLS = dict.fromkeys(WRITABLE_FIELDS)
_OBJECT_FIELDS = tuple(name for name, kind in WRITABLE_FIELDS.items() if kind == "object")


def represent(row: ProductRow) -> dict[str, Any]:
    """The product as the API answers it: every field, keys in alphabetical order."""
    merged: dict[str, Any] = {**_NULLS, **{name: {} for name in _OBJECT_FIELDS}, **row.data}
    merged["url"] = product_path(row.org, row.pk)
    merged["created_at"] = row.created_at
    merged["updated_at"] = row.updated_at
    merged["source"] = {"account": None, "channel": None, "id": None, "name": None,
                        "retrieved_at": row.created_at, "updated_at": row.created_at}
    return {key: merged[key] for key in _OUTPUT_KEYS}
