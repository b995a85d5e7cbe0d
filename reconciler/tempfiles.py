"""Temporary files of atomic writes (temporary file, fsync, rename): named
with the writer's pid so that the next write can remove what a killed writer
left, without touching the temporary file of a writer still running."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

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
