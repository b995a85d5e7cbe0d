"""A fast, unlocated YAML parse for the valid-catalog path, via ``yaml-rs``.

:func:`parse_fast` returns ``(True, data)`` only when ``data`` is exactly what
:func:`reconciler.catalog.yamlload.load_yaml` would return (as plain dicts and
lists, keys in the same order); otherwise ``(False, None)`` and the caller uses
the located PyYAML path. No line numbers here: they are only needed for errors,
and the caller re-parses with ``load_yaml`` when there is one.

yaml-rs (0.1.x) resolves plain scalars by the YAML 1.2 core schema, while our
loader is PyYAML's YAML 1.1 resolver with booleans narrowed to true/false and
timestamps dropped. The two agree on: strings (``NO``, ``yes``, ``on``, ``y``
stay strings), ``true``/``True``/``TRUE``/``false``/..., ``~``/``null``/``Null``/
``NULL``/empty (None), decimal integers without leading zeros (``+5``, ``-0``,
big ones), decimals like ``1.0``/``-2.50``/``5.``, quoted and block scalars,
escapes, and duplicate keys (an error in both when yaml-rs is told so). They
differ on (yaml-rs first, ours second):

* ``012`` 12 vs 10 (1.1 octal); ``09`` 9 vs "09"; ``0o17`` 15 vs "0o17";
  ``0X1F`` 31 vs "0X1F"; ``_1`` 1 vs "_1";
* ``1e3``/``1.0e3``/``0e0`` floats vs strings (1.1 needs a dot and a signed
  exponent); ``-.5`` float vs string; ``.iNf`` inf vs string;
* ``1:20`` "1:20" vs 80 (1.1 base 60);
* ``<<`` a plain key vs a merge; ``=`` a string vs an error;
* explicit tags: custom ones ignored vs an error, ``!!binary`` str vs bytes,
  ``!!omap``, ``!!timestamp``, ``!!bool yes``;
* ``[a]: b`` / ``? {a: 1}`` tuple/frozenset keys vs "unhashable key";
  ``- : a``, ``[:]``, ``{a:}``, ``[?]`` accepted vs errors;
* several documents: a list of them vs an error;
* tabs as indentation/separation (``- \\ta``, ``\\ta: 1``) accepted vs errors;
  control characters, U+0085/U+2028/U+2029 (line breaks in YAML 1.1), and a
  byte order mark kept in the first key.

Rather than post-process, :func:`needs_slow_path` finds every place where one
of these *could* occur and sends the document to the slow path. It errs on the
side of false alarms (``12e`` in a sentence, a ``!`` or ``?`` after a space, a
tab anywhere): those cost speed, never correctness. Anchors and aliases go to
the slow path too, which keeps merge keys and alias-expansion limits out of the
question.

It has to be much cheaper than the parse it saves (a regular expression with a
look-behind at every position of a 2 MB catalog takes half a second), so the
text is first mapped byte by byte (``bytes.translate``, C speed) to a small
alphabet of character classes, where the checks are substring searches or
expressions that start with a literal; the few candidates that need to know
where their token starts are checked one by one.
"""
from __future__ import annotations

import copy
import json
import re
import threading
from typing import Any, Iterator

from reconciler.catalog.yamlload import MAX_DEPTH

try:  # an optional speed-up: without it everything goes through PyYAML
    import yaml_rs
except ImportError:  # pragma: no cover - exercised by monkeypatching in tests
    yaml_rs = None

#: yaml-rs versions whose behaviour the checks below were written against
#: (``tests/catalog/test_fastyaml.py`` pins it down); others use PyYAML.
SUPPORTED = ((0, 1, 6), (0, 2, 0))


