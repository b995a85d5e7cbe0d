"""Live ReadyCloud products as catalog entries (``reconciler import``).

An entry holds a product's writable fields exactly as they are live, so that
a plan of it compares equal; the catalog's own field rules (:mod:`.fields`)
decide what an entry may hold, and a value they refuse, or that the catalog
would read as an environment variable, is left out (then not managed) and told.
Server-owned fields, fields that are null and empty custom fields are not written
(but for one null field of a product that has nothing else, so that its entry manages it).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping

from reconciler.catalog.check import Checker
from reconciler.catalog.dump import reads_environment, unwritable
from reconciler.errors import ProviderError
from reconciler.progress import Progress
from reconciler.vendors.readycloud import contract as rc
from reconciler.vendors.readycloud.fields import parse_fields
from reconciler.vendors.readycloud.provider import ReadyCloudProvider

#: fields written first, in this order; the rest follow in the contract's order
FIRST = ("code", "kind", "description")
ORDER = (*FIRST, *(name for name in rc.WRITABLE_FIELDS if name not in FIRST))
_NO_ENVIRONMENT: Mapping[str, str] = {}
#: fields a catalog entry may set to null
NULLABLE = frozenset(name for name, kind in rc.WRITABLE_FIELDS.items() if kind not in ("kind", "object") and name != "code")


def entry(product: Mapping[str, Any], note: Callable[[str], None]) -> dict[str, Any] | None:
    """``product`` (as the API answers it) as a catalog entry; None if it has no usable code."""
    code = product.get("code")
    if not isinstance(code, str) or not code.strip():
        pk = rc.product_pk_from_url(str(product.get("url", ""))) or "?"
        note(f"live product id {pk} has no code ({code!r}); not imported (an entry needs a code)")
        return None
    if reads_environment(code):
        note(f"{code}: the code holds '${{...}}', which a catalog reads from the environment; not imported")
        return None
    if (why := unwritable(code)) is not None:
        note(f"{code!r}: the code cannot be written ({why}); not imported")
        return None
    fields: dict[str, Any] = {"code": code}
    for name in ORDER:
        value = product.get(name)
        if name == "code" or value is None or (value == {} and rc.WRITABLE_FIELDS[name] == "object"):
            continue
        if reads_environment(value):
            note(f"{code}: {name} holds '${{...}}', which a catalog reads from the environment; left out "
                 "(not managed)")
            continue
        if (why := unwritable(value)) is not None:
            note(f"{code}: {name} left out (not managed): {why}")
            continue
        fields[name] = value
    check = Checker("<live>", _NO_ENVIRONMENT)
    parse_fields(fields, "entry", check, frozenset())
    for problem in check.problems:  # (a value the catalog cannot hold: left out, so it is not managed)
        name = problem.location.path.removeprefix("entry.").split(".")[0]
        if fields.pop(name, None) is not None and name != "code":
            note(f"{code}: {name} left out (not managed): {problem.message}")
    if len(fields) == 1:
        # (an entry of its code alone declares no ReadyCloud field: the plan would count the product
        # unmanaged as well as unchanged, and `import -c` could not adopt it; one null field it has makes
        # the entry manage it)
        name = next((n for n in ORDER if n in NULLABLE and n in product and product[n] is None), None)
        if name is not None:
            fields[name] = None
    return fields


def entries(products: Iterable[Mapping[str, Any]], note: Callable[[str], None]) -> list[dict[str, Any]]:
    return [made for product in products if (made := entry(product, note)) is not None]


def pages(provider: ReadyCloudProvider, progress: Progress, note: Callable[[str], None]
          ) -> Iterator[list[dict[str, Any]]]:
    """Every live product of the org as an entry, a page at a time."""
    listed = provider.listed_pages(progress)
    try:
        first = next(listed, None)
    except ProviderError as exc:
        if exc.status in (403, 404):
            raise ProviderError(exc.vendor, f"{exc.detail} (listing org {provider.org}: is the org right, and "
                                "may the token reach it?)", exc.status) from None
        raise
    if first is None:
        return
    if not first["results"] and not first.get("next"):
        note(f"org {provider.org} has no products (is the org right?)")
    yield entries(first["results"], note)
    for page in listed:
        yield entries(page["results"], note)


def from_live(live: Mapping[str, list[dict[str, Any]]], codes: Iterable[str],
              note: Callable[[str], None]) -> list[dict[str, Any]]:
    """The entries of ``codes`` in a live index (by code: a list each, codes are not unique)."""
    found = []
    for code in codes:
        matches = live.get(code, [])
        if len(matches) > 1:
            ids = ", ".join(rc.product_pk_from_url(str(m.get("url", ""))) for m in matches)
            note(f"{code}: {len(matches)} live products share this code (ids {ids}); not imported (resolve the "
                 "duplicate in ReadyCloud)")
            continue
        found.extend(entries(matches, note))
    return found
