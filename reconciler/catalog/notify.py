"""Validation of the catalog's ``notify`` section into :class:`NotifySettings`.

Everything is checked offline (``reconciler validate`` and before any apply)
with file, line and key. Webhook secrets must come from the environment
(``${VAR}``); they are held in a :class:`Secret` that never shows its value.
Credentials for user.com and Voucherify are read at delivery time, never here.

A ``${VAR}`` of this section that is not set is not a problem of the catalog:
``validate`` and ``plan`` never notify, so CI jobs that only plan need no
notification secrets. The setting records it (``unset_env``) and is left
unresolved; ``apply`` and ``notify`` refuse to start while any is missing
(:func:`reconciler.sinks.deliver.missing_credentials`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from reconciler import endpoints
from reconciler.catalog.check import ENV_VAR, Checker, did_you_mean, substitute_env
from reconciler.catalog.model import frozen
from reconciler.contracts import notify as nc
from reconciler.vendors import registered
from reconciler.errors import Location

NOTIFY_KEYS = ("webhooks", "usercom", "voucherify")
WEBHOOK_KEYS = ("url", "secret", "events")
USERCOM_KEYS = ("base_url", "event_type", *nc.USERCOM_ATTRIBUTIONS, nc.USERCOM_V1_ATTRIBUTION, "attributes")
VOUCHERIFY_KEYS = ("base_url", "event", "customer", "max_requests_per_minute")
Section = dict[Any, Any]  # a LocDict from the YAML loader
#: Product fields user.com can take as attributes (scalars; custom_fields is an object).


class Secret:
    """A secret string: compares by value, never shows it in ``str``/``repr``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