def _class_table() -> bytes:
    """Byte -> class: W space, N line break, L ``[``, M ``{``, O ``,``, F ``]}``, c ``:``, q quote,
    0, 9 (other digits), ``.``, ``_``, s sign, e ``eE``, p ``xXoObB``, i ``iInN``,
    the indicators ``!&*?%=#<|>`` as themselves, T tab or control, u non-ASCII,
    a anything else."""
    table = bytearray(b"a" * 256)
    classes = {b" ": "W", b"\n\r": "N", b"[": "L", b"{": "M", b",": "O", b"]}": "F", b":": "c", b"\"'": "q", b"0": "0",
               b"123456789": "9", b".": ".", b"_": "_", b"+-": "s", b"eE": "e", b"xXoObB": "p", b"iInN": "i",
               b"!&*?%=#<|>": "", bytes(range(0x80, 0x100)): "u",
               bytes([*range(0, 10), 11, 12, *range(14, 32), 127]): "T"}
    for chars, symbol in classes.items():
        for char in chars:
            table[char] = ord(symbol) if symbol else char
    return bytes(table)


_CLASSES = _class_table()


def _at_node(first: str) -> str:
    """``first`` where a node may start: after whitespace, ``[{,``, or the ``:``
    right after a quoted key (``{"a":1}``)."""
    return f"{first}(?:(?<=[WNOLM]{first})|(?<=qc{first}))"


# Constructs decided by the mapped text alone; searched one by one, since each
# starts with a literal (an alternation of them would be tried at every byte),
# and only where that literal occurs at all (a byte is found far faster).
_CONTEXT = tuple((pattern.lstrip("\\")[0].encode(), re.compile(pattern.encode())) for pattern in [
    _at_node("!"),                                # tags, custom or core
    _at_node("&") + r"(?![WN]|\Z)",               # anchors ('& ' is an error in both)
    _at_node(r"\*") + r"(?![WN]|\Z)",             # aliases
    _at_node("%"),                                # directives (and '%' that starts no token)
    r"\?(?<=[WNOLM]\?)",                            # complex keys, '?' in flow
    r"c(?<=[WNOLM]c)(?:[WNOLMF]|\Z)",                 # a value with no key: '- : a', '{: a}'
    r"O[WN]*c", r"L[WN]*c", r"M[WN]*c",           # ':' opening a flow entry
    r"c[OLMF]",                                   # '{a:}', '[a:]', 'a:[1]'
    r"FW*c",                                      # a flow collection as a key (unhashable)
    r"M[WN]*[LM]",                                # ... or as the first key of a flow mapping
    _at_node("=") + r"W*(?:[N#OLMFc]|\Z)",          # the 1.1 'value' scalar '='
    _at_node("s") + r"[._0]",                     # -.5 +.inf -_1 -012 ...
    _at_node(r"\.") + r"[09_.i]",                 # .5 .inf .nan
    _at_node("_") + r"[09_.i]",                   # _1 ._
    _at_node("0") + r"[09_p]",                    # 012 0_7 0x1F 0o17 0b1
])

# Something that would extend a plain number: 1e3, 1_0, 5.e3, 1.2.3, 1:20.
# Only a problem when the token it ends started as a number: see _number_token.
_EXTENDS = tuple(re.compile(pattern) for pattern in (
    rb"_(?<=[09.]_)", rb"e(?<=[09.]e)", rb"\.[09]*\.", rb"c(?<=[09]c)(?![WNOLMF]|\Z)"))
_NUMERIC = frozenset(b"09.s")

# Characters beyond ASCII that YAML 1.1 treats differently (NEL, C1 controls,
# LS, PS), a byte order mark past the start, non-characters.
_UNICODE = re.compile(rb"\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]|\xef\xbb\xbf|\xef\xbf[\xbe\xbf]")

# Document markers: a single leading '---' (after comments or blank lines)
# is fine; any other start or end marker may mean several documents.
_LEADING_START = re.compile(r"(?:[ ]*(?:#[^\r\n]*)?\r?\n)*---(?=\s|\Z)")


def _more_documents(text: str, mapped: bytes) -> bool:
    """A document marker at the start of a line, other than one leading ``---``.
    ``mapped`` is ``text``, after one extra leading newline, encoded and mapped."""
    leading = _LEADING_START.match(text)
    skip = len(text[:leading.end()].encode("utf-8")) + 1 if leading else 0
    for marker in (b"Nsss", b"N..."):  # '---' and '...' at the start of a line
        at = mapped.find(marker)
        while at != -1:
            end = at + 4
            if at >= skip and (end == len(mapped) or mapped[end] in b"WNT"):
                return True
            at = mapped.find(marker, at + 1)
    return False


