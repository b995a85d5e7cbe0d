"""Write catalog YAML that both of our parsers read back as it was written.

PyYAML emits it (libyaml's emitter when available); this module only picks
scalar styles. PyYAML quotes what its YAML 1.1 resolver would read as
something other than a string (``"NO"``, ``"007"``, ``"null"``, ``"yes"``,
date-times); the fast path (:mod:`.fastyaml`, yaml-rs) reads YAML 1.2,
which also makes numbers of ``0o17``, ``1e3``, ``-.5``, ``.iNf``, ``_1``
and ``09``, so every string that could be a number to either is quoted; and
YAML 1.1 breaks lines at U+0085/U+2028/U+2029 where 1.2 does not, so a string
holding one is written double-quoted, with escapes. Multi-line text is a
literal block (``|``) where PyYAML allows one. (yaml-rs's own emitter writes
``0o17`` unquoted, which it then reads as 15: it is not used.)
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterable

import yaml

from reconciler.catalog.check import ENV_VAR

_Base: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_STR = "tag:yaml.org,2002:str"
#: a plain scalar either parser might read as a number
_NUMBER_LIKE = re.compile(r"[-+]?[._0-9][-+._:0-9A-Za-z]*")
_BREAKS_1_1 = ("\x85", "\u2028", "\u2029")


class CatalogDumper(_Base):  # type: ignore[misc, valid-type]
    """A safe dumper whose strings read back as strings under YAML 1.1 and 1.2 alike."""


def represent_str(dumper: yaml.BaseDumper, value: str) -> yaml.ScalarNode:
    """A string in the style both parsers read back as it is."""
    style = None
    if any(mark in value for mark in _BREAKS_1_1):
        style = '"'
    elif _NUMBER_LIKE.fullmatch(value):
        style = "'"
    elif "\n" in value:
        style = "|"  # (PyYAML falls back to quotes where a block cannot hold it: trailing spaces, keys)
    return dumper.represent_scalar(_STR, value, style=style)


CatalogDumper.add_representer(str, represent_str)


def unwritable(value: Any) -> str | None:
    """Why ``value`` (a vendor's answer, any nesting) cannot be written so that
    it reads back equal, or None: a string holding a lone UTF-16 surrogate
    (JSON's ``"\\ud800"``; no UTF-8 file holds it) or a NaN (it never equals
    itself, so a plan would show a change for ever)."""
    if isinstance(value, str):
        if value.isascii():
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "it holds a lone UTF-16 surrogate, which a UTF-8 file cannot hold"
        return None
    if isinstance(value, float):
        return "it is NaN, which never equals itself (a plan would always show a change)" if math.isnan(value) else None
    if isinstance(value, dict):
        return next((why for k, v in value.items() if (why := unwritable(k) or unwritable(v))), None)
    if isinstance(value, list):
        return next((why for item in value if (why := unwritable(item))), None)
    return None


def reads_environment(value: Any) -> bool:
    """Whether a catalog would replace part of ``value`` (any nesting, keys
    too) from the environment (``${VAR}``): such a live value cannot be
    written as it is."""
    if type(value) is str:
        return "${" in value and ENV_VAR.search(value) is not None
    if isinstance(value, dict):
        return any(reads_environment(k) or reads_environment(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(reads_environment, value))
    return False


def dump(data: Any, dumper: type = CatalogDumper) -> str:
    """``data`` as block YAML, keys in their order, unicode as it is, no line folding."""
    return str(yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=1 << 30,
                         default_flow_style=False))


def comment(text: str) -> str:
    """``text`` as YAML comment lines (each line ``# ...``)."""
    return "".join(f"# {line}".rstrip() + "\n" for line in text.splitlines() or [""])


def shifted(text: str, indent: int) -> str:
    """Block YAML ``text`` moved ``indent`` columns right (a block node moved
    as a whole keeps its meaning: block scalars' indentation is relative)."""
    if not indent:
        return text
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def dump_entries(entries: Iterable[dict[str, Any]], indent: int = 0) -> str:
    """Product entries as items of a ``products:`` block sequence at column ``indent``."""
    items = list(entries)
    return shifted(dump(items), indent) if items else ""
