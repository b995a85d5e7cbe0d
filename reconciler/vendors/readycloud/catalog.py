"""The catalog's ``readycloud`` section: its settings, and the rule that
entries managing ReadyCloud need it. (A product's own fields are ReadyCloud's,
validated by :mod:`.fields`.)"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler import endpoints
from reconciler.catalog.check import Checker, substitute_env
from reconciler.errors import Location
from reconciler.vendors.readycloud import contract as rc

if TYPE_CHECKING:
    from reconciler.catalog.model import Catalog, ProductSpec


@dataclass(frozen=True)
class ReadyCloudSettings:
    org: int
    base_url: str
    location: Location = field(compare=False)  # (where it was declared, not what it is)
    max_reads_per_minute: float | None = None   # None: unpaced
    max_writes_per_minute: float | None = None
    page_size: int = rc.PAGE_SIZE  # products asked for per listing page


#: the keys of the ``readycloud`` section
SETTINGS_KEYS = ("org", "base_url", "max_reads_per_minute", "max_writes_per_minute", "page_size")


def settings_of(catalog: Catalog) -> ReadyCloudSettings | None:
    """The catalog's ``readycloud`` settings (None: it has no such section)."""
    return catalog.settings.get("readycloud")


def manages(spec: ProductSpec) -> bool:
    """Whether a product entry manages ReadyCloud: a tombstone, or a field
    other than code (False for an entry that only declares another vendor's entry)."""
    return spec.absent or len(spec.fields) > ("code" in spec.fields)


def _readycloud(data: dict, check: Checker) -> ReadyCloudSettings | None:  # type: ignore[type-arg]
    section = data.get("readycloud")
    if section is None:
        return None
    loc = check.at(data, "readycloud", "readycloud")
    if not check.expect(section, (dict,), loc, "a mapping"):
        return None
    check.unknown_keys(section, SETTINGS_KEYS, "readycloud")
    org = section.get("org")
    org_loc = check.at(section, "org", "readycloud.org")
    if "org" not in section:
        check.add(loc, "missing required key 'org' (the ReadyCloud org_pk)")
    elif check.expect(org, (int,), org_loc, "an integer org_pk") and org <= 0:
        check.add(org_loc, "org must be a positive integer")
    base_url = section.get("base_url", rc.DEFAULT_BASE_URL)
    url_loc = check.at(section, "base_url", "readycloud.base_url")
    if check.expect(base_url, (str,), url_loc, "a URL string"):
        base_url, used_env = substitute_env(base_url, url_loc, check)
        problem = endpoints.catalog_url_problem(base_url, label="ReadyCloud", hosts=rc.HOSTS,
                                                env_name="READYCLOUD_BASE_URL", environ=check.environ,
                                                quote=not used_env)
        if problem:
            check.add(url_loc, f"base_url {problem}")
    return ReadyCloudSettings(
        org=org if isinstance(org, int) else 0, base_url=str(base_url).rstrip("/"), location=loc,
        max_reads_per_minute=check.rate(section, "max_reads_per_minute", "readycloud", rc.DEFAULT_READS_PER_MINUTE),
        max_writes_per_minute=check.rate(section, "max_writes_per_minute", "readycloud", rc.DEFAULT_WRITES_PER_MINUTE),
        page_size=_page_size(section, check))


def _page_size(section: dict, check: Checker) -> int:  # type: ignore[type-arg]
    """``readycloud.page_size``: an integer within :data:`rc.PAGE_SIZE_RANGE`."""
    value = section.get("page_size", rc.PAGE_SIZE)
    low, high = rc.PAGE_SIZE_RANGE
    where = check.at(section, "page_size", "readycloud.page_size")
    if not check.expect(value, (int,), where, f"an integer from {low} to {high}"):
        return rc.PAGE_SIZE
    if not low <= value <= high:
        check.add(where, f"page_size must be from {low} to {high} (products per listing page)")
        return rc.PAGE_SIZE
    return int(value)


def _readycloud_section_needed(products: tuple[ProductSpec, ...], check: Checker) -> None:
    """Entries that manage ReadyCloud (fields beyond code, or tombstones) need
    the top-level ``readycloud`` section: without its org they would be
    silently left out of every plan."""
    managing = [p for p in products if manages(p)]
    if managing:
        more = len(managing) - 1
        check.add(managing[0].location,
                  f"product {managing[0].code!r}" + (f" (and {more} more)" if more else "")
                  + " declares ReadyCloud fields, but the catalog has no 'readycloud' section; "
                  "add 'readycloud: {org: <org_pk>}' at the top level")