def _number_token(mapped: bytes, at: int) -> bool:
    """Whether the token that ``mapped[at]`` continues is all digits, dots and
    signs from where a node may start (so a resolver may read it as a number)."""
    i = at - 1
    while i >= 0 and mapped[i] in _NUMERIC:
        i -= 1
    if i == at - 1:  # nothing numeric before: a token starting here is _CONTEXT's business
        return False
    return i < 0 or mapped[i] in b"WNOLM" or (mapped[i] == ord("c") and i > 0 and mapped[i - 1] == ord("q"))


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(".")[:3])
    except ValueError:
        return ()


def available() -> bool:
    """Whether a supported yaml-rs is importable (else :func:`parse_fast` always declines)."""
    if yaml_rs is None:
        return False
    low, high = SUPPORTED
    return low <= _version(getattr(yaml_rs, "__version__", "")) < high


def needs_slow_path(text: str) -> bool:
    """True if ``text`` may use a construct where yaml-rs and our loader could differ."""
    return _scan(text)[0]


# Two things need the nesting of flow collections to be told apart, so a
# document that has them is checked after parsing instead (_checked):
# - a flow collection right after a comma: fine in a list ([{a: 1}, {b: 2}]),
#   a key in a flow mapping ({x: 1, {a: 1}}), which yaml-rs makes a tuple or
#   frozenset where PyYAML refuses;
# - '|' or '>' where a node starts: a block scalar, or inside a flow collection
#   ([x, |]) a plain scalar to yaml-rs and an error to PyYAML.
_COLLECTION_AFTER_COMMA = re.compile(rb"O[WN]*[LM]")
_BLOCK_SCALARS = (re.compile(_at_node(r"\|").encode()), re.compile(_at_node(">").encode()))


def _scan(text: str) -> tuple[bool, bool]:
    """(take the slow path, check the parsed data with :func:`_checked`)."""
    mapped = _mapped(text)
    return (True, False) if mapped is None else _verdict(text, mapped)


def _mapped(text: str) -> bytes | None:
    """``text``, after one extra leading newline, encoded and mapped to the
    classes of :func:`_class_table`; None if its bytes alone already call for
    the slow path (lone surrogates, a lone carriage return, Unicode that YAML
    1.1 reads otherwise)."""
    try:
        raw = ("\n" + text).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return None
    if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    mapped = raw.translate(_CLASSES)
    if b"u" in mapped and _UNICODE.search(raw):
        return None
    return mapped  # (the rest reads the mapped text alone: ``raw`` is freed, a large catalog's peak memory)


def _verdict(text: str, mapped: bytes) -> tuple[bool, bool]:
    """:func:`_scan`'s verdict, from ``text`` and :func:`_mapped` of it."""
    if b"T" in mapped or b"<<" in mapped:
        return True, False
    if any(literal in mapped and pattern.search(mapped) for literal, pattern in _CONTEXT):
        return True, False
    if _long_number(mapped):
        return True, False
    if any(_number_token(mapped, m.start()) for pattern in _EXTENDS for m in pattern.finditer(mapped)):
        return True, False
    if _deep_flow(mapped):
        return True, False
    last = -1
    for pattern in _BLOCK_SCALARS:
        for found in pattern.finditer(mapped):
            last = max(last, found.start())
    block = last != -1
    if block and _ends_document(mapped, last):
        return True, False  # a block scalar ending the file: the two chomp it differently
    return _more_documents(text, mapped), block or _COLLECTION_AFTER_COMMA.search(mapped) is not None


# Nesting: the slow path enforces MAX_DEPTH exactly; the fast one takes only a
# document whose depth is certainly within it, bounded from the text alone.
# Block collections: each column of indentation (or of a '- ' before a node)
# opens at most two levels (a mapping, and a sequence at its key's column), so
# a document none of whose lines starts with more than _LEAD_MAX spaces and
# dashes nests at most 2 * (_LEAD_MAX + 1) block levels. Flow
# collections add what _deep_flow bounds.
_FLOW_MAX = 16
_LEAD_MAX = (MAX_DEPTH - _FLOW_MAX - 3) // 2
_DEEP_LEAD = re.compile(f"[ -]{{{_LEAD_MAX + 1}}}")
_DEEP_LEAD_LINE = re.compile(f"\n[ -]{{{_LEAD_MAX + 1}}}")
_FLOW_ONLY = bytes(c for c in range(256) if c not in b"LMFq#")
_FLOW_PAIR = re.compile(rb"[LM]F")


