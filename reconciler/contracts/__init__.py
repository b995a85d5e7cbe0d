"""Vendor contracts: what the vendors' documents say and what we assume.

Everything reconciler relies on about a vendor's API or a notification
target is listed here, each behaviour with the public page or seed that
documents it, or marked assumed with why (see ``shared/vendor-notes.md`` and
README's "Vendor notes"). The values themselves live in one place each and
are not copied here: a vendor's in its package's ``contract`` module (client
code and sandbox simulator import from there), the notification targets' in
:mod:`reconciler.contracts.notify`. Each entry names where its values live
(``where``: dotted names, checked to exist by the tests).

:func:`index` lists them all: each registered vendor's
(:meth:`reconciler.vendors.base.Vendor.contract`), then the targets'.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["documented", "assumed"]


@dataclass(frozen=True)
class Behaviour:
    """One thing reconciler relies on about a vendor."""

    what: str
    status: Status
    #: documented: the public page or seed that says so; assumed: why we chose it
    source: str
    #: where its values live: dotted names (``reconciler.vendors.x.contract.NAME``)
    where: tuple[str, ...] = ()


def documented(what: str, source: str, *where: str) -> Behaviour:
    return Behaviour(what, "documented", source, where)


def assumed(what: str, why: str, *where: str) -> Behaviour:
    return Behaviour(what, "assumed", why, where)


@dataclass(frozen=True)
class Contract:
    """One vendor's or notification target's behaviours."""

    subject: str  # as people write it
    behaviours: tuple[Behaviour, ...]


def resolve(dotted: str) -> Any:
    """The object a ``where`` name refers to; ImportError/AttributeError if none."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(f"no module in {dotted!r}")


def index() -> tuple[Contract, ...]:
    """Every registered vendor's contract, then the notification targets'."""
    from reconciler.contracts.notify import CONTRACTS
    from reconciler.vendors import registered

    return tuple(c for v in registered() if (c := v.contract()) is not None) + CONTRACTS
