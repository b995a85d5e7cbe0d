"""Small helpers that validation code uses to collect located problems."""
from __future__ import annotations

import difflib
import os
import re
from typing import Any, Iterable, Mapping

from reconciler.errors import Location, Problem

_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "string",
               type(None): "null", dict: "mapping", list: "list"}


def type_name(value: Any) -> str:
    for kind, name in _TYPE_NAMES.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


def quote_number(value: int | float) -> str:
    """A number YAML read, as the quoted string it was probably meant to be."""
    return '"' + str(value) + '"'


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Checker:
    """Collects :class:`Problem` objects for one file."""

    def __init__(self, filename: str, environ: Mapping[str, str] | None = None) -> None:
        self.filename = filename
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.problems: list[Problem] = []
        #: variables whose values are plain configuration (the catalog's ``plain_env:``): shown, not hidden
        self.plain: frozenset[str] = frozenset()
        self._settled: set[tuple[str, str]] = set()

    def at(self, container: Any, key: Any, path: str) -> Location:
        """The location of ``key`` inside a LocDict/LocList ``container``."""
        if type(container) is dict or type(container) is list:
            return Location(self.filename, None, path)  # (parsed without lines: the usual, fast case)
        line = None
        # (a catalog over many files: each mapping and list knows its file, see catalog.sources)
        filename = getattr(container, "file", None) or self.filename
        if isinstance(container, dict):
            line = getattr(container, "key_lines", {}).get(key, getattr(container, "line", None))
            filename = getattr(container, "key_files", {}).get(key) or filename
        elif isinstance(container, list):
            lines = getattr(container, "item_lines", [])
            line = lines[key] if isinstance(key, int) and key < len(lines) else getattr(container, "line", None)
            files = getattr(container, "item_files", None)
            if files and isinstance(key, int) and key < len(files):
                filename = files[key]
        return Location(filename, line, path)

    def add(self, location: Location, message: str) -> None:
        if self._settled and (location.file, location.path) in self._settled:
            return  # (its problem is already reported, more precisely)
        self.problems.append(Problem(location, message))

    def settle(self, location: Location) -> None:
        """The problem reported at ``location`` is its only one (later checks of it add none)."""
        self._settled.add((location.file, location.path))

    def unknown_keys(self, mapping: dict, allowed: Iterable[str], path: str) -> None:  # type: ignore[type-arg]
        allowed = sorted(allowed) if isinstance(allowed, (set, frozenset)) else list(allowed)
        for key in mapping:
            if key not in allowed:
                self.add(self.at(mapping, key, f"{path}.{key}" if path else str(key)),
                         f"unknown key {key!r}{did_you_mean(key, allowed)}")

    def required_text(self, mapping: dict, key: str, path: str, where: Location, hint: str = "") -> str | None:  # type: ignore[type-arg]
        """``mapping[key]`` if it is a non-empty string; else a located problem and None."""
        if key not in mapping:
            self.add(where, f"missing required key {key!r}" + (f" ({hint})" if hint else ""))
            return None
        value = mapping[key]
        if not isinstance(value, str) or not value.strip():
            self.add(self.at(mapping, key, f"{path}.{key}"), f"{key} must be a non-empty string")
            return None
        return value

    def rate(self, mapping: dict, key: str, path: str, default: float | None) -> float | None:  # type: ignore[type-arg]
        """A requests-per-minute setting: a number >= 0 (0: unpaced) or null."""
        if key not in mapping:
            return default
        value = mapping[key]
        where = self.at(mapping, key, f"{path}.{key}")
        if value is None:
            return None
        if not self.expect(value, (int, float), where, "requests per minute (0: unpaced)") or value < 0:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self.add(where, f"{key} must not be negative")
            return default
        return float(value) or None

    def text(self, value: Any, location: Location, name: str, nullable: bool = False) -> bool:
        """Whether ``value`` is a string (or null, when ``nullable``); a number
        is reported with how to make it one (YAML reads ``123`` as a number)."""
        if isinstance(value, str) or (nullable and value is None):
            return True
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.add(location, f"{name} is a number; quote it ({name}: {quote_number(value)}) to make it a string")
            return False
        return self.expect(value, (str, type(None)) if nullable else (str,), location,
                           "a string or null" if nullable else "a string")

    def expect(self, value: Any, kinds: tuple[type, ...], location: Location, what: str) -> bool:
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds)
        if not ok:
            self.add(location, f"expected {what}, got {type_name(value)}")
        return ok


#: ``${VAR}``, or ``${VAR:-default}`` (group 2: the default)
ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def substitute_env(value: str, location: Location, checker: Checker) -> tuple[str, bool]:
    """Replace ``${VAR}`` from the environment, and ``${VAR:-default}`` (the
    default when VAR is unset or empty). Returns (value, used_env): used_env
    when a variable not listed in ``plain_env`` is referenced (its value is hidden)."""
    if "${" not in value:
        return value, False
    missing: list[str] = []
    hidden: list[str] = []

    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name not in checker.plain:
            hidden.append(name)
        if default is not None and not checker.environ.get(name):
            return default
        if name not in checker.environ:
            missing.append(name)
            return ""
        return checker.environ[name]

    result = ENV_VAR.sub(repl, value)
    for name in missing:
        checker.add(location, f"environment variable {name} is not set")
    return result, bool(hidden) or "${" in value and not ENV_VAR.search(value)
