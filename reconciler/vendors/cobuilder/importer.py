"""Live Cobuilder property values as a product's ``cobuilder:`` entry (``reconciler import``).

Only the product's **own** properties are written (:func:`.contract.is_own`):
inherited ones are its parent's, and a plan never changes them. Each value
object keeps the keys of the documented request model that carry
information, as the planner compares them; a property the catalog's own
rules refuse, or that holds ``${VAR}``, is left out (then not managed) and told.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from reconciler.catalog.check import Checker
from reconciler.catalog.dump import reads_environment, unwritable
from reconciler.errors import AuthError, Location, ProviderError
from reconciler.vendors.cobuilder import contract as cb
from reconciler.vendors.cobuilder.catalog import _property
from reconciler.vendors.cobuilder.provider import CobuilderProvider
from reconciler.workers import bounded_map

_NESTED_KEYS = {"ifdValues": cb.IFD_KEYS, "valueTranslations": cb.TRANSLATION_KEYS}


def parse_id(text: str) -> int:
    """A Cobuilder product id as the CSV gives it: a positive integer in ASCII
    digits (``str.isdigit`` alone lets ``'٣'`` through as 3, and ``'²'`` or
    thousands of digits make ``int`` fail with Python's own words)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) <= 0:
        raise ValueError(f"{text!r} is not a Cobuilder product id (a positive integer)")
    return int(text)


def _value(value: Mapping[str, Any]) -> dict[str, Any]:
    """A value object of the GET answer with the keys the request model has,
    those that carry information (as :func:`.planner.normalise_value` reads them)."""
    kept: dict[str, Any] = {}
    for key in cb.VALUE_KEYS:
        item = value.get(key)
        if item is None or item == [] or item == "":
            continue
        if key in _NESTED_KEYS and isinstance(item, list):
            item = [{k: v for k, v in part.items() if k in _NESTED_KEYS[key] and isinstance(v, str)}
                    for part in item if isinstance(part, dict)]
        kept[key] = item
    return kept


def entry(product_id: int, answer: list[dict[str, Any]], code: str, note: Callable[[str], None]) -> dict[str, Any]:
    """The ``cobuilder:`` entry of product ``product_id`` from its GET answer."""
    properties = []
    for prop in answer:
        if not cb.is_own(prop):
            continue
        written = {"propertyGuid": prop.get("propertyGuid"), "unitGuid": prop.get("unitGuid"),
                   "values": [_value(v) for v in prop.get("values") or () if isinstance(v, dict)]}
        check = Checker("<live>", {})
        _property(written, "property", Location("<live>", None, "property"), check)
        problem = check.problems[0].message if check.problems else (
            "it holds '${...}', which a catalog reads from the environment" if reads_environment(written)
            else unwritable(written))
        if problem is not None:
            note(f"{code}: Cobuilder property {written['propertyGuid']} of product {product_id} left out "
                 f"(not managed): {problem}")
            continue
        properties.append(written)
    return {"id": product_id, **({"properties": properties} if properties else {})}


def extend(provider: CobuilderProvider, entries: list[dict[str, Any]], ids: Mapping[str, Any],
           parallelism: int, note: Callable[[str], None]) -> None:
    """Read the values of each entry whose code ``ids`` names (concurrently) and add its ``cobuilder:`` entry."""
    wanted = [(made, ids[made["code"]]) for made in entries if made["code"] in ids]

    def read(pair: tuple[dict[str, Any], int]) -> list[dict[str, Any]] | ProviderError:
        return provider.read_values(pair[1])

    for (made, product_id), answer in zip(wanted, bounded_map(read, wanted, parallelism, "cobuilder-import")):
        if isinstance(answer, AuthError):
            raise answer
        if isinstance(answer, ProviderError):
            raise ProviderError(answer.vendor, f"product {product_id} (code {made['code']}): cannot read its "
                                f"property values: {answer.detail}", answer.status) from None
        made["cobuilder"] = entry(product_id, answer, made["code"], note)
