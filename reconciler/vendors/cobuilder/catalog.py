"""Validation of Cobuilder settings and per-product property values against
the documented request model, before any call."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from reconciler.catalog.check import Checker, substitute_env
from reconciler import endpoints
from reconciler.vendors.cobuilder import contract as cb
from reconciler.errors import Location

if TYPE_CHECKING:
    from reconciler.catalog.model import Catalog, ProductSpec


@dataclass(frozen=True)
class CobuilderSettings:
    base_url: str
    token_url: str | None
    audience_url: str
    location: Location
    max_reads_per_minute: float | None = None   # Cobuilder publishes no limit: unpaced by default
    max_writes_per_minute: float | None = None
    #: the assumed endpoints' path templates (``update``, ``delete``), the contract's unless overridden
    endpoints: Mapping[str, str] = field(default_factory=lambda: dict(cb.ENDPOINTS))
    #: whether ``audience_url`` is the assumed default (the catalog names none)
    audience_assumed: bool = False


@dataclass(frozen=True, slots=True)
class PropertySpec:
    guid: str
    unit_guid: str
    values: tuple[Any, ...]  # value objects exactly as declared (plain dicts)
    location: Location
    sensitive: bool = False  # a value came from the environment: shown and saved as (sensitive)


@dataclass(frozen=True, slots=True)
class CobuilderProductSpec:
    id: int
    exclusive: bool
    properties: tuple[PropertySpec, ...]
    location: Location


#: the keys of the ``cobuilder`` section, of a product's ``cobuilder:`` entry, of one of its properties
SETTINGS_KEYS = ("base_url", "token_url", "audience_url", "max_reads_per_minute", "max_writes_per_minute", "endpoints")
PRODUCT_KEYS = ("id", "exclusive", "properties")
PROPERTY_KEYS = ("propertyGuid", "unitGuid", "values")
#: The settings that receive credentials, and the environment variables that override them.
_CREDENTIAL_URLS = {"base_url": "COBUILDER_BASE_URL", "token_url": "COBUILDER_TOKEN_URL"}


def settings_of(catalog: Catalog) -> CobuilderSettings | None:
    """The catalog's ``cobuilder`` settings (None: no product needs them)."""
    return catalog.settings.get("cobuilder")


def entry_of(product: ProductSpec) -> CobuilderProductSpec | None:
    """A product's ``cobuilder:`` entry (None: it declares none)."""
    sections = product.sections  # (a mappingproxy: its get() would make a bound method per product)
    return sections["cobuilder"] if "cobuilder" in sections else None


def parse_settings(section: Any, location: Location, check: Checker) -> CobuilderSettings | None:
    if section is None:
        section = {}
    if not check.expect(section, (dict,), location, "a mapping"):
        return None
    check.unknown_keys(section, SETTINGS_KEYS, "cobuilder")
    urls: dict[str, str | None] = {}
    for key, default in (("base_url", cb.DEFAULT_BASE_URL), ("token_url", None),
                         ("audience_url", cb.DEFAULT_AUDIENCE_URL)):
        value = section.get(key, default)
        loc = check.at(section, key, f"cobuilder.{key}")
        if value is not None and check.expect(value, (str,), loc, "a URL string"):
            value, used_env = substitute_env(value, loc, check)
            if key in _CREDENTIAL_URLS:  # (the audience is only a name sent to the token endpoint)
                problem = endpoints.catalog_url_problem(value, label="Cobuilder", hosts=cb.HOSTS,
                                                        env_name=_CREDENTIAL_URLS[key], environ=check.environ,
                                                        quote=not used_env)
            elif not value.startswith(("http://", "https://")):
                problem = "must start with http:// or https://"
            else:
                problem = None
            if problem:
                check.add(loc, f"{key} {problem}")
        urls[key] = value.rstrip("/") if isinstance(value, str) else None
    return CobuilderSettings(str(urls["base_url"]), urls["token_url"], str(urls["audience_url"]), location,
                             check.rate(section, "max_reads_per_minute", "cobuilder", None),
                             check.rate(section, "max_writes_per_minute", "cobuilder", None),
                             _endpoints(section, check), audience_assumed=section.get("audience_url") is None)


