"""Applies against the same vendor endpoint and org never overlap on one machine.

Each endpoint+org an apply writes to has an advisory lock (``fcntl.flock``) on
a file in a per-user directory, whichever checkout or directory the apply runs
from. An apply takes all of its locks (in a fixed order, so two applies cannot
deadlock) before it reads the live state it plans from, and holds them until it
ends; the operating system releases them if the process dies. The file holds
who holds the lock (pid, start time, host, command), for the message of an
apply that gives up waiting; it is only displayed, never trusted.

Across machines the pipelines' own concurrency controls are the lock (GitHub
``concurrency:``, GitLab ``resource_group:``).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from reconciler.errors import ReconcilerError

if TYPE_CHECKING:
    from reconciler.providers.base import Provider

#: Default of ``apply --lock-timeout``: how long to wait for another apply, in seconds.
DEFAULT_TIMEOUT = 300.0
#: How often a waiting apply tries the lock again, in seconds.
POLL_SECONDS = 0.1
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SHOWN_CHARS = 200  # of each holder field read back from a lock file


class LockTimeout(ReconcilerError):
    """Another apply held a lock for longer than ``--lock-timeout``."""


@dataclass(frozen=True)
class Target:
    """One vendor endpoint and org an apply writes to."""

    vendor: str
    endpoint: str
    org: str = ""

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps([self.vendor, self.endpoint, self.org]).encode()).hexdigest()

    def __str__(self) -> str:
        return f"{self.vendor} {self.endpoint}" + (f" org {self.org}" if self.org else "")


def normalise_url(url: str) -> str:
    """``url`` as one spelling per endpoint: lower-case scheme and host, no
    default port, no trailing slash, query, fragment or userinfo, and one name
    for hosts that are the same service (each vendor's ``Vendor.same_hosts``)."""
    import httpx  # (here: the CLI imports this module for every command, and httpx is slow to import)

    parsed = httpx.URL(url.strip())
    scheme = parsed.scheme.lower()
    port = f":{parsed.port}" if parsed.port not in (None, _DEFAULT_PORTS.get(scheme)) else ""
    from reconciler.vendors import registered

    host = parsed.host.lower()
    for vendor in registered():
        host = vendor.same_hosts.get(host, host)
    return f"{scheme}://{host}{port}{parsed.path.rstrip('/')}"


def lock_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """``RECONCILER_LOCK_DIR``, else ``$XDG_STATE_HOME/reconciler/locks``
    (``~/.local/state/reconciler/locks``). Not ``$XDG_RUNTIME_DIR``: a login
    session has one, cron jobs and services usually do not, and two applies of
    the same user must find the same file."""
    explicit = environ.get("RECONCILER_LOCK_DIR")
    if explicit:
        return Path(explicit)
    state = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "reconciler" / "locks"


def targets(providers: Mapping[str, Provider], sandbox_state: Path | None = None) -> list[Target]:
    """What ``providers`` write to. A sandbox started for one command listens
    on a port of its own, so there the key is the sandbox's state file."""
    found = []
    for name, provider in providers.items():
        base_url = getattr(provider, "base_url", None)
        if sandbox_state is not None:
            endpoint = f"sandbox:{sandbox_state.resolve()}"
        else:  # (a provider without a base_url: one lock for all its endpoints)
            endpoint = normalise_url(base_url) if isinstance(base_url, str) else "*"
        org = getattr(provider, "org", None)
        found.append(Target(name, endpoint, "" if org is None else str(org)))
    return found


@contextmanager
def hold(wanted: list[Target], *, timeout: float = DEFAULT_TIMEOUT, environ: Mapping[str, str] = os.environ,
         command: str = "reconciler apply", started: datetime | None = None,
         on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock of every target until the block ends, waiting up to
    ``timeout`` seconds in all (0: not at all). Raises :class:`LockTimeout`
    naming the holder; ``on_wait`` is told once per busy lock. ``started``:
    when this apply started (default: now), for the message of another."""
    directory = lock_dir(environ)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ReconcilerError(f"cannot create the lock directory {directory}: {exc.strerror} "
                              "(set RECONCILER_LOCK_DIR to a writable directory)") from None
    deadline = time.monotonic() + timeout
    since = (started or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    holder = json.dumps({"pid": os.getpid(), "started": since, "host": socket.gethostname(),
                         "command": command}).encode()
    with ExitStack() as stack:
        for target in sorted(set(wanted), key=lambda t: t.key):  # one order for every apply: no deadlock
            stack.enter_context(_locked(directory / f"{target.key}.lock", target, deadline, timeout,
                                        holder, on_wait))
        yield


@contextmanager
def hold_outbox(outbox_path: Path, *, timeout: float = DEFAULT_TIMEOUT, command: str,
                consequence: str = "nothing was applied", on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the outbox of one catalog directory for a whole run: ``apply``
    holds it from before it reads the outbox back until its events are
    delivered, ``notify`` while it delivers and reads back. The lock file is
    beside the outbox (``outbox.json.run-lock``; the outbox's own
    ``outbox.json.lock`` serialises single writes and must stay free for them).

    ``notify`` waits rather than skipping the read-back while an apply runs:
    a skipped read-back would still have to deliver the ready events the apply
    is about to deliver itself, and an unanswered change of a running apply
    cannot be told from one of a killed apply; waiting (up to ``timeout``,
    then a clear error naming the holder) makes every read-back see only what
    a finished or killed run left."""
    lock_path = outbox_path.with_name(outbox_path.name + ".run-lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReconcilerError(f"cannot create {lock_path.parent}: {exc.strerror}") from None
    holder = json.dumps({"pid": os.getpid(), "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         "host": socket.gethostname(), "command": command}).encode()
    with _locked(lock_path, Target("outbox", str(outbox_path)), time.monotonic() + timeout, timeout, holder, on_wait,
                 busy=f"another run delivering the outbox {outbox_path}", consequence=consequence):
        yield


@contextmanager
def _locked(path: Path, target: Target, deadline: float, timeout: float, holder: bytes,
            on_wait: Callable[[str], None] | None, busy: str | None = None,
            consequence: str = "nothing was applied") -> Iterator[None]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ReconcilerError(f"cannot open the lock file {path}: {exc.strerror}") from None
    busy = busy or f"another apply to {target}"
    try:
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    waited = f"gave up after {timeout:g} s" if timeout else "did not wait (--lock-timeout 0)"
                    raise LockTimeout(f"{busy} is running ({_describe(fd)}); {waited}; "
                                      f"{consequence}. Try again when it has finished, or raise "
                                      "--lock-timeout.") from None
                if not told and on_wait is not None:
                    on_wait(f"Waiting up to {timeout:g} s for {busy} to finish "
                            f"({_describe(fd)})...")
                    told = True
                time.sleep(min(POLL_SECONDS, left))
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder, 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # (the file stays: removing a lock file races with its next taker)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _describe(fd: int) -> str:
    """Who holds the lock, as its file says (untrusted: shown, never acted on)."""
    try:
        data: Any = json.loads(os.pread(fd, 4096, 0) or b"null")
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        return "holder unknown"

    def shown(key: str) -> str:
        return "".join(ch for ch in str(data.get(key, "?")) if ch.isprintable())[:_SHOWN_CHARS]

    return f"pid {shown('pid')} on {shown('host')}, started {shown('started')}: {shown('command')}"
