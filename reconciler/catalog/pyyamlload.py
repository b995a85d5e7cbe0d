"""The located PyYAML loader behind :func:`reconciler.catalog.yamlload.load_yaml`:
marks on every mapping key and sequence item, YAML 1.2's core booleans, no
timestamps, merge keys, and the depth and alias limits."""
from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.events import AliasEvent, ScalarEvent

from reconciler.catalog.yamlload import MAX_ALIASED_NODES, MAX_DEPTH, LocDict, LocList
from reconciler.errors import CatalogError, Location, Problem

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


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
    depth = _descend(loader, node)
    result = LocDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    inherited: set[Any] = set()  # keys from a merge (``<<``): the mapping's own keys override them
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            for key in _merge(loader, node, value_node, result):
                inherited.add(key)
            continue
        if key_node.tag == "tag:yaml.org,2002:value":  # (a plain '=' key, as PyYAML's flatten_mapping reads it)
            key_node.tag = "tag:yaml.org,2002:str"
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "found an unhashable key", key_node.start_mark) from None
        if key in result.key_lines and key not in inherited:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        inherited.discard(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    loader._construct_depth = depth - 1
    return result


def _merge(loader: Any, node: yaml.MappingNode, value_node: yaml.Node, into: LocDict) -> list[Any]:
    """A merge key (``<<: *a`` or ``<<: [*a, *b]``): the keys of the merged
    mappings ``into`` is missing, the first listed winning (YAML's merge key
    type), each with the line it has where it is written. The keys added."""
    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
    added: list[Any] = []
    for source in sources:
        if not isinstance(source, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"expected a mapping or list of mappings for merging, but found {source.id}", source.start_mark)
        merged = loader.construct_object(source, deep=True)
        for key, value in merged.items():
            if key not in into.key_lines:
                into[key] = value
                into.key_lines[key] = merged.key_lines.get(key, merged.line)
                added.append(key)
    return added


def _construct_sequence(loader: Any, node: yaml.SequenceNode) -> LocList:
    depth = _descend(loader, node)
    result = LocList(loader.construct_object(child, deep=True) for child in node.value)
    loader._construct_depth = depth - 1
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


class _AliasLoader(_Loader):
    """The loader for a document that may hold aliases: PyYAML's composer in
    Python (over the same C parser), measuring what each anchor holds so that
    an alias past :data:`MAX_ALIASED_NODES` or :data:`MAX_DEPTH` is an error at
    its own line. (The C composer keeps no alias's position, and is used for
    documents without one, where the constructor checks the depth.)"""

    check_node = Composer.check_node
    get_node = Composer.get_node
    get_single_node = Composer.get_single_node
    compose_document = Composer.compose_document
    compose_scalar_node = Composer.compose_scalar_node
    compose_sequence_node = Composer.compose_sequence_node
    compose_mapping_node = Composer.compose_mapping_node

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.anchors: dict[str, Any] = {}
        self._depth = 0       # collections around the node being composed (itself included)
        self._peak = 0        # the most reached (aliases expanded) inside the node being composed
        self._nodes = 0       # nodes so far, aliases expanded
        self._aliased = 0     # nodes added by aliases
        self._measured: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, levels) it holds

    def compose_node(self, parent: Any, index: Any) -> Any:
        # Levels are collections (a scalar adds none), as the constructor counts them.
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            node = Composer.compose_node(self, parent, index)  # (an undefined alias is its error)
            measured = self._measured.get(event.anchor)
            if measured is None:
                raise ComposerError(None, None, f"alias *{event.anchor} is inside its own anchor", event.start_mark)
            nodes, levels = measured
            self._aliased += nodes
            self._nodes += nodes
            if self._aliased > MAX_ALIASED_NODES:
                raise ComposerError(None, None, f"aliases expand to more than {MAX_ALIASED_NODES:,} nodes "
                                    f"(the limit), at alias *{event.anchor}", event.start_mark)
            if self._depth + levels > MAX_DEPTH:
                raise ComposerError(None, None, _too_deep(), event.start_mark)
            self._peak = max(self._peak, self._depth + levels)
            return node
        level = not isinstance(event, ScalarEvent)
        depth = self._depth + level
        if depth > MAX_DEPTH:
            raise ComposerError(None, None, _too_deep(), event.start_mark)
        outer_peak, nodes = self._peak, self._nodes
        self._depth = self._peak = depth
        self._nodes += 1 + (len(event.value) >> 10 if not level else 0)  # (a long scalar: a node per KiB)
        node = Composer.compose_node(self, parent, index)
        if event.anchor is not None:
            self._measured[event.anchor] = (self._nodes - nodes, self._peak - depth + level)
        self._depth = depth - level
        self._peak = max(outer_peak, self._peak)
        return node


def _too_deep() -> str:
    return f"nested deeper than {MAX_DEPTH} levels (the limit)"


def _descend(loader: Any, node: yaml.Node) -> int:
    """Enter one more level of a collection being constructed (checked here
    too for the C composer, which has no limit of ours)."""
    depth = getattr(loader, "_construct_depth", 0) + 1
    if depth > MAX_DEPTH:
        raise yaml.constructor.ConstructorError(None, None, _too_deep(), node.start_mark)
    loader._construct_depth = depth
    return depth


def load(text: str, filename: str) -> Any:
    """Parse ``text``; a syntax error becomes a :class:`CatalogError` with its line."""
    loader = _AliasLoader if "*" in text else _Loader  # (an alias needs a '*')
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if "exceeded maximum nesting depth" in message:  # (libyaml's own limit, 1,000 levels)
            message = _too_deep()
        what = "YAML limit" if message.endswith("(the limit)") or "(the limit)," in message else "YAML syntax"
        raise CatalogError([Problem(Location(filename, line), f"{what}: {message}")]) from None
    except yaml.YAMLError as exc:
        raise CatalogError([Problem(Location(filename), f"YAML syntax: {exc}")]) from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        raise CatalogError([Problem(Location(filename), f"YAML value: {exc}")]) from None