def _endpoints(section: dict, check: Checker) -> dict[str, str]:  # type: ignore[type-arg]
    """``cobuilder.endpoints``: path templates overriding the assumed update
    and delete endpoints, checked here (relative to ``base_url``, only known
    placeholders). Taken as written: no ``${VAR}`` (a saved plan is bound to
    the catalog's text, so the endpoints it is applied with are the reviewed ones)."""
    given = section.get("endpoints")
    result = dict(cb.ENDPOINTS)
    if given is None:
        return result
    loc = check.at(section, "endpoints", "cobuilder.endpoints")
    if not check.expect(given, (dict,), loc, "a mapping of update and delete path templates"):
        return result
    check.unknown_keys(given, tuple(cb.ENDPOINTS), "cobuilder.endpoints")
    for kind in cb.ENDPOINTS:
        if kind not in given:
            continue
        template = given[kind]
        if isinstance(template, str) and "${" in template:
            problem: str | None = "is taken as written: ${VAR} is not substituted in an endpoint"
        else:
            problem = cb.endpoint_problem(kind, template)
        if problem:
            check.add(check.at(given, kind, f"cobuilder.endpoints.{kind}"), f"{kind} endpoint {problem}")
        else:
            result[kind] = template
    return result


def client_credentials_problems(settings: CobuilderSettings, environ: Mapping[str, str]) -> list[str]:
    """What client credentials (``COBUILDER_CLIENT_ID``/``_SECRET``, no
    ``COBUILDER_TOKEN``) lack: a token endpoint (no public default exists),
    naming the audience too when it is the assumed default. Empty when a
    static token is used or the token endpoint is given (a missing audience
    alone is :func:`client_credentials_advice`: a warning)."""
    if not _uses_client_credentials(environ) or settings.token_url or environ.get("COBUILDER_TOKEN_URL", "").strip():
        return []
    also = (f"; audience_url is missing too (the assumed {cb.DEFAULT_AUDIENCE_URL} would be sent): set "
            "cobuilder.audience_url" if settings.audience_assumed else "")
    given = _client_credentials(environ)
    named = "COBUILDER_CLIENT_ID/COBUILDER_CLIENT_SECRET are" if len(given) == 2 else f"{given[0]} is"
    return [f"token_url is missing: {named} set (client credentials) "
            "and Cobuilder publishes no default token endpoint; set cobuilder.token_url or COBUILDER_TOKEN_URL"
            + also]


def client_credentials_advice(settings: CobuilderSettings, environ: Mapping[str, str]) -> list[str]:
    """What client credentials rely on that is assumed (the audience, when the
    catalog names none), and the half of the pair that is not set."""
    if not _uses_client_credentials(environ):
        return []
    advice = []
    given = _client_credentials(environ)
    if len(given) == 1:
        missing = ({"COBUILDER_CLIENT_ID", "COBUILDER_CLIENT_SECRET"} - set(given)).pop()
        advice.append(f"{missing} is not set: {given[0]} alone fetches no Cobuilder token (plan and apply stop); "
                      "set both, or COBUILDER_TOKEN")
    if settings.audience_assumed:
        advice.append(f"cobuilder.audience_url is missing: the token request names the assumed audience "
                      f"{cb.DEFAULT_AUDIENCE_URL} (Cobuilder documents no default); set cobuilder.audience_url to "
                      f"the audience your Cobuilder client was issued for")
    return advice


def _client_credentials(environ: Mapping[str, str]) -> list[str]:
    """Which of COBUILDER_CLIENT_ID and COBUILDER_CLIENT_SECRET are set."""
    return [name for name in ("COBUILDER_CLIENT_ID", "COBUILDER_CLIENT_SECRET") if environ.get(name, "").strip()]


