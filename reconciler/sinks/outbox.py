"""The outbox: undelivered (sink, event) pairs, kept in a JSON file until
``reconciler notify --retry`` delivers them with their original ids.

The file holds sink keys (``webhook:<digest of the url>``, ``usercom``,
``voucherify``), labels, events and the last error: never a secret, token or
webhook URL. Writes are atomic (temporary file, fsync, rename) and made under
an advisory lock, so concurrent runs do not lose each other's entries.

It also holds the write-ahead records of :mod:`reconciler.sinks.journal`
(``intents``: changes about to be sent or answered but not yet announced),
kept as opaque JSON mappings here and validated by that module.

One JSON document replaced atomically rather than an append-only journal:
every state (intent, ready, delivered/dropped) is one read-modify-write of a
small file under the lock, there is no torn tail to repair and no compaction to
schedule, and a reader always sees one complete version. Its cost (the whole
file rewritten per write) is kept low by batching: a write records a batch of
intents plus every answer that came since the previous write (see
``bench/outbox_bench.py`` for figures).
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from reconciler import integrity
from reconciler.errors import ConfigError
from reconciler.sinks.events import Event

try:  # POSIX; elsewhere concurrent runs are simply not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

VERSION = 2
READABLE = (1, 2)  # version 1: entries only
DEFAULT_DIR = ".reconciler"
DEFAULT_NAME = "outbox.json"


def default_outbox_path(catalog_path: str | os.PathLike[str]) -> Path:
    """``.reconciler/outbox.json`` next to the catalog."""
    return Path(catalog_path).resolve().parent / DEFAULT_DIR / DEFAULT_NAME


@dataclass(frozen=True)
class OutboxEntry:
    sink: str  # the sink's key
    label: str  # how messages name the sink
    event: Event
    livemode: bool = True  # false for events of a sandbox apply; kept on re-delivery
    attempts: int = 1  # delivery runs that failed
    last_error: str = ""
    failed_at: int = 0  # unix seconds

    @property
    def ident(self) -> tuple[str, str]:
        return self.sink, self.event.id

    def to_json(self) -> dict[str, Any]:
        return {"sink": self.sink, "label": self.label, "livemode": self.livemode, "attempts": self.attempts,
                "last_error": self.last_error, "failed_at": self.failed_at, "event": self.event.to_json()}

    @classmethod
    def from_json(cls, raw: Any) -> "OutboxEntry":
        if not isinstance(raw, dict) or not isinstance(raw.get("sink"), str):
            raise ConfigError("an outbox entry is not a mapping with a sink")
        try:
            attempts, failed_at = int(raw.get("attempts") or 1), int(raw.get("failed_at") or 0)
        except (TypeError, ValueError, OverflowError):
            raise ConfigError("an outbox entry's attempts or failed_at is not a number") from None
        return cls(sink=raw["sink"], label=str(raw.get("label") or raw["sink"]),
                   event=Event.from_json(raw.get("event")), livemode=raw.get("livemode") is not False,
                   attempts=attempts, last_error=str(raw.get("last_error") or ""), failed_at=failed_at)


class Outbox:
    """The outbox file at ``path``; missing means empty.

    With ``key`` (:func:`reconciler.sinks.deliver.outbox_key`: derived from the
    notify section's credentials) every write is sealed with a MAC over the
    whole document and a read refuses a document whose MAC is missing or wrong
    (a forged entry would otherwise be signed and sent with the real
    credentials). Without ``key`` (unit tests only) the MAC is neither written
    nor checked."""

    def __init__(self, path: str | os.PathLike[str], key: bytes | None = None) -> None:
        self.path = Path(path)
        self.key = key
        self.warnings: list[str] = []

    # -- reading ------------------------------------------------------------------
    def entries(self) -> list[OutboxEntry]:
        """Every pending entry, oldest first. :class:`ConfigError` if the file is unreadable."""
        return self.load()[0]

    def intents(self) -> list[dict[str, Any]]:
        """The write-ahead records, as stored (mappings with an ``id``)."""
        return self.load()[1]

    def load(self) -> tuple[list[OutboxEntry], list[dict[str, Any]]]:
        """Entries and write-ahead records. :class:`ConfigError` if the file is unreadable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], []
        except OSError as exc:
            raise ConfigError(f"cannot read the outbox {self.path}: {exc.strerror}") from None
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"the outbox {self.path} is not valid JSON ({exc})") from None
        if self.key is not None and not integrity.verifies(raw, self.key):
            raise ConfigError(
                f"the outbox {self.path} is not authenticated: its MAC is missing or does not match this "
                "catalog's notification credentials (it was not written by a run holding them, or they changed "
                f"since); nothing was sent from it. Move it aside (mv {self.path} {self.path}.untrusted), "
                "check what it holds, and run again")
        if not isinstance(raw, dict) or raw.get("version") not in READABLE or not isinstance(raw.get("entries"), list):
            raise ConfigError(f"the outbox {self.path} is not a version {VERSION} outbox")
        intents = raw.get("intents", [])
        if not isinstance(intents, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str)
                                                    for i in intents):
            raise ConfigError(f"the outbox {self.path} is damaged: its intents are not mappings with an id")
        try:
            return [OutboxEntry.from_json(item) for item in raw["entries"]], intents
        except ConfigError as exc:
            raise ConfigError(f"the outbox {self.path} is damaged: {exc}") from None

    # -- writing ------------------------------------------------------------------
    def add(self, new: Iterable[OutboxEntry]) -> int:
        """Keep ``new`` entries (an entry already kept for the same sink and event
        is updated in place). Returns how many entries are pending. A damaged
        file is moved aside (and a warning recorded) rather than overwritten."""
        new = list(new)
        with self._locked():
            try:
                current, intents = self.load()
            except ConfigError as exc:
                current, intents = [], []
                self._move_aside(str(exc))
            merged = _merge(current, new)
            if new:
                self._write(merged, intents)
            return len(merged)

    def record(self, put: Iterable[Mapping[str, Any]] = (), drop: Iterable[str] = ()) -> None:
        """One durable write of the write-ahead records: ``put`` adds or replaces
        records by ``id`` (in place, else appended), ``drop`` removes ids.
        :class:`ConfigError` if the file is damaged (never overwritten here: it
        may hold intents still to resolve) or cannot be written."""
        put, gone = list(put), set(drop)
        try:
            with self._locked():
                entries, intents = self.load()
                index = {r["id"]: i for i, r in enumerate(intents)}
                for record in put:
                    if record["id"] in index:
                        intents[index[record["id"]]] = dict(record)
                    else:
                        index[record["id"]] = len(intents)
                        intents.append(dict(record))
                self._write(entries, [r for r in intents if r["id"] not in gone])
        except OSError as exc:
            raise ConfigError(f"cannot write the outbox {self.path}: {exc.strerror}") from None

    def settle(self, delivered: Iterable[tuple[str, str]], failed: Iterable[OutboxEntry]) -> int:
        """After a retry: drop what was delivered, record what failed again.
        Entries added meanwhile by another run are kept. Returns how many are pending."""
        done = set(delivered)
        with self._locked():
            entries, intents = self.load()
            merged = _merge([e for e in entries if e.ident not in done], failed)
            self._write(merged, intents)
            return len(merged)

    def pending(self) -> int:
        try:
            return len(self.entries())
        except ConfigError:
            return 0

    def _write(self, entries: list[OutboxEntry], intents: list[dict[str, Any]]) -> None:
        """Replace the file (under the lock): temporary file, fsync, rename, and
        fsync of the directory so the rename itself survives a crash."""
        self._clean_temporaries()
        if not entries and not intents:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document: dict[str, Any] = {"version": VERSION, "entries": [e.to_json() for e in entries]}
        if intents:
            document["intents"] = intents
        if self.key is not None:
            document = integrity.seal(document, self.key)
        payload = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _fsync_dir(self.path.parent)

    def _clean_temporaries(self) -> None:
        """Remove temporary files a killed run left (every writer holds the lock,
        so any that exists now is no one's)."""
        for leftover in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _move_aside(self, reason: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
        with contextlib.suppress(OSError):
            os.replace(self.path, aside)
            self.warnings.append(f"{reason}; moved it to {aside} and started a new outbox")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _fsync_dir(directory: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - not POSIX
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _merge(current: list[OutboxEntry], new: Iterable[OutboxEntry]) -> list[OutboxEntry]:
    """``current`` with ``new`` entries updated in place or appended, in order."""
    index = {entry.ident: i for i, entry in enumerate(current)}
    result = list(current)
    for entry in new:
        if entry.ident in index:
            old = result[index[entry.ident]]
            result[index[entry.ident]] = replace(entry, attempts=max(entry.attempts, old.attempts))
        else:
            index[entry.ident] = len(result)
            result.append(entry)
    return result
