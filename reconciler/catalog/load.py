"""Load and validate ``catalog.yaml`` into an immutable :class:`Catalog`.

Every problem is collected (not just the first) and reported with file, line
and key. Nothing here touches the network.
"""
from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

from reconciler.catalog.check import Checker, did_you_mean, quote_number
from reconciler.catalog import env as catalog_env
from reconciler.catalog.notify import parse_notify
from reconciler.catalog.policy import parse_policy
from reconciler.catalog.model import Catalog, ProductSpec, frozen
from reconciler.catalog import fastyaml
from reconciler.catalog.yamlload import LineFinder, LocDict, LocList, load_yaml
from reconciler.errors import CatalogError, Location, Problem
from reconciler.vendors import Vendor, registered

#: top-level keys of the catalog itself (each vendor adds its sections, before these; ``x-`` keys are free)
TOP_LEVEL_KEYS = ("products", "policy", "notify", "sensitive", "plain_env")
#: keys of every product entry, whatever its vendors (each vendor adds its fields or its entry key)
PRODUCT_META_KEYS = ("code", "absent", "sensitive")
_NONE: frozenset[str] = frozenset()
_NO_SECTIONS: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Source:
    """A catalog file read and parsed: the first stage of loading (then
    :func:`vendor_settings`, then :func:`build`)."""

    filename: str
    digest: str
    text: str
    #: the fast parse's document (plain dicts and lists, products streamed), if it took the file
    data: Any = None
    fast: bool = False