def _uses_client_credentials(environ: Mapping[str, str]) -> bool:
    return not environ.get("COBUILDER_TOKEN", "").strip() and bool(_client_credentials(environ))


def parse_product(section: Any, path: str, location: Location, check: Checker) -> CobuilderProductSpec | None:
    if not check.expect(section, (dict,), location, "a mapping with id and properties"):
        return None
    # (Runs for every product: the usual entry is passed by cheap checks, and
    # a location is worked out only for a problem.)
    if not _ENTRY_KEYS.issuperset(section):
        check.unknown_keys(section, PRODUCT_KEYS, path)
    product_id = section.get("id")
    # A wrong id does not hide the entry's other problems: all are reported at once.
    if "id" not in section:
        check.add(location, "missing required key 'id' (the Cobuilder product id)")
        valid_id = False
    elif isinstance(product_id, str) and product_id.strip().isdigit():
        check.add(check.at(section, "id", f"{path}.id"),
                  f"the Cobuilder product id is a number: write it without quotes (id: {product_id.strip()})")
        valid_id = False
    else:
        valid_id = type(product_id) is int or check.expect(product_id, (int,), check.at(section, "id", f"{path}.id"),
                                                           "an integer product id")
    exclusive = section.get("exclusive", False)
    if type(exclusive) is not bool and not check.expect(
            exclusive, (bool,), check.at(section, "exclusive", f"{path}.exclusive"), "true or false"):
        exclusive = False
    props = section.get("properties", [])
    result: list[PropertySpec] = []
    if type(props) is list or check.expect(props, (list,), check.at(section, "properties", f"{path}.properties"),
                                           "a list of properties"):
        seen: dict[str, int | None] = {}
        for index, prop in enumerate(props):
            spec = _quick_property(prop, check.at(props, index, f"{path}.properties[{index}]"))
            if spec is None:  # something to report, or to substitute: the full check
                spec = _property(prop, f"{path}.properties[{index}]",
                                 check.at(props, index, f"{path}.properties[{index}]"), check)
            if spec is None:
                continue
            if spec.guid in seen:
                check.add(spec.location, f"property {spec.guid} is declared twice (first on line {seen[spec.guid]})")
                continue
            seen[spec.guid] = spec.location.line
            result.append(spec)
    if not valid_id:
        return None
    return CobuilderProductSpec(product_id, bool(exclusive), tuple(result), location)


def _guid(container: dict, key: str, path: str, check: Checker) -> str | None:  # type: ignore[type-arg]
    loc = check.at(container, key, f"{path}.{key}")
    if key not in container:
        check.add(check.at(container, None, path), f"missing required key {key!r}")
        return None
    value = container[key]
    if not check.expect(value, (str,), loc, "a 22-character GUID string"):
        return None
    if not cb.GUID_PATTERN.fullmatch(value):
        check.add(loc, f"{value!r} is not a GUID (22 non-space characters, pattern ^\\S{{22}}$)")
        return None
    return value


_ENTRY_KEYS = frozenset(PRODUCT_KEYS)
_PROPERTY_KEYS = frozenset(PROPERTY_KEYS)
#: value keys whose values are plain strings, each key kept once (not once per value object)
_STRING_KEYS = {key: key for key in cb.VALUE_STRING_KEYS}
_LIMITED = frozenset(cb.LENGTH_LIMITED_KEYS)


def _quick_property(prop: Any, location: Location) -> PropertySpec | None:
    """The usual property (two GUIDs, values of plain strings, nothing from
    the environment) checked cheaply, or None: :func:`_property` checks it
    in full and says what is wrong. GUIDs are interned and value keys shared:
    a large catalog repeats them in every product."""
    if type(prop) is not dict or not _PROPERTY_KEYS.issuperset(prop):
        return None
    guid, unit, values = prop.get("propertyGuid"), prop.get("unitGuid"), prop.get("values")
    if type(guid) is not str or type(unit) is not str or type(values) is not list:
        return None
    if not cb.GUID_PATTERN.fullmatch(guid) or not cb.GUID_PATTERN.fullmatch(unit):
        return None
    clean = []
    for value in values:
        if type(value) is not dict:
            return None
        item = {}
        for key, text in value.items():
            canonical = _STRING_KEYS.get(key)
            if canonical is None or type(text) is not str or "${" in text or (
                    len(text) > cb.MAX_VALUE_LENGTH and key in _LIMITED):
                return None
            item[canonical] = text
        clean.append(item)
    return PropertySpec(sys.intern(guid), sys.intern(unit), tuple(clean), location)


