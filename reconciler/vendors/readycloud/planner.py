"""Plan ReadyCloud product changes from the catalog and the live listing."""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from reconciler.catalog.model import Catalog, ProductSpec
from reconciler.vendors.readycloud import contract as rc
from reconciler.vendors.readycloud.catalog import manages
from reconciler.plan.model import SENSITIVE, Change, FieldChange, PlanIssue, VendorPlan, fingerprint
from reconciler.vendors.readycloud.normalize import NORMALISED, equal_normalised, normalise_field

VENDOR = "readycloud"
#: live products by code (a list: codes are not unique), as the provider's LiveIndex holds them
LiveProducts = Mapping[str, list[dict[str, Any]]]


def changed_fields(live: Mapping[str, Any], spec: ProductSpec) -> list[str]:
    """The managed fields whose normalised live value differs from the desired one.

    Plain equality, field by field, on the normalised values: all that an
    unchanged product costs. (DeepDiff then describes, for the structured
    fields that differ, where inside them: see :func:`detail`.)
    """
    differing = []
    for name, want in spec.fields.items():
        have = live.get(name)
        if have == want or name == "code":
            continue  # (equal as they are: equal normalised too)
        if name in NORMALISED and equal_normalised(name, have, want):
            continue
        differing.append(name)
    return differing


def detail(before: Any, after: Any) -> tuple[str, ...]:
    """Where two structured values (``custom_fields``) differ, as DeepDiff paths."""
    if not isinstance(before, (dict, list)) or not isinstance(after, (dict, list)):
        return ()
    from deepdiff import DeepDiff  # (imported when a product differs: it is slow to import)

    diff = DeepDiff(before, after, ignore_order=False, verbose_level=0)
    return tuple(sorted(path.removeprefix("root") for path in diff.affected_paths))


class PageComparison:
    """Live products compared with their catalog entries a page at a time, as
    the listing hands them over (:meth:`ReadyCloudProvider.read`): the
    comparing overlaps the reading, and :func:`plan_readycloud` then only
    looks up what was found."""

    def __init__(self, catalog: Catalog, selected: Callable[[str], bool]) -> None:
        self.selected = selected
        self._specs = {s.code: s for s in catalog.products
                       if manages(s) and not s.absent and selected(s.code)}
        #: id(live product) -> (it, the fields that differ, its update): the
        #: products that differ, their updates made while the listing is read
        self._found: dict[int, tuple[Mapping[str, Any], list[str], Change]] = {}
        #: code -> the live product found equal to its (managed, selected, not
        #: absent) entry: all an unchanged product then costs the plan is a look-up
        self.unchanged_live: dict[str, Mapping[str, Any]] = {}
        self.seconds = 0.0  # spent comparing (overlapped with the listing)

    def add(self, products: Sequence[Mapping[str, Any]]) -> None:
        """Compare one page of live products."""
        started = time.perf_counter()
        specs, same, found = self._specs, self.unchanged_live, self._found
        for product in products:
            code = product.get("code")
            spec = specs.get(code if type(code) is str else str(code))
            if spec is not None:
                names = changed_fields(product, spec)
                if names:
                    found[id(product)] = (product, names, _update(spec, product, names))
                else:
                    same[spec.code] = product
        self.seconds += time.perf_counter() - started

    def _compared(self, live: Mapping[str, Any], spec: ProductSpec
                  ) -> tuple[Mapping[str, Any], list[str], Change] | None:
        """What :meth:`add` found for this pair, if it compared this very pair and they differ."""
        found = self._found.get(id(live))
        if found is not None and found[0] is live and self._specs.get(spec.code) is spec:
            return found
        return None

    def changed_fields(self, live: Mapping[str, Any], spec: ProductSpec) -> Sequence[str]:
        found = self._compared(live, spec)
        if found is not None:
            return found[1]
        if self.unchanged_live.get(spec.code) is live and self._specs.get(spec.code) is spec:
            return ()
        return changed_fields(live, spec)

    def update(self, live: Mapping[str, Any], spec: ProductSpec) -> Change | None:
        """The update of ``live`` to ``spec`` already made, if this is the pair compared."""
        found = self._compared(live, spec)
        return found[2] if found is not None else None

    def unchanged(self, spec: ProductSpec, matches: Sequence[Mapping[str, Any]] | None) -> bool:
        """Whether ``spec``, a catalog entry, is already known to be unchanged
        with these live ``matches`` (one product, the one compared)."""
        return (matches is not None and len(matches) == 1 and self.unchanged_live.get(spec.code) is matches[0]
                and self._specs.get(spec.code) is spec)


