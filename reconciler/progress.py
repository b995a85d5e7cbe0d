"""Progress reporting seam: library code reports, the CLI decides how to show
it (a bar on a terminal, periodic lines in CI logs). Library code never prints."""
from __future__ import annotations

from typing import Protocol


class Task(Protocol):
    def advance(self, n: int = 1) -> None: ...
    def set_total(self, total: int) -> None: ...
    def close(self) -> None: ...


class Progress(Protocol):
    def task(self, label: str, total: int | None = None, eta_hint: float | None = None) -> Task:
        """A unit of work of ``total`` steps; ``eta_hint``: seconds pacing alone will take."""
        ...


class _NullTask:
    def advance(self, n: int = 1) -> None:
        pass

    def set_total(self, total: int) -> None:
        pass

    def close(self) -> None:
        pass


class NullProgress:
    def task(self, label: str, total: int | None = None, eta_hint: float | None = None) -> Task:
        return _NullTask()


NULL = NullProgress()
