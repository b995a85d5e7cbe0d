"""``${VAR}`` rules beyond plain substitution (:func:`check.substitute_env`):

- a setting or field that is one whole ``${VAR}`` takes the field's type
  (``org: ${RC_ORG}`` is an integer, ``prune: ${PRUNE}`` a boolean);
- the top-level ``plain_env:`` list names variables that are plain
  configuration: their values are shown in plans and messages (every other
  variable's value stays hidden as ``(sensitive)``).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from reconciler.catalog.check import Checker, substitute_env
from reconciler.errors import Location

#: A whole value that is one reference: ``${VAR}`` or ``${VAR:-default}``.
WHOLE = re.compile(r"\s*\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}\s*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
#: A variable whose name says it may hold a secret: these anywhere in the name,
#: or these as a whole word between ``_``s (case aside). ``plain_env`` may not
#: name one: the catalog may come from any pull request, and a plain value is
#: shown in its plan, which CI posts as a comment (``plain_env: [GITHUB_TOKEN]``
#: with ``description: ${GITHUB_TOKEN}`` would publish the token).
SECRET_PARTS = ("TOKEN", "SECRET", "PASSW", "CREDENTIAL", "PRIVATE", "APIKEY")
SECRET_WORDS = ("KEY", "AUTH", "PASS", "PWD", "PAT", "DSN", "URL", "URI", "SESSION", "COOKIE", "CERT", "SALT")
#: the rule as one regular expression of upper-case letters (the schema spells each letter [xX])
SECRET_NAME = "|".join(SECRET_PARTS) + "|(^|_)(" + "|".join(SECRET_WORDS) + ")(_|$)"
_SECRET_NAME = re.compile(SECRET_NAME, re.IGNORECASE)
#: the longest number a typed ``${VAR}`` may give (Python's int() refuses past 4,300 digits, with its own words)
_LONGEST = 100
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_WHAT = {"int": "an integer", "number": "a number", "bool": "true or false"}

#: The catalog's own settings that are not strings, by section: a whole
#: ``${VAR}`` there is read as this type (each vendor adds its own: ``Vendor.typed_settings``).
TYPED_SETTINGS: dict[str, dict[str, str]] = {
    "policy": {"prune": "bool", "max_delete_percent": "number", "max_update_percent": "number",
               "min_existing": "int"},
}


def typed(value: str, kind: str, location: Location, check: Checker) -> tuple[Any, bool]:
    """``value`` (one whole ``${VAR}``) from the environment as ``kind``
    (``int``, ``number`` or ``bool``), and whether it counts as from the
    environment (not for ``plain_env`` variables). When it cannot be, a
    problem at ``location`` (which then takes no other) and ``value`` as it was."""
    known = len(check.problems)
    text, from_env = substitute_env(value, location, check)
    if len(check.problems) > known:
        check.settle(location)  # (not set: reported)
        return value, from_env
    text = text.strip()
    if kind == "bool" and text in _BOOLS:
        return _BOOLS[text], from_env
    if kind in ("int", "number") and _INT.fullmatch(text) and len(text) <= _LONGEST:
        return int(text), from_env
    if kind == "number" and _FLOAT.fullmatch(text) and len(text) <= _LONGEST:
        return float(text), from_env
    shown = "" if from_env else f" (it is {text!r})" if len(text) <= _LONGEST else \
        f" (it is {text[:20]!r}..., {len(text)} characters)"
    reference = value.strip() if len(value.strip()) <= _LONGEST else f"{value.strip()[:_LONGEST]}..."
    check.add(location, f"{reference} must be {_WHAT[kind]}{shown}")
    check.settle(location)
    return value, from_env


def type_settings(data: dict, check: Checker,  # type: ignore[type-arg]
                  typed_settings: Mapping[str, Mapping[str, str]] = TYPED_SETTINGS) -> None:
    """Give each whole ``${VAR}`` of ``typed_settings`` (section -> field -> kind) its type, in place."""
    for section, fields in typed_settings.items():
        mapping = data.get(section)
        if not isinstance(mapping, dict):
            continue
        for key, kind in fields.items():
            value = mapping.get(key)
            if isinstance(value, str) and WHOLE.fullmatch(value):
                mapping[key], _ = typed(value, kind, check.at(mapping, key, f"{section}.{key}"), check)


def plain_env(data: dict, check: Checker) -> frozenset[str]:  # type: ignore[type-arg]
    """The top-level ``plain_env:`` list: variables whose values may be shown."""
    if "plain_env" not in data:
        return frozenset()
    value, loc = data["plain_env"], check.at(data, "plain_env", "plain_env")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        check.add(loc, "plain_env must be a list of environment variable names, like [REGION, RC_ORG]")
        return frozenset()
    for index, name in enumerate(value):
        if not _NAME.fullmatch(name):
            check.add(check.at(value, index, f"plain_env[{index}]"),
                      f"plain_env names {name!r}, which is not an environment variable name")
        elif _SECRET_NAME.search(name):
            check.add(check.at(value, index, f"plain_env[{index}]"),
                      f"plain_env names {name!r}, which by its name may hold a secret (a token, key, password or "
                      "URL): its value would be shown in plans and pull-request comments")
    return frozenset(value)
