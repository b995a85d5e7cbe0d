"""A test-only third vendor: a price list kept in memory.

Catalog: a top-level ``pricelist: {shop: NAME}`` section and, per product,
``pricelist: {price: N}`` (or ``pricelist: {absent: true}`` to remove the
entry). Its provider reads and writes :data:`SHOPS` (no HTTP). It touches no
file outside this one: registering it is all a catalog needs to use it.
"""
from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Callable, Iterable, Iterator, Mapping

from reconciler.catalog.check import Checker
from reconciler.catalog.model import Catalog
from reconciler.errors import Location, ProviderError
from reconciler.plan.model import Change, FieldChange, PlanIssue, VendorPlan
from reconciler.plan.select import Selection
from reconciler.progress import NULL, Progress
from reconciler.providers.base import Provider
from reconciler.vendors.base import Vendor

#: shop name -> product code -> price: the fake vendor's whole live state
SHOPS: dict[str, dict[str, int]] = {}


class FakeProvider(Provider):
    name = "pricelist"

    def __init__(self, shop: str) -> None:
        self.shop = shop
        self.base_url = f"memory://{shop}"
        self.writes: list[tuple[str, str]] = []

    def refresh(self, progress: Progress = NULL) -> dict[str, int]:
        return dict(SHOPS.setdefault(self.shop, {}))

    def execute(self, change: Change) -> Any:
        prices = SHOPS.setdefault(self.shop, {})
        if change.key.startswith("FAIL"):
            raise ProviderError(self.name, f"refused {change.key}", 422)
        self.writes.append((change.action, change.key))
        if change.action == "delete":
            prices.pop(change.key, None)
            return None
        prices[change.key] = change.body["price"]
        return {"code": change.key, "price": prices[change.key]}


class PriceList(Vendor):
    name = "pricelist"
    label = "Price list"
    sections = ("pricelist",)
    product_key = "pricelist"

    def parse_settings(self, data: Mapping[str, Any], check: Checker) -> Any:
        section = data.get("pricelist")
        if section is None:
            return None
        loc = check.at(data, "pricelist", "pricelist")
        if not isinstance(section, dict) or not isinstance(section.get("shop"), str):
            check.add(loc, "pricelist needs a shop name")
            return None
        return section["shop"]

    def settings_schema(self) -> dict[str, Any]:
        return {"pricelist": {"type": "object", "required": ["shop"], "properties": {"shop": {"type": "string"}}}}

    def product_schema(self) -> dict[str, Any]:
        return {"pricelist": {"oneOf": [
            {"type": "object", "required": ["price"], "properties": {"price": {"type": "integer"}}},
            {"type": "object", "required": ["absent"], "properties": {"absent": {"const": True}},
             "additionalProperties": False}]}}

    def parse_product(self, section: Any, path: str, location: Location, check: Checker) -> Any:
        if isinstance(section, dict) and section.get("absent") is True:
            return None if len(section) > 1 else "absent"
        if not isinstance(section, dict) or type(section.get("price")) is not int:
            check.add(location, f"{path}: expected {{price: <integer>}}")
            return None
        return section["price"]

    def configured(self, catalog: Catalog) -> bool:
        return catalog.settings.get(self.name) is not None

    def open(self, catalog: Catalog, stack: ExitStack, **options: Any) -> Provider | None:
        shop = catalog.settings.get(self.name)
        return None if shop is None else stack.enter_context(FakeProvider(shop))

    def plan(self, catalog: Catalog, live: Any, selection: Selection,
             selected: Callable[[str], bool] | None = None) -> VendorPlan:
        live = live or {}
        result = VendorPlan(managed_live=len(live))
        for product in catalog.products:
            want = product.sections.get(self.name)
            if want is None or not (selected or selection)(product.code):
                continue
            have = live.get(product.code)
            if want == "absent":
                if have is None:
                    result.unchanged += 1
                else:
                    result.changes.append(Change(self.name, "delete", product.code, product.code, live=have))
            elif have == want:
                result.unchanged += 1
            elif want < 0:
                result.errors.append(PlanIssue(self.name, product.code, "a price cannot be negative"))
            else:
                result.changes.append(Change(self.name, "create" if have is None else "update", product.code,
                                             None if have is None else product.code,
                                             (FieldChange("price", have, want),), {"price": want}, live=have))
        declared = {p.code for p in catalog.products if p.sections.get(self.name) is not None}
        result.unmanaged_codes = [code for code in live if code not in declared and (selected or selection)(code)]
        result.unmanaged = len(result.unmanaged_codes)
        return result

    # -- import: a price is an entry {code, pricelist: {price}} --
    lists_products = True

    def import_open(self, catalog: Catalog, stack: ExitStack, **options: Any) -> Provider | None:
        return self.open(catalog, stack, **options)

    def import_pages(self, provider: Provider, progress: Progress,
                     note: Callable[[str], None]) -> Iterator[list[dict[str, Any]]]:
        yield self.import_live(provider.refresh(progress), sorted(SHOPS.get(provider.shop, {})), note)  # type: ignore[attr-defined]

    def import_live(self, live: Any, codes: Iterable[str], note: Callable[[str], None]) -> list[dict[str, Any]]:
        found = []
        for code in codes:
            if live[code] < 0:
                note(f"{code}: a negative price cannot be declared; not imported")
            else:
                found.append({"code": code, "pricelist": {"price": live[code]}})
        return found

    def provenance(self, provider: Provider) -> dict[str, Any]:
        return {"base_url": provider.base_url}  # type: ignore[attr-defined]

    def title(self, change: Change) -> str | None:
        return f"price of {change.key} (price list)"


VENDOR = PriceList()
