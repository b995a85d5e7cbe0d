"""The vendor protocol: everything the core needs from one vendor.

Each vendor is one package under :mod:`reconciler.vendors` (modelled on
octoDNS's providers): its catalog sections, its provider (live state and one
change at a time), its planner, its part of re-deriving a saved plan, its
sensitive-value handling, its plan titles and its sandbox simulator. The core
(engine, plan, render, sinks, cli) loops over the registered vendors
(:func:`reconciler.vendors.registered`) and names none of them.

Modules of a vendor package that need httpx (its provider) are imported inside
the methods that use them, so that ``validate`` never loads an HTTP client.
"""
from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

if TYPE_CHECKING:
    import httpx

    from reconciler.apply import ChangeResult
    from reconciler.catalog.check import Checker
    from reconciler.catalog.model import Catalog, ProductSpec
    from reconciler.contracts import Contract
    from reconciler.errors import Location
    from reconciler.plan.model import Change, Plan, VendorPlan
    from reconciler.plan.select import Selection
    from reconciler.progress import Progress
    from reconciler.providers.base import Provider


class Vendor:
    """One vendor, as the core sees it. Subclasses set :attr:`name` and
    override what they need; the defaults describe a vendor of products
    with no extra steps."""

    #: the vendor's name as it appears in plans, messages and ``--only``
    name: str = ""
    #: the vendor's name as people write it (in counts and messages)
    label: str = ""
    #: top-level catalog keys this vendor owns
    sections: tuple[str, ...] = ()
    #: settings that are not strings, section -> field -> "int", "number" or "bool"
    #: (a whole ``${VAR}`` there is read as that type)
    typed_settings: Mapping[str, Mapping[str, str]] = {}
    #: host names that are one endpoint, alias -> the name used (an apply lock is keyed by it)
    same_hosts: Mapping[str, str] = {}
    #: the key of its own entry inside a product (None: it has none)
    product_key: str | None = None
    #: the product fields it manages, name -> kind (what an announced product's event carries;
    #: what ``sensitive:`` may name)
    product_fields: Mapping[str, str] = {}
    #: its :attr:`product_fields` are a product entry's own top-level keys (one vendor at most),
    #: checked by :meth:`parse_fields`
    owns_top_level_fields: bool = False
    #: its changes set a product's property values (counted apart from products)
    properties: bool = False
    #: its succeeded changes are announced to notification sinks as product events
    announces: bool = False
    #: a delete's saved form keeps the live object it deletes (its ``before``)
    keeps_deleted: bool = False

    def parse_settings(self, data: Mapping[str, Any], check: Checker) -> Any:
        """Its settings from the catalog's top level ``data`` (problems to
        ``check``), read before the products; None: not configured (yet)."""
        return None

    def parse_product(self, section: Any, path: str, location: Location, check: Checker) -> Any:
        """A product's own entry for this vendor (under :attr:`product_key`), validated."""
        return section

    def parse_fields(self, entry: dict[str, Any], path: str, check: Checker,
                     sensitive: set[str] | frozenset[str]) -> tuple[dict[str, Any], set[str] | frozenset[str]]:
        """Its fields among a product ``entry``'s top-level keys (when it
        :attr:`owns_top_level_fields`), validated, ``${VAR}``s substituted; and
        ``sensitive`` with the fields whose value came from the environment
        added. Called for every product: keep it cheap."""
        return {}, sensitive

    def finish_settings(self, settings: Any, data: Mapping[str, Any], products: tuple[ProductSpec, ...],
                        check: Checker) -> Any:
        """Its settings once the products are known (rules across products, defaults they imply)."""
        return settings

    def settings_schema(self) -> dict[str, Any]:
        """The JSON Schema of each of its :attr:`sections` (section -> schema),
        for the catalog's schema (:mod:`reconciler.catalog.schema`, which adds
        the ``${VAR}`` of its :attr:`typed_settings`); a section left out takes any value."""
        return {}

    def product_schema(self) -> dict[str, Any]:
        """The JSON Schema of each key it adds to a product entry (its
        :attr:`product_fields` when it :attr:`owns_top_level_fields`, its
        :attr:`product_key`), key -> schema; a key left out takes any value."""
        return {}

    def contract(self) -> Contract | None:
        """What this vendor's API is relied on for, each behaviour documented
        (with its source) or assumed (:mod:`reconciler.contracts`); None: not listed."""
        return None

    def advice(self, catalog: Catalog, environ: Mapping[str, str]) -> tuple[str, ...]:
        """Warnings ``validate`` shows for ``catalog`` under ``environ``: an
        assumed default the configuration relies on (not an error)."""
        return ()

    def scope(self, catalog: Catalog) -> str | None:
        """Where this vendor's changes for ``catalog`` are made, beyond its
        endpoint (an org, an account), as write-ahead records name it; None: one place."""
        return None

    def configured(self, catalog: Catalog) -> bool:
        """Whether ``catalog`` asks this vendor for anything (it is then planned)."""
        return False

    def open(self, catalog: Catalog, stack: ExitStack, *, environ: Mapping[str, str],
             transport: httpx.BaseTransport | None, parallelism: int, incremental: bool,
             cache_dir: Any) -> Provider | None:
        """This vendor's provider for ``catalog`` (closed with ``stack``), or
        None when the catalog needs nothing read from it."""
        return None

    def start(self, settings: Any, *, environ: Mapping[str, str], transport: httpx.BaseTransport | None,
              parallelism: int, incremental: bool, cache_dir: Any, read: bool) -> Provider | None:
        """A provider made from this vendor's settings alone, before the
        catalog's products are validated (None: it needs the products);
        ``read``: begin reading its live state in the background. The caller
        closes it if the catalog turns out invalid."""
        return None

    def bind(self, provider: Provider, catalog: Catalog) -> None:
        """Tell ``provider`` (opened here or ahead of the catalog) what of ``catalog`` it needs."""

    def refresh(self, provider: Provider, catalog: Catalog, selection: Selection, progress: Progress) -> Any:
        """The live state :meth:`plan` compares against: by default ``provider.refresh``."""
        return provider.refresh(progress)

    def plan(self, catalog: Catalog, live: Any, selection: Selection,
             selected: Callable[[str], bool] | None = None) -> VendorPlan:
        """This vendor's part of a plan, from the catalog and the live state
        its provider's ``refresh`` returned (None: nothing was read).
        ``selected``: the products whose live state was read, if not all selected."""
        raise NotImplementedError

    def provenance(self, provider: Provider) -> dict[str, Any]:
        """Where ``provider`` talks to, as a saved plan records it (its server, account)."""
        return {}

    def narrow(self, provider: Provider, catalog: Catalog, wanted: Callable[[str], bool]) -> None:
        """Read only the products ``wanted`` (re-deriving a saved plan needs no more)."""

    def narrowed(self) -> bool:
        """Whether :meth:`narrow` applies: re-derivation then plans only the saved plan's products."""
        return False

    def not_asked_for(self, change: Change, spec: ProductSpec | None, catalog: Catalog) -> str | None:
        """Why the catalog does not ask for a saved ``change`` (None: it does;
        the saved change must still equal the one a fresh plan makes)."""
        return None

    def units(self, change: Change) -> frozenset[str]:
        """The parts of a resource a change is to, when it is to parts (a
        resource's properties, say); a saved and a fresh change match on them."""
        return frozenset()

    def saved_title(self, change: Change) -> str:
        """How re-derivation names a saved change in its messages."""
        return f"{change.key} ({self.name} id {change.resource_id})" if change.resource_id else change.key

    def moved_on(self, saved: Change, now: list[Change]) -> str | None:
        """The message for a saved change whose resource now needs other
        kinds of change (``now``); None: the generic one."""
        return None

    def title(self, change: Change) -> str | None:
        """How a change is titled in a rendered plan (None: as a product change)."""
        return None

    def saved_body(self, change: Change, hidden: frozenset[str]) -> Any:
        """``change.body`` as saved and shown, its ``hidden`` values replaced by markers."""
        from reconciler.plan.model import SENSITIVE_KEY
        body = change.body
        if isinstance(body, dict) and hidden:
            body = {k: ({SENSITIVE_KEY: k} if k in hidden else v) for k, v in body.items()}
        return body

    def appeared(self, plan: Plan, provider: Provider) -> tuple[ChangeResult, ...]:
        """Planned creates whose resources appeared since the plan, as skipped
        results (checked right before applying; default: none checked)."""
        return ()

    # -- import (``reconciler import``: live products written as catalog entries) --
    #: it lists live products: ``import`` writes an entry for each (the first such vendor a catalog configures)
    lists_products: bool = False
    #: the word of the ``import`` option that gives each product's id in this vendor, a CSV file of
    #: ``code,<word>_id`` lines (``--<word>-ids``); None: it takes none
    import_ids: str | None = None

    def import_sections(self, org: int) -> dict[str, Any]:
        """The settings sections a catalog made by ``import --org`` starts with (none by default)."""
        return {}

    def import_hint(self) -> str:
        """Comment lines on this vendor's settings in an imported catalog (without ``#``; "": none)."""
        return ""

    def import_id(self, text: str) -> Any:
        """One id of the :attr:`import_ids` CSV, parsed; ValueError saying what is wrong."""
        return text

    def import_open(self, catalog: Catalog, stack: ExitStack, *, environ: Mapping[str, str],
                    transport: httpx.BaseTransport | None, parallelism: int) -> Provider | None:
        """A provider for ``import`` from ``catalog``'s settings (this vendor's
        defaults when it has none), closed with ``stack``; None: nothing to read."""
        return None

    def import_pages(self, provider: Provider, progress: Progress,
                     note: Callable[[str], None]) -> Iterator[list[dict[str, Any]]]:
        """Every live product as a catalog entry (``code`` first, then its
        values as they are live, so that a plan of the entry changes nothing),
        a page at a time (a vendor that :attr:`lists_products`). What cannot
        be written so is left out, told to ``note``."""
        raise NotImplementedError

    def import_live(self, live: Any, codes: Iterable[str], note: Callable[[str], None]) -> list[dict[str, Any]]:
        """The entries of the products ``codes`` in ``live`` (what :meth:`refresh`
        returned), as :meth:`import_pages` writes them."""
        raise NotImplementedError

    def import_extend(self, provider: Provider, entries: list[dict[str, Any]], ids: Mapping[str, Any] | None,
                      note: Callable[[str], None]) -> None:
        """Add this vendor's own entry (under :attr:`product_key`) to those of
        ``entries`` it has live state for (``ids``: each code's id, from the
        :attr:`import_ids` CSV): only values the plan would compare and could
        change, as they are live."""

    #: where the sandbox serves this vendor's simulator (None: it has none)
    sandbox_path: str | None = None

    def sandbox_environ(self, box: Any) -> dict[str, str | None]:
        """The environment pointing this vendor at a running sandbox ``box``
        (``reconciler.sandbox.Sandbox``): its URLs and credentials, unpaced;
        None unsets a variable."""
        return {}
