"""``reconciler import``: live products written as a catalog.

Two ways in:

- :func:`import_org`: every live product of an org as a complete, commented
  catalog, settings included, written page by page as the listing arrives
  (bounded memory however large the org);
- :func:`import_unmanaged`: for an existing catalog, the live products its
  plan counts as unmanaged (:attr:`Plan.unmanaged_codes`, the very plan
  ``reconciler plan`` makes), as entries ready to add to it.

Turning a vendor's live record into entries is the vendor's business
(``Vendor.import_pages``, ``import_live``, ``import_extend``); this module
drives them, keeps the ``--select`` patterns, drops repeated codes, and
writes the YAML (:mod:`reconciler.catalog.dump`). A vendor's ids that are
not in the listing vendor (a CSV of ``code,<vendor>_id``) are read by
:func:`read_ids`.
"""
from __future__ import annotations

import contextlib
import copy
import csv
import os
import stat
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TextIO, cast

import httpx
import yaml

from reconciler import engine, tempfiles, vendors
from reconciler.catalog import dump, sources
from reconciler.catalog.load import build_catalog
from reconciler.catalog.model import Catalog
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.progress import NULL, Progress
from reconciler.providers.base import Provider
from reconciler.vendors import Vendor


@contextmanager
def replaced(path: str) -> Iterator[TextIO]:
    """A file written in full or not at all (:func:`tempfiles.replaced`,
    through a symbolic link beside its target). The file keeps the mode of
    the one it replaces (a new one: as the umask says). Only a regular file
    can be replaced so: a device or pipe (``/dev/null``, ``/dev/stdout``) is
    refused, never swapped for a file."""
    target = tempfiles.target(path)
    with tempfiles.reported(path):
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
    with tempfiles.replaced(target, ".import-", mode=mode, name=path) as handle:
        yield cast(TextIO, _Guarded(handle, path))


class _Guarded:
    """A text file whose write errors name the file the user gave (``-o``)."""

    def __init__(self, handle: TextIO, path: str) -> None:
        self._handle, self._path = handle, path

    def write(self, text: str) -> int:
        with tempfiles.reported(self._path):
            return self._handle.write(text)


def _umask() -> int:
    """The process's umask (read by setting it, then put back: there is no other way to read it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class IdsFileError(ReconcilerError):
    """An ids CSV (``--<vendor>-ids FILE``) cannot be read or is invalid; names file and line."""


@dataclass(frozen=True)
class Ids:
    """One vendor's ids of products, from its CSV: code -> id, and the line each is on."""

    path: str
    ids: Mapping[str, Any]
    lines: Mapping[str, int]


def read_ids(path: str, vendor: Vendor) -> Ids:
    """The CSV ``code,<word>_id`` (``vendor.import_ids``; an optional header
    line with those names), each id parsed by the vendor. A code is taken
    exactly as written, surrounding spaces included (as CSV reads it, quoted
    or not: a live code may have them); an id may be padded. Every problem is
    reported at once, with its file and line."""
    column = f"{vendor.import_ids}_id"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise IdsFileError(f"{path}: cannot read: {exc.strerror}") from None
    reader = csv.reader(_utf8_lines(path, data))
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as exc:  # (a field past csv's size limit, ...: the line it was read from)
        raise IdsFileError(f"{path}:{reader.line_num}: not a CSV line ({exc})") from None
    problems: list[str] = []
    ids: dict[str, Any] = {}
    lines: dict[str, int] = {}
    by_id: dict[Any, str] = {}
    for index, (line, row) in enumerate(rows):
        if not row or all(not cell.strip() for cell in row):
            continue
        if index == 0 and [cell.strip().lower() for cell in row] == ["code", column]:
            continue  # the header
        if len(row) != 2:
            problems.append(f"{path}:{line}: expected 2 columns (code,{column}), found {len(row)}")
            continue
        code, text = row[0], row[1].strip()
        if not code.strip():
            problems.append(f"{path}:{line}: the code is empty")
            continue
        try:
            value = vendor.import_id(text)
        except ValueError as exc:
            problems.append(f"{path}:{line}: {column}: {exc}")
            continue
        if code in ids:
            problems.append(f"{path}:{line}: code {code!r} is listed twice (first on line {lines[code]})")
        elif value in by_id:
            problems.append(f"{path}:{line}: {column} {text} is listed twice (for {by_id[value]!r} on line "
                            f"{lines[by_id[value]]})")
        else:
            ids[code], lines[code], by_id[value] = value, line, code
    if problems:
        raise IdsFileError(f"{path} is invalid ({len(problems)} problem{'s' * (len(problems) != 1)}):\n"
                           + "\n".join(f"  {p}" for p in problems))
    return Ids(path, ids, lines)


