"""Temporary files of atomic writes (temporary file, fsync, rename): named
with the writer's pid so that the next write can remove what a killed writer
left, without touching the temporary file of a writer still running."""
from __future__ import annotations

import contextlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

from reconciler.errors import ConfigError


def target(path: str | os.PathLike[str]) -> Path:
    """The file an atomic write of ``path`` renames over: through a symbolic
    link to its target (the link is kept). A directory, or a file that is not
    a regular one (a device or pipe: ``/dev/null``, ``/dev/stdout``), is
    refused: renaming over it would replace it with a plain file."""
    resolved = Path(os.path.realpath(path))
    if resolved.is_dir():
        raise ConfigError(f"{os.fspath(path)} is a directory, not a file")
    if resolved.exists() and not resolved.is_file():
        raise ConfigError(f"{os.fspath(path)} is not a regular file (a device, pipe or socket), and a whole-file "
                          "write would replace it; leave the option out to write to standard output, or name a file")
    return resolved


@contextmanager
def replaced(path: Path, stem: str, *, mode: int | None = None, durable: bool = True,
             name: str | None = None) -> Iterator[TextIO]:
    """``path`` written whole or not at all: a temporary file beside it
    (``{stem}{pid}-*``; what a killed writer left is removed first), flushed
    to disk (``durable``) and renamed over ``path`` when the block ends
    without an error, removed if it does not. ``mode``: the file's
    permissions (default: ``mkstemp``'s, 0600). ``name``: an OS error of
    these steps (not of the block) is a :class:`ConfigError` naming it."""
    with reported(name):
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(path.parent, stem)
        fd, tmp = tempfile.mkstemp(prefix=prefix(stem), dir=path.parent)
    out = os.fdopen(fd, "w", encoding="utf-8")
    try:
        yield out
        with reported(name):
            if durable:
                out.flush()
                os.fsync(out.fileno())
            out.close()
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            out.close()
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextmanager
def reported(name: str | None) -> Iterator[None]:
    """An OS error (a full disk, a directory made read-only) as one
    :class:`ConfigError` naming the file ``name`` (None: left as it is)."""
    try:
        yield
    except OSError as exc:
        if name is None:
            raise
        raise ConfigError(f"cannot write {name}: {exc.strerror or exc}") from None


def prefix(stem: str) -> str:
    """The ``tempfile.mkstemp`` prefix for this process: ``{stem}{pid}-``."""
    return f"{stem}{os.getpid()}-"


def clean_leftovers(directory: Path, stem: str) -> None:
    """Remove ``{stem}{pid}-*`` files in ``directory`` whose writer is no longer running."""
    for leftover in directory.glob(f"{stem}*-*"):
        pid = leftover.name[len(stem):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (e.g. EPERM: another user's live process)
        return True
    return True
