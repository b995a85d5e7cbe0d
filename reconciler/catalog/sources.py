"""A catalog over many files: ``-c`` given more than once, or naming a directory.

Each ``-c`` argument is a file or a directory (every ``*.yaml``/``*.yml``
under it, recursively, in sorted path order, hidden ones left out). The files
together are one catalog:

- products are the union (a code declared in two files is an error naming both);
- a settings section (``readycloud:``, ``policy:``, ...) may be in one file of
  an argument; a later argument overrides an earlier one's settings key by key
  (``-c catalog/ -c envs/staging.yaml`` points the same products at another org);
- top-level ``x-`` keys belong to their file (anchors for its merge keys).

Every container parsed carries its file, so each problem names its own file
and line (:meth:`Checker.at`). The catalog's ``path`` is the first argument
(``.reconciler/`` is kept next to it); its ``digest`` covers every file, in order.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Mapping

from reconciler.catalog import fastyaml
from reconciler.catalog.model import Catalog
from reconciler.catalog.yamlload import LineFinder, LocDict, LocList, load_yaml
from reconciler.errors import CatalogError, Location, Problem

SUFFIXES = (".yaml", ".yml")
#: Top-level keys whose value is the union of the files' (everything else is a setting).
PRODUCTS = "products"

def arguments(spec: Any) -> list[str]:
    """The ``-c`` arguments ``spec`` holds (one path, or several)."""
    if isinstance(spec, (str, os.PathLike)):
        return [os.fspath(spec)]
    return [os.fspath(p) for p in spec]


def is_multi(spec: Any) -> bool:
    """More than one file, or a directory: loaded here rather than as one file."""
    args = arguments(spec)
    return len(args) != 1 or Path(args[0]).is_dir()


def label(spec: Any) -> str:
    """``spec`` as the user gave it, for messages."""
    return " -c ".join(arguments(spec))


def files(spec: Any) -> list[list[Path]]:
    """Per argument, its catalog files."""
    result: list[list[Path]] = []
    for arg in arguments(spec):
        path = Path(arg)
        if not path.is_dir():
            result.append([path])
            continue
        found = sorted(f for f in path.rglob("*") if f.suffix in SUFFIXES and f.is_file()
                       and not any(part.startswith(".") for part in f.relative_to(path).parts))
        if not found:
            raise CatalogError([Problem(Location(arg), "the directory holds no *.yaml or *.yml catalog file")])
        result.append(found)
    return result


def _read(path: Path) -> tuple[str, str]:
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError([Problem(Location(name), f"cannot read catalog: {exc.strerror}")]) from None
    try:
        return raw.decode("utf-8"), hashlib.sha256(raw).hexdigest()
    except UnicodeDecodeError as exc:
        raise CatalogError([Problem(Location(name), f"not UTF-8 text ({exc.reason})")]) from None


def _tag(node: Any, filename: str) -> None:
    """Mark every mapping and list of a parsed file with its file."""
    stack = [node]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:  # (an alias: the same object again)
            continue
        seen.add(id(item))
        if isinstance(item, dict):
            item.file = filename  # type: ignore[attr-defined]
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            item.file = filename  # type: ignore[attr-defined]
            stack.extend(v for v in item if isinstance(v, (dict, list)))


def load(spec: Any, environ: Mapping[str, str] | None = None) -> Catalog:
    """Read, merge and validate the catalog files of ``spec``. Raises :class:`CatalogError`.

    As for one file, the fast parser (:mod:`fastyaml`) reads every file it can
    read exactly as PyYAML would; if any file declines, or the catalog has a
    problem, all are parsed again with their lines, so that every problem names one."""
    from reconciler.catalog.load import build_catalog  # (load dispatches here)

    texts = [[(str(path), *_read(path)) for path in group] for group in files(spec)]
    digest = hashlib.sha256("".join(f"{name}\0{sha}\n" for group in texts for name, _, sha in group).encode())
    first = arguments(spec)[0]
    fast = _parse_fast(texts)
    if fast is not None:
        top, problems = _merge(fast, label(spec), located=False)
        if not problems:
            try:
                return build_catalog(top, first, digest.hexdigest(), environ, _Lines(first, texts), consume=True)
            except CatalogError:
                pass  # again below, with lines
    top, problems = _merge(_parse_located(texts), label(spec))
    lines = _Lines(first, None, top)
    try:
        catalog = build_catalog(top, first, digest.hexdigest(), environ, lines)
    except CatalogError as exc:
        raise CatalogError(problems + [Problem(lines.locate(p.location), p.message) for p in exc.problems]) from None
    if problems:
        raise CatalogError(problems)
    return catalog


Texts = list[list[tuple[str, str, str]]]  # per argument, its files' (name, text, sha256)
Parsed = list[list[tuple[str, Any]]]  # per argument, its files' (name, data, or a CatalogError)


def _parse_fast(texts: Texts) -> Parsed | None:
    """Every file by the fast parser, or None if one declines."""
    result: Parsed = []
    for group in texts:
        result.append([])
        for name, text, _ in group:
            parsed, data = fastyaml.parse_fast(text)
            if not parsed:
                return None
            result[-1].append((name, data))
    return result


def _parse_located(texts: Texts) -> Parsed:
    result: Parsed = []
    for group in texts:
        result.append([])
        for name, text, _ in group:
            try:
                data = load_yaml(text, name)
            except CatalogError as exc:
                data = exc
            if isinstance(data, dict):
                _tag(data, name)
            result[-1].append((name, data))
    return result


def _merge(parsed: Parsed, everything: str, located: bool = True) -> tuple[LocDict, list[Problem]]:
    """One catalog document of the files' documents, and what is wrong with
    combining them. Not ``located`` (the fast path): products in a plain list,
    their files and lines found by :class:`_Lines` when a message needs them."""
    problems: list[Problem] = []
    top = LocDict()
    top.line, top.key_lines, top.key_files = 1, {}, {}  # type: ignore[attr-defined]
    products: list[Any] = LocList() if located else []
    if located:
        products.line, products.item_lines, products.item_files = None, [], []  # type: ignore[attr-defined]
        products.item_index = []  # type: ignore[attr-defined]  # (its index in its own file)
    declared: dict[str, tuple[str, Any, int]] = {}
    for group in parsed:
        in_group: dict[str, str] = {}  # section -> the file of this argument declaring it
        for name, data in group:
            if isinstance(data, CatalogError):
                problems += data.problems
                continue
            if data is None:
                continue
            if not isinstance(data, dict):
                problems.append(Problem(Location(name, 1), "a catalog file must be a mapping at the top level"))
                continue
            lines = getattr(data, "key_lines", {})
            for key, value in data.items():
                where = Location(name, lines.get(key), str(key))
                if isinstance(key, str) and key.startswith("x-"):
                    continue
                if key == PRODUCTS:
                    _add_products(value, where, products, declared, problems)
                elif key in in_group:
                    problems.append(Problem(where, f"{key!r} is already declared in {in_group[key]} "
                                                   "(a section may be in one file of a directory)"))
                else:
                    in_group[key] = f"{where.file}:{where.line}" if where.line else where.file
                    _set(top, key, value, where)
    if products or PRODUCTS not in top:
        top[PRODUCTS] = products
        top.key_lines[PRODUCTS] = 1
        top.key_files[PRODUCTS] = everything  # type: ignore[attr-defined]
    return top, problems


class _Lines(LineFinder):
    """Lines of a catalog loaded by the fast parser: its files are parsed again
    with lines (if they still hold what was loaded) the first time one is asked for."""

    def __init__(self, filename: str, texts: Texts | None, located: Any = None) -> None:
        super().__init__(filename, located=located)
        self._texts: Texts | None = texts

    def line(self, path: str) -> int | None:
        if self._located is None and self._texts is not None:
            texts, self._texts = self._texts, None
            if all(_read_quietly(name) == sha for group in texts for name, _, sha in group):
                self._located, _ = _merge(_parse_located(texts), "")
        return super().line(path)

    def locate(self, location: Location) -> Location:
        """``location`` (its path counts the products of all files) with its
        file and line, and the product's index within its own file."""
        line = location.line if location.line is not None else self.line(location.path)
        path = location.path
        match = re.match(r"products\[(\d+)\]", path)
        index = getattr((self._located or {}).get(PRODUCTS), "item_index", [])
        if match and int(match.group(1)) < len(index):
            path = f"products[{index[int(match.group(1))]}]{path[match.end():]}"
        return Location(self.file(location.path) or location.file, line, path)

    def file(self, path: str) -> str | None:
        """The file a path (``products[3].kind``, ``readycloud.org``) is in."""
        located = self._located if isinstance(self._located, dict) else {}
        match = re.match(r"products\[(\d+)\]", path)
        if match is None:
            return getattr(located, "key_files", {}).get(re.split(r"[.\[]", path, maxsplit=1)[0])
        files = getattr(located.get(PRODUCTS), "item_files", [])
        return files[int(match.group(1))] if int(match.group(1)) < len(files) else None