def _utf8_lines(path: str, data: bytes) -> list[str]:
    """``data``'s lines (ends kept, split as a text file opened with
    ``newline=""`` splits them, so CSV line numbers hold), a leading byte
    order mark dropped; a line that is not UTF-8 is an error naming it."""
    lines: list[str] = []
    for number, raw in enumerate(data.splitlines(keepends=True), 1):
        try:
            lines.append(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError as exc:
            raise IdsFileError(f"{path}:{number}: not UTF-8 (byte {raw[exc.start]:#04x}); "
                               "the file must be UTF-8") from None
    return lines


@dataclass
class Report:
    """What an import wrote, and what it could not."""

    products: int = 0
    notes: list[str] = field(default_factory=list)


def _matches(patterns: Sequence[str], code: str) -> bool:
    return not patterns or any(fnmatchcase(code, pattern) for pattern in patterns)


def _lister(catalog: Catalog) -> Vendor:
    """The vendor whose live products become entries: the first registered one the catalog configures."""
    for vendor in vendors.registered():
        if vendor.lists_products and vendor.configured(catalog):
            return vendor
    raise ConfigError("the catalog configures no vendor that lists products, so there is nothing to import")


class _Extenders:
    """The vendors that add their own entries to imported products (with the ids given to them)."""

    def __init__(self, catalog: Catalog, ids: Mapping[str, Ids], lister: Vendor, stack: ExitStack,
                 environ: Mapping[str, str], transport: httpx.BaseTransport | None, parallelism: int) -> None:
        self.parts: list[tuple[Vendor, Provider, Mapping[str, Any] | None]] = []
        for vendor in vendors.registered():
            if vendor is lister or not vendor.product_key or (vendor.import_ids and vendor.name not in ids):
                continue
            provider = vendor.import_open(catalog, stack, environ=environ, transport=transport,
                                          parallelism=parallelism)
            if provider is not None:
                given = ids.get(vendor.name)
                self.parts.append((vendor, provider, given.ids if given is not None else None))

    def extend(self, entries: list[dict[str, Any]], note: Callable[[str], None]) -> None:
        for vendor, provider, ids in self.parts:
            vendor.import_extend(provider, entries, ids, note)


class _Writer:
    """Writes pages of entries, keeping ``--select`` and the first of any repeated code."""

    def __init__(self, out: TextIO, select: Sequence[str], report: Report, indent: int = 0) -> None:
        self.out, self.select, self.report, self.indent = out, select, report, indent
        self.seen: set[str] = set()
        self.unmatched = dict.fromkeys(select)  # the --select patterns no code has matched yet

    def keep(self, entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = []
        for made in entries:
            code = made["code"]
            if not _matches(self.select, code):
                continue
            if self.unmatched:
                for pattern in [p for p in self.unmatched if fnmatchcase(code, p)]:
                    del self.unmatched[pattern]
            if code in self.seen:
                self.report.notes.append(f"{code}: another live product has this code; only the first was "
                                         "imported (plan reports the duplicate)")
                continue
            self.seen.add(code)
            kept.append(made)
        return kept

    def write(self, entries: list[dict[str, Any]]) -> None:
        self.out.write(dump.dump_entries(entries, self.indent))
        self.report.products += len(entries)


def _origin(vendor: Vendor, provider: Provider) -> str:
    """Where ``provider`` reads, as a plan records it (no userinfo of an environment URL)."""
    where = engine.provenance({vendor.name: provider}).vendors.get(vendor.name, {})
    return f"{vendor.label} " + ", ".join(f"{k} {v}" for k, v in sorted(where.items()))


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def import_org(org: int, out: TextIO, *, select: Sequence[str] = (), ids: Mapping[str, Ids] | None = None,
               environ: Mapping[str, str] = os.environ, transport: httpx.BaseTransport | None = None,
               parallelism: int = 8, progress: Progress = NULL, command: str = "reconciler import",
               origin: str | None = None) -> Report:
    """Write a complete catalog of every live product of ``org`` to ``out``,
    page by page as the listing arrives. ``origin``: where the products come
    from, as the header says it (default: the listing vendor's server and org)."""
    ids = ids or {}
    sections: dict[str, Any] = {}
    for vendor in vendors.registered():
        sections.update(vendor.import_sections(org))
    catalog = build_catalog(copy.deepcopy(sections), f"--org {org}", "", environ)
    report = Report()
    with ExitStack() as stack:
        lister = _lister(catalog)
        provider = lister.import_open(catalog, stack, environ=environ, transport=transport, parallelism=parallelism)
        if provider is None:
            raise ConfigError(f"{lister.label} cannot be read for an import")
        extenders = _Extenders(catalog, ids, lister, stack, environ, transport, parallelism)
        try:
            where = origin or _origin(lister, provider)
            out.write(dump.comment(f"Catalog imported from {where}\non {_now()} by `{command}`.\n"
                                   "`reconciler plan -c FILE` shows no changes until the live products or this "
                                   "file change.\nFields an entry leaves out are not managed (null fields are "
                                   "left out); `absent: true` deletes a product."))
            out.write("\n")
            for vendor in vendors.registered():
                own = {key: sections[key] for key in vendor.sections if key in sections}
                hint = vendor.import_hint() if own or vendor is lister or vendor.name in ids else ""
                if own:
                    out.write(dump.dump(own))
                if hint:
                    out.write(dump.shifted(dump.comment(hint), 2 if own else 0))
                if own or hint:
                    out.write("\n")
            out.write("products:\n")
            writer = _Writer(out, select, report)
            for page in lister.import_pages(provider, progress, report.notes.append):
                entries = writer.keep(page)
                extenders.extend(entries, report.notes.append)
                writer.write(entries)
            # (no thousands separator: the fast parser's prescan reads comments too, and ',000' looks octal to it)
            out.write(dump.comment(f"{report.products} products imported."))
        except BaseException:
            _mark_incomplete(out)
            raise
    _finish(writer, ids, report)
    return report


#: what ends the output of an import that failed part way (on standard output
#: it cannot be taken back): a key no catalog has, so that a plan of the cut
#: output is an error naming this line, never a plan without the missing products
INCOMPLETE_KEY = "import_incomplete"


def _mark_incomplete(out: TextIO) -> None:
    with contextlib.suppress(Exception):  # (standard output may be what failed: a closed pipe)
        out.write(dump.comment("The import failed here (its error was on stderr): the products after this "
                               "point are missing.") + f"{INCOMPLETE_KEY}: run the import again\n")


def import_unmanaged(catalog_path: str | Sequence[str], out: TextIO, *, select: Sequence[str] = (),
                     ids: Mapping[str, Ids] | None = None, environ: Mapping[str, str] = os.environ,
                     transport: httpx.BaseTransport | None = None, parallelism: int = 8,
                     progress: Progress = NULL, command: str = "reconciler import") -> Report:
    """Write the live products the catalog's plan counts as unmanaged, as
    entries to add to it: for a single file, items indented like its
    ``products:`` list, to append to it; for a directory or several files, a
    file of its own (``products:`` and the items) to add to it."""
    ids = ids or {}
    report = Report()
    with ExitStack() as stack:
        catalog, providers = engine.load_and_open(catalog_path, stack, environ=environ, transport=transport,
                                                  parallelism=parallelism)
        lister = _lister(catalog)
        live: dict[str, Any] = {}
        plan = engine.refresh_and_plan(catalog, providers, progress=progress, live=live)
        declared = {spec.code for spec in catalog.products}
        pruned = sorted({c.key for c in plan.changes if c.action == "delete" and c.key not in declared})
        if pruned:
            report.notes.append(f"{len(pruned)} live product{'s' * (len(pruned) != 1)} in policy.prune's scope "
                                f"(e.g. {pruned[0]!r}) {'are' if len(pruned) != 1 else 'is'} planned for deletion, "
                                "not imported; to adopt them, take them out of the prune scope first")
        codes = []
        for code in plan.unmanaged_codes:
            if code in declared:  # (declared for another vendor only: it has an entry already)
                report.notes.append(f"{code}: declared in the catalog without {lister.label} fields; not "
                                    "imported (add its fields to its entry)")
            elif _matches(select, code):
                codes.append(code)
        writer = _Writer(out, select, report)
        entries = writer.keep(lister.import_live(live.get(lister.name), codes, report.notes.append))
        _hide_sensitive(entries, catalog.sensitive, report)
        _Extenders(catalog, ids, lister, stack, environ, transport, parallelism).extend(entries, report.notes.append)
    where = _append_point(catalog_path)
    label = sources.label(catalog_path)
    count = f"{len(entries)} live product{'s' * (len(entries) != 1)} that {label} does not declare"
    if where is None:
        out.write(dump.comment(f"{count} (imported on {_now()} by `{command}`).\nAdd this file to the catalog "
                               f"(a file of {label}, or another -c)."))
        out.write("products:\n")
    else:
        file, indent, line = where
        after = f"after line {line} of {file}, " if line is not None else f"at the end of {file}, "
        out.write(dump.comment(f"{count} (imported on {_now()} by `{command}`).\nAdd these entries to its "
                               f"products: list, {after}indented as they are."))
        if line is None:
            out.write("products:\n")
        writer.indent = indent
    writer.write(entries)
    _finish(writer, ids, report)
    return report


def refuse_catalog_file(out: str, catalog_path: str | Sequence[str]) -> None:
    """Refuse ``-o`` naming a file of the catalog being read: what ``-c``
    writes is only what the catalog does not declare yet, so replacing one of
    its files would drop that file's entries (and with ``policy.prune``, the
    next plan would delete those products)."""
    target = os.path.realpath(out)
    for group in sources.files(catalog_path):
        for path in group:
            if os.path.realpath(path) == target:
                raise ConfigError(f"-o {out} is a file of the catalog (-c {sources.label(catalog_path)}): the "
                                  "import writes only the products the catalog does not declare, so replacing it "
                                  "would drop its entries; write to a new file and add it to the catalog")


def _hide_sensitive(entries: list[dict[str, Any]], hidden: frozenset[str], report: Report) -> None:
    """Leave out the fields the catalog's top-level ``sensitive:`` names: their live values are secrets."""
    left_out = sorted({name for made in entries for name in hidden.intersection(made) if name != "code"})
    for made in entries:
        for name in left_out:
            made.pop(name, None)
    if left_out:
        report.notes.append(f"{', '.join(left_out)} not written: the catalog lists them under sensitive: (their "
                            "live values are secret); declare them with ${VAR} to manage them")


def _append_point(catalog_path: str | Sequence[str]) -> tuple[str, int, int | None] | None:
    """For a single catalog file: (it, the column of its ``products:`` items,
    the line its list ends on, None if it has none); None for a directory or several files."""
    if sources.is_multi(catalog_path):
        return None
    path = sources.arguments(catalog_path)[0]
    if Path(path).is_dir():
        return None
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(root, yaml.MappingNode):
        return path, 0, None
    for key, value in root.value:
        if key.value != "products":
            continue
        if not isinstance(value, yaml.SequenceNode) or value.flow_style or not value.value:
            return None  # (no block list to append to: a file of its own)
        return path, value.start_mark.column, _last_line(value)
    return path, 0, None


def _last_line(node: yaml.Node) -> int:
    """The line (1-based) a composed node's text ends on (comments after it not counted)."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    end = node.end_mark
    return int(end.line) + (end.column > 0)


def _finish(writer: _Writer, ids: Mapping[str, Ids], report: Report) -> None:
    """Say which ``--select`` patterns and which given ids went unused."""
    if writer.unmatched:
        report.notes.append(f"--select {', '.join(map(repr, writer.unmatched))} matched no product")
    _unused_ids(ids, writer.seen, report)


def _unused_ids(ids: Mapping[str, Ids], imported: set[str], report: Report) -> None:
    for given in ids.values():
        unused = [code for code in given.ids if code not in imported]
        if unused:
            shown = ", ".join(f"{code!r} (line {given.lines[code]})" for code in unused[:5])
            more = f" and {len(unused) - 5} more" if len(unused) > 5 else ""
            report.notes.append(f"{given.path}: {len(unused)} code{'s' * (len(unused) != 1)} not among the "
                                f"imported products: {shown}{more}")