def read_catalog(path: str | os.PathLike[str]) -> Source:
    """Read and parse a catalog file (the fast parser; :func:`build` falls
    back to the located one for messages). Raises :class:`CatalogError`."""
    filename = str(path)
    try:
        raw = Path(filename).read_bytes()
    except OSError as exc:
        raise CatalogError([Problem(Location(filename), f"cannot read catalog: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError([Problem(Location(filename), f"not UTF-8 text ({exc.reason})")]) from None
    parsed, data = fastyaml.parse_fast(text, stream=True)
    return Source(filename, hashlib.sha256(raw).hexdigest(), text, data if parsed else None, parsed)


def vendor_settings(source: Source, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Each vendor's settings as the parsed document declares them, before
    its products are validated (so that reading live state can begin); a
    vendor whose settings have a problem is left out (:func:`build` reports it)."""
    if not source.fast or not isinstance(source.data, dict):
        return {}
    found = {}
    vendors = registered()
    for vendor in vendors:
        check = Checker(source.filename, environ)
        _settle_env(source.data, check, vendors)
        settings = vendor.parse_settings(source.data, check)
        if settings is not None and not check.problems:
            found[vendor.name] = settings
    return found


def build(source: Source, environ: Mapping[str, str] | None = None) -> Catalog:
    """Validate a parsed catalog into a :class:`Catalog`; ``${VAR}``s come from
    ``environ`` (default: the process environment). Raises :class:`CatalogError`."""
    filename, digest = source.filename, source.digest
    if source.fast:  # the fast path: no line numbers, found later only if a message needs one
        try:
            # (the text itself is not kept: it is read again if a message needs a line)
            lines = LineFinder(filename, functools.partial(_text_if_unchanged, filename, digest))
            return build_catalog(source.data, filename, digest, environ, lines, consume=True)
        except (CatalogError, fastyaml.Declined):
            pass  # validate again below, on the located parse, so every problem has its line
    data = load_yaml(source.text, filename)
    return build_catalog(data, filename, digest, environ, LineFinder(filename, located=data))


def load_catalog(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                 environ: Mapping[str, str] | None = None) -> Catalog:
    """Read, parse and validate a catalog (a file, a directory, or several
    ``-c`` given in order: :mod:`reconciler.catalog.sources`); ``${VAR}``s come
    from ``environ`` (default: the process environment). Raises :class:`CatalogError`."""
    from reconciler.catalog import sources  # (several files, or a directory)
    if sources.is_multi(path):
        return sources.load(path, environ)
    return build(read_catalog(sources.arguments(path)[0]), environ)


def _settle_env(data: dict, check: Checker, vendors: Sequence[Any]) -> None:  # type: ignore[type-arg]
    """``plain_env`` for ``check``, and each whole ``${VAR}`` of a typed
    setting (the catalog's own and each vendor's) given its type, in place."""
    check.plain = catalog_env.plain_env(data, check)
    typed = dict(catalog_env.TYPED_SETTINGS)
    for vendor in vendors:
        typed.update(vendor.typed_settings)
    catalog_env.type_settings(data, check, typed)


def _text_if_unchanged(filename: str, digest: str) -> str | None:
    """The catalog's text again, if the file still holds what was loaded."""
    try:
        raw = Path(filename).read_bytes()
    except OSError:
        return None
    return raw.decode("utf-8") if hashlib.sha256(raw).hexdigest() == digest else None


def build_catalog(data: Any, filename: str, digest: str, environ: Mapping[str, str] | None = None,
                  lines: LineFinder | None = None, consume: bool = False) -> Catalog:
    """Validate parsed YAML into a :class:`Catalog`. ``consume``: drop each
    product entry from ``data`` once it is built, so that the parsed document
    and the catalog are not both held in full (a large catalog's peak memory)."""
    check = Checker(filename, environ)
    if data is None:
        data = LocDict()
    if not isinstance(data, dict):
        raise CatalogError([Problem(Location(filename, 1), "the catalog must be a mapping at the top level")])
    vendors = registered()
    check.unknown_keys(data, (*(s for v in vendors for s in v.sections), *TOP_LEVEL_KEYS,
                              *extension_keys(data)), "")
    _settle_env(data, check, vendors)
    settings = {vendor.name: vendor.parse_settings(data, check) for vendor in vendors}
    shape = _Entries.of(vendors)
    sensitive = _catalog_sensitive(data, check, shape.known)
    products = _products(data, check, consume, sensitive, shape)
    for vendor in vendors:
        settings[vendor.name] = vendor.finish_settings(settings[vendor.name], data, products, check)
    policy = parse_policy(data.get("policy"), check.at(data, "policy", "policy"), check)
    notify = parse_notify(data["notify"], check.at(data, "notify", "notify"), check) if "notify" in data else None
    if check.problems:
        raise CatalogError(check.problems)
    return Catalog(path=filename, digest=digest, products=products, notify=notify,
                   settings=frozen({name: value for name, value in settings.items() if value is not None}),
                   policy=policy, lines=lines, sensitive=sensitive)


def extension_keys(data: dict) -> list[str]:  # type: ignore[type-arg]
    """Top-level ``x-`` keys: free for anchors that products merge (``<<: *defaults``), ignored otherwise."""
    return [key for key in data if isinstance(key, str) and key.startswith("x-")]


def _catalog_sensitive(data: dict, check: Checker, known: Mapping[str, str]) -> frozenset[str]:  # type: ignore[type-arg]
    """The top-level ``sensitive:`` list: fields hidden for every product,
    live-only and tombstoned ones included (whose values the catalog cannot
    say); ``known``: every vendor's product fields."""
    if "sensitive" not in data:
        return _NONE
    value, loc = data["sensitive"], check.at(data, "sensitive", "sensitive")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        check.add(loc, "sensitive must be a list of field names")
        return _NONE
    for index, name in enumerate(value):
        if name not in known or name == "code":
            check.add(check.at(value, index, f"sensitive[{index}]"),
                      f"sensitive names unknown field {name!r}{did_you_mean(name, known)}"
                      if name != "code" else "the code cannot be sensitive (it names the product)")
    return frozenset(value)


def _no_fields(entry: dict, path: str, check: Checker,  # type: ignore[type-arg]
               sensitive: set[str] | frozenset[str]) -> tuple[dict[str, Any], set[str] | frozenset[str]]:
    return {}, sensitive  # (no vendor's fields are an entry's own keys)


@dataclass(frozen=True)
class _Entries:
    """What a product entry may hold, from the registered vendors (worked out once per catalog)."""

    #: every key an entry may have
    keys: frozenset[str]
    #: the entry's own fields checked (those of the vendor whose fields they are)
    parse_fields: Callable[..., tuple[dict[str, Any], set[str] | frozenset[str]]]
    #: those fields (``sensitive: true`` hides the ones an entry declares)
    own: Mapping[str, str]
    #: every vendor's product fields (what ``sensitive:`` may name)
    known: Mapping[str, str]
    #: each vendor with an entry of its own: (its name, its key, the vendor)
    sections: tuple[tuple[str, str, Vendor], ...]

    @classmethod
    def of(cls, vendors: Sequence[Vendor]) -> _Entries:
        owner = next((v for v in vendors if v.owns_top_level_fields), None)
        own = owner.product_fields if owner is not None else {}
        sections = tuple((v.name, v.product_key, v) for v in vendors if v.product_key)
        return cls(keys=frozenset((*PRODUCT_META_KEYS, *own, *(key for _, key, _ in sections))),
                   parse_fields=owner.parse_fields if owner is not None else _no_fields, own=own,
                   known=field_names(vendors), sections=sections)


def field_names(vendors: Sequence[Vendor]) -> dict[str, str]:
    """Every vendor's product fields, name -> kind, in the vendors' order."""
    return {name: kind for vendor in vendors for name, kind in vendor.product_fields.items()}


def _products(data: dict, check: Checker, consume: bool, sensitive: frozenset[str],  # type: ignore[type-arg]
              shape: _Entries) -> tuple[ProductSpec, ...]:
    entries = data.get("products")
    if entries is None:
        return ()
    if not isinstance(entries, fastyaml.Streamed) and not check.expect(
            entries, (list,), check.at(data, "products", "products"), "a list of products"):
        return ()
    result: list[ProductSpec] = []
    seen: dict[str, int | None] = {}
    located = isinstance(entries, LocList)  # (else no lines to look up: the fast path)
    forget = consume and isinstance(entries, list)  # (a Streamed list forgets its items by itself)
    filename = check.filename
    for index, entry in enumerate(entries):
        path = f"products[{index}]"
        loc = check.at(entries, index, path) if located else Location(filename, None, path)
        if type(entry) is not dict and not check.expect(entry, (dict,), loc, "a product mapping"):
            continue
        spec = _product(entry, path, loc, check, sensitive, shape)
        if forget:
            entries[index] = None
        if spec is None:
            continue
        if spec.code in seen:
            check.add(check.at(entry, "code", f"{path}.code"),
                      f"duplicate code {spec.code!r} (first declared on line {seen[spec.code]})")
            continue
        seen[spec.code] = spec.location.line
        result.append(spec)
    return tuple(result)


def _product(entry: dict, path: str, loc: Location, check: Checker,  # type: ignore[type-arg]
             everywhere: frozenset[str], shape: _Entries) -> ProductSpec | None:
    keys = shape.keys
    if not keys.issuperset(entry):
        check.unknown_keys(entry, keys, path)
    code = entry.get("code")
    if "code" not in entry:
        check.add(loc, "missing required key 'code'")
        return None
    if not isinstance(code, str) or not code.strip():
        where = check.at(entry, "code", f"{path}.code")
        if isinstance(code, (int, float)) and not isinstance(code, bool):
            check.add(where, f"codes are strings: quote it (code: {quote_number(code)})")
        else:
            check.add(where, "code must be a non-empty string")
        return None
    absent = entry.get("absent", False)
    if absent is not False and not check.expect(absent, (bool,), check.at(entry, "absent", f"{path}.absent"),
                                                "true or false"):
        absent = False
    if absent:
        extra = [k for k in entry if k not in ("code", "absent")]
        if extra:
            check.add(check.at(entry, extra[0], f"{path}.{extra[0]}"),
                      "a tombstone (absent: true) takes no other fields than code")
    sensitive: set[str] | frozenset[str] = {*_sensitive_list(entry, path, check, shape), *everywhere} \
        if "sensitive" in entry else everywhere
    fields, sensitive = shape.parse_fields(entry, path, check, sensitive)
    sections: Mapping[str, Any] = _NO_SECTIONS
    for name, key, vendor in shape.sections:
        if key in entry:
            section = vendor.parse_product(entry[key], f"{path}.{key}", check.at(entry, key, f"{path}.{key}"), check)
            if section is not None:
                sections = {**sections, name: section}
    return ProductSpec(code=code, location=loc, absent=bool(absent), fields=MappingProxyType(fields),
                       sensitive=sensitive if type(sensitive) is frozenset else frozenset(sensitive),
                       sections=sections if sections is _NO_SECTIONS else MappingProxyType(sections))


def _sensitive_list(entry: dict, path: str, check: Checker, shape: _Entries) -> list[str]:  # type: ignore[type-arg]
    value = entry.get("sensitive", [])
    loc = check.at(entry, "sensitive", f"{path}.sensitive")
    if value is True:
        return [k for k in entry if k in shape.own and k != "code"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        check.add(loc, "sensitive must be true or a list of field names")
        return []
    for name in value:
        if name not in shape.known:
            check.add(loc, f"sensitive names unknown field {name!r}{did_you_mean(name, shape.known)}")
    return list(value)
