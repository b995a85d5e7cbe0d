"""Load YAML keeping the line of every mapping key and sequence item.

PyYAML does the parsing (its C parser when available); we only attach marks.
Resolution follows YAML 1.2's core schema where it matters for catalogs:
only ``true``/``false`` are booleans (``NO``, a country code, stays a string)
and date-times stay strings (we parse them ourselves, per field).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterator

import yaml

from reconciler.errors import CatalogError, Location, Problem

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LocDict(dict):  # type: ignore[type-arg]
    """A dict that remembers the line of itself and of each key (1-based)."""

    line: int | None = None
    key_lines: dict[Any, int]


class LocList(list):  # type: ignore[type-arg]
    """A list that remembers the line of itself and of each item (1-based)."""

    line: int | None = None
    item_lines: list[int]


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> LocDict:
    loader.flatten_mapping(node)
    result = LocDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark) from None
        if key in result.key_lines:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> LocList:
    result = LocList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def load_yaml(text: str, filename: str) -> Any:
    """Parse ``text``; a syntax error becomes a :class:`CatalogError` with its line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise CatalogError([Problem(Location(filename, line), f"YAML syntax: {message}")]) from None
    except yaml.YAMLError as exc:
        raise CatalogError([Problem(Location(filename), f"YAML syntax: {exc}")]) from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        raise CatalogError([Problem(Location(filename), f"YAML value: {exc}")]) from None


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