def _deep_indent(text: str) -> bool:
    """A line starting with more than _LEAD_MAX spaces or dashes (checked
    before yaml-rs sees the text: its parser recurses, and deep enough block
    nesting overflows its stack)."""
    return _DEEP_LEAD.match(text) is not None or _DEEP_LEAD_LINE.search(text) is not None


def _deep_flow(mapped: bytes) -> bool:
    """Whether flow collections may nest more than _FLOW_MAX levels: the
    brackets, quotes and comment signs alone, with each innermost bracket
    pair and each pair of quotes with nothing left between them removed, a
    level a round. A bracket inside a
    quoted scalar or a comment keeps a quote or '#' next to it, so it never
    closes a real one: a false alarm at worst (the slow path decides)."""
    brackets = mapped.translate(None, _FLOW_ONLY).replace(b"qq", b"")
    for _ in range(_FLOW_MAX):
        if b"L" not in brackets and b"M" not in brackets:
            return False
        brackets = _FLOW_PAIR.sub(b"", brackets).replace(b"qq", b"")
    return b"L" in brackets or b"M" in brackets


_DIGITS = bytes.maketrans(b"0", b"9")


def _long_number(mapped: bytes, window: int = 1 << 20) -> bool:
    """300 digits in a row (PyYAML limits the digits of an integer), looked
    for a window at a time so that no second copy of a large text is made."""
    return any(b"9" * 300 in mapped[at:at + window + 300].translate(_DIGITS)
               for at in range(0, len(mapped), window))


def _ends_document(mapped: bytes, at: int) -> bool:
    """Whether the block scalar whose indicator is at ``mapped[at]`` may run to
    the end of the document: no later line (other than blank lines and
    comments) is indented as little as the indicator's line, so nothing follows it."""
    start = mapped.rfind(b"N", 0, at) + 1
    indent = len(mapped[start:at]) - len(mapped[start:at].lstrip(b"W"))
    end = mapped.find(b"N", at)
    while end != -1:
        following = mapped.find(b"N", end + 1)
        line = mapped[end + 1:following if following != -1 else len(mapped)]
        body = line.lstrip(b"W")
        if body and not body.startswith(b"#") and len(line) - len(body) <= indent:
            return False
        end = following
    return True


_KEY_CHECK = json.JSONEncoder(check_circular=False)
# A JSON string starting like a block scalar header: '|', '>-', '|+', '>2', '> x', '|\n'.
_INDICATOR_STRING = re.compile(r'"[|>][-+0-9 "\\]')


def _checked(data: Any) -> bool:
    """Whether every mapping key is a scalar (json refuses tuples and frozensets,
    in C) and no string starts with '|' or '>' (what yaml-rs makes of them in flow)."""
    try:
        encoded = _KEY_CHECK.encode(data)
    except (TypeError, ValueError):
        return False
    return _INDICATOR_STRING.search(encoded) is None


#: From this size on, the prescan runs in a thread while yaml-rs parses (it
#: releases the GIL while it scans): the two take about as long.
PARALLEL_FROM = 64 * 1024