def plan_readycloud(catalog: Catalog, live: LiveProducts, selected: Callable[[str], bool],
                    compared: PageComparison | None = None) -> VendorPlan:
    """The plan's ReadyCloud part. ``compared``: the live products' comparisons
    made while they were read (for this selection); made here if not."""
    if compared is None or compared.selected is not selected:
        compared = PageComparison(catalog, selected)
        for products in live.values():
            compared.add(products)
    result = VendorPlan(context=_context(live))
    policy = catalog.policy
    declared: set[str] = set()
    #: codes the catalog declares without ReadyCloud fields (only Cobuilder
    #: values): ReadyCloud is not managed for them, so prune never deletes them
    not_managed: set[str] = set()
    same = compared.unchanged_live
    for spec in catalog.products:
        if spec.code in same and compared.unchanged(spec, live.get(spec.code)):
            declared.add(spec.code)  # (the usual case, settled while the listing was read)
            result.managed_live += 1
            result.unchanged += 1
            continue
        if not selected(spec.code):
            continue
        if not manages(spec):
            not_managed.add(spec.code)
            continue
        declared.add(spec.code)
        matches = live.get(spec.code, [])
        result.managed_live += len(matches)
        if len(matches) > 1:
            result.errors.append(_duplicate(spec.code, matches))
            continue
        current = matches[0] if matches else None
        if spec.absent:
            if current is None:
                result.unchanged += 1
            elif policy.protected(spec.code):
                result.errors.append(_protected(spec.code, f"the tombstone at {catalog.locate(spec.location)}"))
            else:
                result.changes.append(_delete(spec.code, current, catalog.sensitive))
            continue
        if current is None:
            _create(spec, catalog, result)
            continue
        update = compared.update(current, spec)
        if update is None:
            names = compared.changed_fields(current, spec)
            if not names:
                result.unchanged += 1
                continue
            update = _update(spec, current, names)
        result.changes.append(update)
    for code, matches in live.items():
        if code in declared or not selected(code):
            continue
        if code in not_managed or not (policy.prune and policy.in_scope(code)):
            result.unmanaged += len(matches)
            result.unmanaged_codes.append(code)
            continue
        result.managed_live += len(matches)
        if policy.protected(code):
            result.errors.append(_protected(code, "prune (it is in scope and no longer in the catalog)"))
        elif len(matches) > 1:
            result.errors.append(_duplicate(code, matches))
        else:
            result.changes.append(_delete(code, matches[0], catalog.sensitive))
    _unaddressable(result)
    return result


def _unaddressable(result: VendorPlan) -> None:
    """An update or delete of a live product whose url holds no plain id
    (:func:`rc.product_pk_from_url`) becomes that product's error."""
    bad = [c for c in result.changes if c.action != "create" and not c.resource_id]
    for change in bad:
        result.errors.append(PlanIssue(VENDOR, change.key, f"live product {change.key!r} has no usable id in its "
                                       "url (expected .../products/<positive integer>/); it is left unchanged"))
    result.changes = [c for c in result.changes if all(c is not b for b in bad)]


def _context(live: LiveProducts) -> dict[str, Any]:
    """What a saved plan needs to check its freshness cheaply: the count, the
    listing's watermark (None: the check lists everything), and the products
    already stamped at or after it (to tell new products from known ones)."""
    watermark = getattr(live, "watermark", None)
    return {"count": sum(len(ps) for ps in live.values()), "watermark": watermark,
            "recent": list(getattr(live, "recent", ())) if watermark is not None else []}


def _create(spec: ProductSpec, catalog: Catalog, result: VendorPlan) -> None:
    if "kind" not in spec.fields:
        result.errors.append(PlanIssue(VENDOR, spec.code,
            f"{catalog.locate(spec.location)}: 'kind' is required to create product {spec.code!r} (one of {', '.join(rc.KINDS)})"))
        return
    body = dict(spec.fields)
    fields = tuple(FieldChange(n, None, v, n in spec.sensitive) for n, v in body.items())
    result.changes.append(Change(VENDOR, "create", spec.code, None, fields, body))


def _update(spec: ProductSpec, current: Mapping[str, Any], names: Sequence[str]) -> Change:
    fields = tuple(FieldChange(n, current.get(n), spec.fields[n], n in spec.sensitive,
                               () if n in spec.sensitive else detail(normalise_field(n, current.get(n)),
                                                                     normalise_field(n, spec.fields[n])))
                   for n in names)
    body = {n: spec.fields[n] for n in names}
    # The patch from the live state to the desired one touches only the changed
    # fields, so it is made from them alone (the rest of the product is equal).
    before = {n: current[n] for n in names if n in current}
    import jsonpatch  # (imported when a product differs)

    patch = jsonpatch.make_patch(before, body).patch
    return Change(VENDOR, "update", spec.code, _pk(current), fields, body, live=current,
                  fingerprint=fingerprint(current), patch=tuple(patch))


def _delete(code: str, current: dict[str, Any], sensitive: frozenset[str] = frozenset()) -> Change:
    """The delete of ``current``; its ``live`` (what the plan shows and keeps,
    and ``product.deleted`` announces) with the ``sensitive`` fields hidden:
    the catalog no longer declares the product, so nothing could fill them in
    again, and nothing needs them (the fingerprint is of the product as it is)."""
    live = current
    if sensitive and not sensitive.isdisjoint(current):
        live = {k: SENSITIVE if k in sensitive and v is not None else v for k, v in current.items()}
    return Change(VENDOR, "delete", code, _pk(current), live=live, fingerprint=fingerprint(current))


def _duplicate(code: str, matches: list[dict[str, Any]]) -> PlanIssue:
    pks = ", ".join(_pk(m) for m in matches)
    return PlanIssue(VENDOR, code, f"{len(matches)} live products share code {code!r} (ids {pks}); "
                     "resolve the duplicate in ReadyCloud, reconciler will not guess between them")


def _protected(code: str, by: str) -> PlanIssue:
    return PlanIssue(VENDOR, code, f"product {code!r} is protected by policy.protect and would be deleted by {by}")


def _pk(product: Mapping[str, Any]) -> str:
    return rc.product_pk_from_url(str(product.get("url", "")))