#: (variable, where it is used) for each ``${VAR}`` of the notify section that was not set
UnsetEnv = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    secret: Secret | None  # None: its variable was not set (see unset_env)
    events: tuple[str, ...] = nc.EVENT_NAMES
    secret_env: tuple[str, ...] = ()  # the environment variables the secret came from
    index: int = 0
    location: Location | None = field(default=None, compare=False)
    unset_env: UnsetEnv = ()

    @property
    def key(self) -> str:
        """A stable name for the outbox that does not reveal the URL."""
        return "webhook:" + hashlib.sha256(self.url.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        """How messages name this webhook: its position and host (a URL path may hold a token)."""
        return f"webhooks[{self.index}] ({urlsplit(self.url).hostname or '?'})"


@dataclass(frozen=True)
class UserComSettings:
    event_type: str
    attribution: tuple[str, int | str]  # ("user_id", 431) or ("user_custom_id", "x")
    attributes: tuple[str, ...]
    base_url: str | None = None  # None: USERCOM_BASE_URL must be set at delivery time
    location: Location | None = field(default=None, compare=False)
    unset_env: UnsetEnv = ()


@dataclass(frozen=True)
class VoucherifySettings:
    event: str
    customer: Mapping[str, Any]
    base_url: str = nc.VOUCHERIFY_DEFAULT_BASE_URL
    location: Location | None = field(default=None, compare=False)
    unset_env: UnsetEnv = ()
    max_requests_per_minute: float | None = nc.VOUCHERIFY_DEFAULT_MAX_RPM  # None: unpaced


@dataclass(frozen=True)
class NotifySettings:
    webhooks: tuple[WebhookSettings, ...] = ()
    usercom: UserComSettings | None = None
    voucherify: VoucherifySettings | None = None

    @property
    def configured(self) -> bool:
        return bool(self.webhooks) or self.usercom is not None or self.voucherify is not None

    @property
    def unset_env(self) -> UnsetEnv:
        """Every ``${VAR}`` of the section that was not set when it was loaded."""
        sections = (*self.webhooks, self.usercom, self.voucherify)
        return tuple(item for section in sections if section is not None for item in section.unset_env)


def parse_notify(section: Any, location: Location, check: Checker) -> NotifySettings:
    """Validate the ``notify`` section; problems go to ``check``."""
    if section is None:
        return NotifySettings()
    if not check.expect(section, (dict,), location, "a mapping with webhooks, usercom or voucherify"):
        return NotifySettings()
    check.unknown_keys(section, NOTIFY_KEYS, "notify")
    webhooks = _webhooks(section, check)
    usercom = _optional_section(section, "usercom", _usercom, check)
    voucherify = _optional_section(section, "voucherify", _voucherify, check)
    return NotifySettings(webhooks=webhooks, usercom=usercom, voucherify=voucherify)


def _optional_section(section: Section, key: str, parse: Any, check: Checker) -> Any:
    if key not in section:
        return None
    loc = check.at(section, key, f"notify.{key}")
    value = section[key]
    if not check.expect(value, (dict,), loc, "a mapping"):
        return None
    return parse(value, loc, check)


def _required(value: str) -> tuple[str, ...]:
    """The variables of ``value``'s ``${VAR}``s that give no default (a
    ``${VAR:-default}`` is never unset, and never a secret's source: its
    default would be written in the catalog)."""
    return tuple(m.group(1) for m in ENV_VAR.finditer(value) if m.group(2) is None)


def _unset(value: str, path: str, check: Checker) -> UnsetEnv:
    """The ``${VAR}``s of ``value`` that the environment does not set, each with ``path``."""
    return tuple((name, path) for name in dict.fromkeys(_required(value)) if name not in check.environ)


def _url(container: Section, key: str, path: str, check: Checker,
         credentials: tuple[str, tuple[str, ...], str] | None = None) -> tuple[str | None, bool, UnsetEnv]:
    """A validated http(s) URL (``${VAR}`` substituted), whether it used the
    environment, and its unset variables (then the URL is left as written,
    unchecked: it is checked when apply or notify runs with them set).
    ``credentials``: (label, documented hosts, environment variable) of a
    target whose credentials go to this URL, which must then pass the trust
    rule of :mod:`reconciler.endpoints` (a webhook's URL may be anywhere: it
    receives only the signed payload)."""
    loc = check.at(container, key, path)
    value = container[key]
    if not check.expect(value, (str,), loc, "a URL string"):
        return None, False, ()
    unset = _unset(value, path, check)
    if unset:
        return value, True, unset
    value, used_env = substitute_env(value, loc, check)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = "the value from the environment" if used_env else repr(value)
        check.add(loc, f"{key} must be an http:// or https:// URL with a host, got {shown}")
        return None, used_env, ()
    too_long = endpoints.url_length_problem(value)
    if too_long:
        check.add(loc, f"{key} {too_long}")
        return None, used_env, ()
    if credentials is not None:
        label, hosts, env_name = credentials
        problem = endpoints.catalog_url_problem(value, label=label, hosts=hosts, env_name=env_name,
                                                environ=check.environ, quote=not used_env)
        if problem:
            check.add(loc, f"{key} {problem}")
            return None, used_env, ()
    return value.rstrip("/") if key == "base_url" else value, used_env, ()


def _webhooks(section: Section, check: Checker) -> tuple[WebhookSettings, ...]:
    if "webhooks" not in section:
        return ()
    entries = section["webhooks"]
    if not check.expect(entries, (list,), check.at(section, "webhooks", "notify.webhooks"), "a list of webhooks"):
        return ()
    result: list[WebhookSettings] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        path = f"notify.webhooks[{index}]"
        loc = check.at(entries, index, path)
        if not check.expect(entry, (dict,), loc, "a webhook mapping with url and secret"):
            continue
        check.unknown_keys(entry, WEBHOOK_KEYS, path)
        for key in ("url", "secret"):
            if key not in entry:
                check.add(loc, f"missing required key {key!r}")
        url, _, url_unset = _url(entry, "url", f"{path}.url", check) if "url" in entry else (None, False, ())
        secret, names, secret_unset = _secret(entry, path, check) if "secret" in entry else (None, (), ())
        events = _events(entry, path, check)
        if url is not None and url in seen:
            check.add(check.at(entry, "url", f"{path}.url"),
                      f"the same url as notify.webhooks[{seen[url]}]; list each receiver once")
            continue
        if url is None or (secret is None and not secret_unset) or events is None:
            continue
        seen[url] = index
        result.append(WebhookSettings(url=url, secret=secret, events=events, secret_env=names,
                                      index=index, location=loc, unset_env=url_unset + secret_unset))
    return tuple(result)


def _secret(entry: Section, path: str, check: Checker) -> tuple[Secret | None, tuple[str, ...], UnsetEnv]:
    """The secret (None if not usable), the variables it comes from, and those not set."""
    loc = check.at(entry, "secret", f"{path}.secret")
    value = entry["secret"]
    names = _required(value) if isinstance(value, str) else ()
    if not names:
        # Never echo the value: it may be a secret typed into the file.
        check.add(loc, "secret must come from the environment, like ${WEBHOOK_SECRET}; "
                       "do not write signing secrets into the catalog")
        return None, (), ()
    unset = _unset(value, f"{path}.secret", check)
    if unset:
        return None, names, unset  # needed by apply and notify only, which check for it first
    resolved, _ = substitute_env(value, loc, check)
    if not resolved.strip():
        check.add(loc, f"secret is empty (check {', '.join(names)})")
        return None, names, ()
    return Secret(resolved), names, ()


def _events(entry: Section, path: str, check: Checker) -> tuple[str, ...] | None:
    if "events" not in entry:
        return nc.EVENT_NAMES
    loc = check.at(entry, "events", f"{path}.events")
    value = entry["events"]
    if not isinstance(value, list) or not value:
        check.add(loc, f"events must be a non-empty list of {', '.join(nc.EVENT_NAMES)}")
        return None
    ok = True
    for index, name in enumerate(value):
        if name not in nc.EVENT_NAMES:
            ok = False
            check.add(check.at(value, index, f"{path}.events[{index}]"),
                      f"unknown event {name!r}{did_you_mean(str(name), nc.EVENT_NAMES)}; "
                      f"one of {', '.join(nc.EVENT_NAMES)}")
    if not ok:
        return None
    return tuple(name for name in nc.EVENT_NAMES if name in value)


def _usercom(section: Section, loc: Location, check: Checker) -> UserComSettings | None:
    path = "notify.usercom"
    check.unknown_keys(section, USERCOM_KEYS, path)
    ok = True
    base_url = None
    unset: UnsetEnv = ()
    if "base_url" in section:
        base_url, _, unset = _url(section, "base_url", f"{path}.base_url", check,
                                  ("user.com", nc.USERCOM_HOSTS, nc.USERCOM_BASE_URL_ENV))
        ok = base_url is not None
    event_type = section.get("event_type")
    if "event_type" not in section:
        check.add(loc, f"missing required key 'event_type' (one of {', '.join(nc.USERCOM_EVENT_TYPES)})")
        ok = False
    elif event_type not in nc.USERCOM_EVENT_TYPES:
        check.add(check.at(section, "event_type", f"{path}.event_type"),
                  f"event_type {event_type!r} is not one of user.com's product event types"
                  f"{did_you_mean(str(event_type), nc.USERCOM_EVENT_TYPES)}: "
                  f"{', '.join(nc.USERCOM_EVENT_TYPES)}")
        ok = False
    attribution, attribution_unset = _attribution(section, loc, check)
    attributes = _attributes(section, loc, check)
    if not ok or attribution is None or attributes is None:
        return None
    return UserComSettings(event_type=str(event_type), attribution=attribution, attributes=attributes,
                           base_url=base_url, location=loc, unset_env=unset + attribution_unset)


def _attribution(section: Section, loc: Location,
                 check: Checker) -> tuple[tuple[str, int | str] | None, UnsetEnv]:
    if nc.USERCOM_V1_ATTRIBUTION in section:
        check.add(check.at(section, nc.USERCOM_V1_ATTRIBUTION, f"notify.usercom.{nc.USERCOM_V1_ATTRIBUTION}"),
                  "client is user.com's API v1 attribution; reconciler speaks v2: use user_id (user.com's "
                  "integer user id, what v1 called client) or user_custom_id (your string id)")
        return None, ()
    given = [key for key in nc.USERCOM_ATTRIBUTIONS if key in section]
    if len(given) != 1:
        what = "none" if not given else ", ".join(given)
        check.add(loc, f"give exactly one of user_id or user_custom_id (the user the "
                       f"events are attributed to), got {what}")
        return None, ()
    key = given[0]
    value = section[key]
    key_loc = check.at(section, key, f"notify.usercom.{key}")
    if key == "user_custom_id":
        if not isinstance(value, str) or not value.strip():
            check.add(key_loc, "user_custom_id must be a non-empty string")
            return None, ()
        unset = _unset(value, key_loc.path, check)
        if unset:
            return (key, value), unset
        value, _ = substitute_env(value, key_loc, check)
        return (key, value), ()
    if not check.expect(value, (int,), key_loc, f"an integer {key}"):
        return None, ()
    if value <= 0:
        check.add(key_loc, f"{key} must be a positive integer")
        return None, ()
    return (key, value), ()


def _attributes(section: Section, loc: Location, check: Checker) -> tuple[str, ...] | None:
    if "attributes" not in section:
        check.add(loc, "missing required key 'attributes' (the product fields sent as data, "
                       "like [description, unit_price, kind])")
        return None
    value = section["attributes"]
    list_loc = check.at(section, "attributes", "notify.usercom.attributes")
    if not isinstance(value, list):
        check.add(list_loc, "attributes must be a list of product field names")
        return None
    ok = True
    # (the fields of the products announced: those of the vendors whose changes are events)
    announced = [v for v in registered() if v.announces]
    fields = {name: kind for v in announced for name, kind in v.product_fields.items()}
    attributes = tuple(name for name, kind in fields.items() if kind != "object")
    whose = " / ".join(v.label for v in announced)
    for index, name in enumerate(value):
        if not isinstance(name, str) or name not in attributes:
            ok = False
            hint = (" (an object; user.com attributes are single values)" if isinstance(name, str) and name in fields
                    else did_you_mean(str(name), attributes))
            check.add(check.at(value, index, f"notify.usercom.attributes[{index}]"),
                      f"{name!r} is not a {whose} product field user.com can take{hint}")
    return tuple(dict.fromkeys(value)) if ok else None


def _voucherify(section: Section, loc: Location, check: Checker) -> VoucherifySettings | None:
    path = "notify.voucherify"
    check.unknown_keys(section, VOUCHERIFY_KEYS, path)
    ok = True
    base_url: str | None = nc.VOUCHERIFY_DEFAULT_BASE_URL
    unset: UnsetEnv = ()
    if "base_url" in section:
        base_url, _, unset = _url(section, "base_url", f"{path}.base_url", check,
                                  ("Voucherify", nc.VOUCHERIFY_HOSTS, nc.VOUCHERIFY_BASE_URL_ENV))
        ok = base_url is not None
    event = check.required_text(section, "event", path, loc, "a custom event name defined in your Voucherify project")
    event_unset: UnsetEnv = ()
    if event is not None:
        event, event_unset = _text(event, f"{path}.event", check.at(section, "event", f"{path}.event"), check)
    if event is not None and not event_unset and not 1 <= len(event) <= nc.VOUCHERIFY_EVENT_MAX_LENGTH:
        check.add(check.at(section, "event", f"{path}.event"),
                  f"event is {len(event)} characters long; Voucherify takes 1-{nc.VOUCHERIFY_EVENT_MAX_LENGTH}")
        event = None
    ok = ok and event is not None
    rate = check.rate(section, "max_requests_per_minute", path, nc.VOUCHERIFY_DEFAULT_MAX_RPM)
    customer, customer_unset = _customer(section, loc, check)
    if not ok or customer is None or base_url is None:
        return None
    return VoucherifySettings(event=str(event), customer=customer, base_url=base_url, location=loc,
                              unset_env=unset + event_unset + customer_unset, max_requests_per_minute=rate)


def _text(value: str, path: str, loc: Location, check: Checker) -> tuple[str, UnsetEnv]:
    """A string setting with its ``${VAR}``s substituted, or as written with
    the variables still unset (needed by apply and notify only, which check
    for them first)."""
    unset = _unset(value, path, check)
    if unset:
        return value, unset
    return substitute_env(value, loc, check)[0], ()


def _customer(section: Section, loc: Location, check: Checker) -> tuple[Mapping[str, Any] | None, UnsetEnv]:
    """The customer events are attributed to (its strings' ``${VAR}``s
    substituted), and the variables they use that are unset."""
    path = "notify.voucherify.customer"
    if "customer" not in section:
        check.add(loc, "missing required key 'customer' (a mapping with source_id)")
        return None, ()
    value = section["customer"]
    customer_loc = check.at(section, "customer", path)
    if not check.expect(value, (dict,), customer_loc, "a mapping with source_id"):
        return None, ()
    check.unknown_keys(value, nc.VOUCHERIFY_CUSTOMER_KEYS, path)
    ok = check.required_text(value, "source_id", path, customer_loc) is not None
    for key in ("name", "email", "phone", "description"):
        if key in value and not check.expect(value[key], (str,), check.at(value, key, f"{path}.{key}"),
                                             "a string"):
            ok = False
    if "metadata" in value and not check.expect(value["metadata"], (dict,),
                                                check.at(value, "metadata", f"{path}.metadata"), "a mapping"):
        ok = False
    if not ok:
        return None, ()
    customer: dict[str, Any] = {}
    unset: UnsetEnv = ()
    for key in (k for k in value if k in nc.VOUCHERIFY_CUSTOMER_KEYS):
        customer[key], missing = _plain(value[key], f"{path}.{key}", check.at(value, key, f"{path}.{key}"), check)
        unset += missing
    return frozen(customer), unset


def _plain(value: Any, path: str, loc: Location, check: Checker) -> tuple[Any, UnsetEnv]:
    """LocDict/LocList to plain JSON-able containers, with the ``${VAR}``s
    of its strings substituted at any depth (:func:`_text`), and the
    variables they use that are unset."""
    if isinstance(value, str):
        return _text(value, path, loc, check)
    if not isinstance(value, (dict, list)):
        return value, ()
    items = value.items() if isinstance(value, dict) else enumerate(value)
    plain: dict[str, Any] = {}
    unset: UnsetEnv = ()
    for key, item in items:
        item_path = f"{path}.{key}" if isinstance(value, dict) else f"{path}[{key}]"
        plain[str(key)], missing = _plain(item, item_path, check.at(value, key, item_path), check)
        unset += missing
    return (plain if isinstance(value, dict) else list(plain.values())), unset