def parse_fast(text: str, stream: bool = False) -> tuple[bool, Any]:
    """``(True, data)`` exactly as ``load_yaml`` would give it (plain dicts and
    lists, no line numbers), or ``(False, None)``: use ``load_yaml``.

    ``stream``: a large top-level ``products:`` list may come back as a
    :class:`Streamed`, parsed a chunk at a time as it is iterated, so that the
    whole parsed list never exists at once (see :func:`_product_chunks`). The
    rest of the document (the settings) is then parsed at once, and the whole
    text's prescan is left to the list's first iteration: what reads live state
    can begin from those settings first. Until then they are provisional: if
    the prescan or a chunk finds the fast parse unfit, iterating the list
    raises :class:`Declined`, and the caller parses the whole text with
    ``load_yaml`` (settings included)."""
    if not available():
        return False, None
    if text.startswith("\ufeff"):  # PyYAML drops a leading byte order mark; yaml-rs keeps it
        text = text[1:]
    if _deep_indent(text):
        return False, None
    if stream and len(text) >= STREAM_FROM:
        streamed = _streamed(text)
        if streamed is not None:
            return True, streamed
    scan: list[tuple[bool, bool]] = []
    thread = None
    if len(text) >= PARALLEL_FROM and not ("&" in text and "*" in text):
        # (a document that may hold aliases is never parsed before the scan sends
        # it to the slow path: yaml-rs copies what each alias repeats, with no limit;
        # nor one with a long number: yaml-rs makes a Python int of it in time that
        # grows with the square of its digits, 12 s for 3 million)
        mapped = _mapped(text)
        if mapped is None or _long_number(mapped):
            return False, None
        thread = threading.Thread(target=lambda: scan.append(_verdict(text, mapped)), name="yaml-prescan",
                                  daemon=True)
        thread.start()
    else:
        scan.append(_scan(text))
        if scan[0][0]:
            return False, None
    try:
        data, parsed = _load(text), True
    except Exception:  # a syntax error, a duplicate key, ...: let PyYAML report it, with its line
        data, parsed = None, False
    if thread is not None:
        thread.join()
    if not parsed or not scan or scan[0][0]:
        return False, None
    if scan[0][1] and not _checked(data):
        return False, None
    return True, data


def _streamed(text: str) -> dict[str, Any] | None:
    """The document with its product list as a :class:`Streamed` and the rest
    parsed, or None (parse it whole). Only the rest's own text is prescanned
    here (it is small); yaml-rs sees no other part of the document before the
    whole text's prescan has passed it."""
    cut = _product_chunks(text)
    if cut is None:
        return None
    rest, chunks = cut
    slow, check = _scan(rest)
    if slow:
        return None
    try:
        data = _load(rest)
    except Exception:
        return None
    # (the placeholder item parsed as the list's one item: the cut lines are the
    # products key's items, not the inside of a string or flow collection that
    # a ``products:`` line at the start of a line happened to fall in)
    if not isinstance(data, dict) or data.get("products") != [_PLACEHOLDER] or (check and not _checked(data)):
        return None
    data["products"] = Streamed(text, chunks, copy.deepcopy(data))  # (the loader types settings in place)
    return data


def _load(text: str) -> Any:
    return yaml_rs.loads(text, parse_datetime=False, duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.Error)


#: From this size on, a top-level product list is parsed a chunk at a time.
STREAM_FROM = 1 << 20
CHUNK_ITEMS = 2000


class Declined(Exception):
    """A chunk of a streamed product list did not parse as the whole would."""


class Streamed:
    """The items of a top-level ``products:`` list, parsed a chunk of
    :data:`CHUNK_ITEMS` at a time as they are iterated (each item is handed
    over and forgotten), after the whole document's prescan. Raises
    :class:`Declined` if the prescan sends the document to the slow path, or
    if a chunk does not parse into exactly the items it was cut at: the caller
    then parses the text in the usual way."""

    def __init__(self, text: str, chunks: list[tuple[int, int, int]], rest: dict[str, Any]) -> None:
        self._text = text
        self._chunks = chunks  # (start, end, items) in the text
        self._rest = rest  # the document's other keys, as given out before the prescan

    def __iter__(self) -> Iterator[Any]:
        # (Not parsed ahead in a thread: it would race the ReadyCloud listing,
        # which a large catalog's load overlaps, for the machine's cores.)
        slow, check = _scan(self._text)
        if slow:
            raise Declined("the document needs the located parse")
        # (a block scalar may end a chunk, and _checked needs the whole document)
        for items in [self._whole()] if check else map(self._parse, self._chunks):
            items.reverse()
            while items:
                yield items.pop()

    def _whole(self) -> list[Any]:
        """The items, from one parse of the whole text, which must agree with the rest given out."""
        try:
            data = _load(self._text)
        except Exception:
            raise Declined("the document does not parse in one go") from None
        if not isinstance(data, dict) or not _checked(data) or not isinstance(data.get("products"), list) \
                or {k: v for k, v in data.items() if k != "products"} != \
                {k: v for k, v in self._rest.items() if k != "products"}:
            raise Declined("the document parsed in one go is not what its parts gave")
        return data["products"]

    def _parse(self, chunk: tuple[int, int, int]) -> list[Any]:
        start, end, count = chunk
        try:
            items = _load(self._text[start:end])
        except Exception:
            raise Declined(f"the product list at characters {start}-{end} does not parse alone") from None
        if not isinstance(items, list) or len(items) != count:
            raise Declined(f"the product list at characters {start}-{end} is not {count} items")
        return items