def _read_quietly(name: str) -> str | None:
    try:
        return hashlib.sha256(Path(name).read_bytes()).hexdigest()
    except OSError:
        return None


def _add_products(value: Any, where: Location, products: list[Any], declared: dict[str, tuple[str, Any, int]],
                  problems: list[Problem]) -> None:
    if not isinstance(value, list):
        if value is not None:
            problems.append(Problem(where, "expected a list of products"))
        return
    name = where.file
    located = isinstance(products, LocList)
    lines = getattr(value, "item_lines", None)
    for index, entry in enumerate(value):
        code = entry.get("code") if isinstance(entry, dict) else None
        if type(code) is str:
            first = declared.setdefault(code, (name, value, index))
            if first[0] != name:
                problems.append(Problem(_code_at(name, value, index, f"products[{index}].code"),
                                        f"duplicate code {code!r} (also declared at {_code_at(*first)})"))
                continue
        products.append(entry)
        if located:
            products.item_lines.append(lines[index] if lines and index < len(lines) else where.line)
            products.item_files.append(name)  # type: ignore[attr-defined]
            products.item_index.append(index)  # type: ignore[attr-defined]


def _code_at(name: str, entries: Any, index: int, path: str = "") -> Location:
    """Where the code of ``entries[index]`` is written (its line, when parsed with lines)."""
    lines = getattr(entries, "item_lines", [])
    line = getattr(entries[index], "key_lines", {}).get("code", lines[index] if index < len(lines) else None)
    return Location(name, line, path)


def _set(top: LocDict, key: Any, value: Any, where: Location) -> None:
    """A setting, over what an earlier argument said: mappings key by key, anything else replaced."""
    earlier = top.get(key)
    if isinstance(earlier, dict) and isinstance(value, dict):
        merged = LocDict(earlier)
        merged.line, merged.file = getattr(value, "line", None), where.file  # type: ignore[attr-defined]
        merged.key_lines = {**getattr(earlier, "key_lines", {}), **getattr(value, "key_lines", {})}
        merged.key_files = {**{k: getattr(earlier, "key_files", {}).get(k, getattr(earlier, "file", None))  # type: ignore[attr-defined]
                               for k in earlier}, **{k: where.file for k in value}}
        merged.update(value)
        value = merged
    top[key] = value
    top.key_lines[key] = where.line
    top.key_files[key] = where.file  # type: ignore[attr-defined]
