"""Load YAML keeping the line of every mapping key and sequence item.

PyYAML does the parsing (its C parser when available); we only attach marks.
Resolution follows YAML 1.2's core schema where it matters for catalogs:
only ``true``/``false`` are booleans (``NO``, a country code, stays a string)
and date-times stay strings (we parse them ourselves, per field).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterator

from reconciler.errors import Location

#: How many collections deep the document may nest (the top-level mapping is
#: level 1, a product level 3, a scalar adds none): deeper is an error, found while composing, long before Python's
#: recursion limit (and yaml-rs's stack) would be reached.
MAX_DEPTH = 100
#: How many nodes aliases (``*name``) may add to the document in all, each
#: alias counting the whole of what it repeats (a scalar one node per KiB it
#: holds): a "billion laughs" document, or a long value repeated, is an error,
#: not an expansion that exhausts memory downstream.
MAX_ALIASED_NODES = 100_000


class LocDict(dict):  # type: ignore[type-arg]
    """A dict that remembers the line of itself and of each key (1-based)."""

    line: int | None = None
    key_lines: dict[Any, int]


class LocList(list):  # type: ignore[type-arg]
    """A list that remembers the line of itself and of each item (1-based)."""

    line: int | None = None
    item_lines: list[int]


def load_yaml(text: str, filename: str) -> Any:
    """Parse ``text``; a syntax error becomes a :class:`CatalogError` with its
    line. (PyYAML is imported here, by the first catalog that needs it: a
    valid catalog takes the fast path, :mod:`reconciler.catalog.fastyaml`.)"""
    from reconciler.catalog import pyyamlload

    return pyyamlload.load(text, filename)


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class LineFinder:
    """Finds the line of a validation path (``products[3].cobuilder.properties[0]``)
    in a catalog. ``located``: the catalog parsed with line numbers; without
    it (the fast path), ``source`` gives the text to parse, the first time a
    line is asked for, or None if it is no longer what was loaded (the file
    changed since): the line is then unknown."""

    def __init__(self, filename: str, source: Callable[[], str | None] | None = None, located: Any = None) -> None:
        self._filename = filename
        self._source = source
        self._located = located

    def locate(self, location: Location) -> Location:
        """``location`` with the line of its path."""
        if location.line is not None:
            return location
        return Location(location.file, self.line(location.path), location.path)

    def line(self, path: str) -> int | None:
        if self._located is None and self._source is not None:
            text, self._source = self._source(), None
            self._located = None if text is None else load_yaml(text, self._filename)
        node, line = self._located, getattr(self._located, "line", None)
        for key in _steps(path):
            if isinstance(node, dict) and key in node:
                line = node.key_lines.get(key, line) if isinstance(node, LocDict) else line
            elif isinstance(node, list) and isinstance(key, int) and key < len(node):
                line = node.item_lines[key] if isinstance(node, LocList) else line
            else:
                break
            node = node[key]
        return line


def _steps(path: str) -> Iterator[str | int]:
    for match in _STEP.finditer(path):
        yield match.group(1) if match.group(1) is not None else int(match.group(2))