_PRODUCTS_LINE = r"products:[ ]*(?:#[^\n]*)?\r?\n"
# (at the start, and after a newline: a pattern starting with (?m)^ would be
# tried at every character of a large catalog)
_PRODUCTS_AT_START = re.compile(_PRODUCTS_LINE)
_PRODUCTS_AFTER_NEWLINE = re.compile(r"\n" + _PRODUCTS_LINE)


def _products_keys(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each top-level ``products:`` key line, in order."""
    found = _PRODUCTS_AT_START.match(text)
    if found is not None:
        yield found.start(), found.end()
    for found in _PRODUCTS_AFTER_NEWLINE.finditer(text):
        yield found.start() + 1, found.end()


#: What stands for the product list's items in the text parsed without them
#: (a plain scalar the prescan passes; a text that holds it is not cut).
_PLACEHOLDER = "reconciler-streamed-products-placeholder"

_SIGNIFICANT = re.compile(r"(?m)^([ ]*)(?!#|\r?$)(\S)")
_ITEM = re.compile(r"-(?=[ ]|\r?\n|\Z)")


def _product_chunks(text: str) -> tuple[str, list[tuple[int, int, int]]] | None:
    """Cut the items of a block sequence under a top-level ``products:`` key
    into chunks: (the text with one placeholder item, :data:`_PLACEHOLDER`,
    in their stead, [(start, end, items)]), or None.

    Only at lines where an item starts (``- `` at the items' indentation), and
    only where that is certain to be where the whole parse starts one too: the
    prescan rules out anchors, tags and documents before any chunk is parsed; a document with
    a block scalar is not cut (one at the end of a chunk would chomp as at the
    end of a file), and a cut inside a multi-line quoted or flow scalar leaves
    a chunk that does not parse into its items, which :class:`Streamed` checks."""
    found = list(_products_keys(text))
    if len(found) != 1:
        return None
    first = _SIGNIFICANT.search(text, found[0][1])
    if first is None or _ITEM.match(text, first.start(2)) is None:  # ('-x', '---': a scalar, not an item)
        return None
    indent = first.group(1)
    # The list ends at the first line (not blank, not a comment) indented less
    # than its items, or as much but not an item ('---', a document marker, and
    # '-x: 1', a key, end a list at column 0: left in the settings, the prescan sees them).
    # (Each pattern starts with a literal newline rather than ``(?m)^``, which
    # the regular expression engine would try at every character.)
    ending = re.compile(r"\n(?![ ]|#|\r?\n|\r?$)" if indent else r"\n(?![ ]|-(?:[ ]|\r?\n|\r?$)|#|\r?\n|\r?$)")
    last = ending.search(text, first.start() - 1)  # (the item line follows a newline)
    end = last.start() + 1 if last is not None else len(text)
    starts = [m.start() + 1 for m in re.compile(r"\n" + indent + r"-(?=[ ]|\r?\n|\r?$)").finditer(
        text, first.start() - 1, end)]
    bounds = starts[::CHUNK_ITEMS] + [end]
    chunks = [(bounds[i], bounds[i + 1], min(CHUNK_ITEMS, len(starts) - i * CHUNK_ITEMS))
              for i in range(len(bounds) - 1)]
    if len(chunks) < 2 or _PLACEHOLDER in text:
        return None
    return text[:first.start()] + f"{indent}- {_PLACEHOLDER}\n" + text[end:], chunks