def _property(prop: Any, path: str, location: Location, check: Checker) -> PropertySpec | None:
    if not check.expect(prop, (dict,), location, "a property mapping"):
        return None
    check.unknown_keys(prop, PROPERTY_KEYS, path)
    guid = _guid(prop, "propertyGuid", path, check)
    unit = _guid(prop, "unitGuid", path, check)
    if "values" not in prop:
        check.add(location, "missing required key 'values'")
        return None
    values = prop["values"]
    if not check.expect(values, (list,), check.at(prop, "values", f"{path}.values"), "a list of value objects"):
        return None
    clean = [_value(v, f"{path}.values[{i}]", check.at(values, i, f"{path}.values[{i}]"), check)
             for i, v in enumerate(values)]
    if guid is None or unit is None or any(v is None for v in clean):
        return None
    from_env = any(isinstance(text, str) and "${" in text
                   for value in values if isinstance(value, dict) for text in value.values())
    return PropertySpec(guid, unit, tuple(clean), location, from_env)


def _value(value: Any, path: str, location: Location, check: Checker) -> dict[str, Any] | None:
    if not check.expect(value, (dict,), location, "a value object"):
        return None
    ok = len(check.problems)
    check.unknown_keys(value, cb.VALUE_KEYS, path)
    result: dict[str, Any] = {}
    for key, item in value.items():
        loc = check.at(value, key, f"{path}.{key}")
        if key in cb.VALUE_STRING_KEYS:
            if item is not None and check.text(item, loc, key):
                item, _ = substitute_env(item, loc, check)
                if key in cb.LENGTH_LIMITED_KEYS and len(item) > cb.MAX_VALUE_LENGTH:
                    check.add(loc, f"{key} is {len(item)} characters long; at most {cb.MAX_VALUE_LENGTH} allowed")
        elif key == "ifdValues":
            item = _objects(item, cb.IFD_KEYS, loc, check, guid_key="valueGuid")
        elif key == "valueTranslations":
            item = _objects(item, cb.TRANSLATION_KEYS, loc, check)
        result[key] = item
    return result if len(check.problems) == ok else None


def _objects(items: Any, keys: tuple[str, ...], location: Location, check: Checker,
             guid_key: str | None = None) -> list[dict[str, Any]]:
    if not check.expect(items, (list,), location, "a list"):
        return []
    result = []
    for index, item in enumerate(items):
        path = f"{location.path}[{index}]"
        loc = check.at(items, index, path)
        if not check.expect(item, (dict,), loc, "a mapping"):
            continue
        check.unknown_keys(item, keys, path)
        for key, text in item.items():
            if key in keys and not isinstance(text, str):
                check.add(check.at(item, key, f"{path}.{key}"), "expected a string")
        if guid_key and isinstance(item.get(guid_key), str) and not cb.GUID_PATTERN.fullmatch(item[guid_key]):
            check.add(check.at(item, guid_key, f"{path}.{guid_key}"), f"{item[guid_key]!r} is not a GUID")
        result.append(dict(item))
    return result


def _unique_cobuilder_ids(products: tuple[ProductSpec, ...], check: Checker) -> None:
    seen: dict[int, str] = {}
    for product in products:
        entry = entry_of(product)
        if entry is None:
            continue
        first = seen.setdefault(entry.id, product.code)
        if first != product.code:
            check.add(entry.location, f"Cobuilder product {entry.id} is already used by product {first!r}")
