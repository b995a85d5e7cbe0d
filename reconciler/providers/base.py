"""The provider interface: one adapter per vendor, reading live state and
writing one change at a time (modelled on octoDNS's populate/apply)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, Generator, TypeVar

from reconciler.errors import ProviderError
from reconciler.plan.model import Change
from reconciler.progress import NULL, Progress


class Provider(ABC):
    """A vendor adapter. ``refresh`` reads the live state the plan needs;
    ``execute`` performs one planned :class:`Change` and returns the resource as
    it now is (``None`` for a delete)."""

    #: The vendor's name as it appears in plans and messages.
    name: str = ""

    @abstractmethod
    def refresh(self, progress: Progress = NULL) -> Any:
        """Read the live state this provider's part of the plan is computed from."""

    @abstractmethod
    def execute(self, change: Change) -> Any:
        """Apply one change. Raises :class:`reconciler.errors.ProviderError`."""

    def confirm(self, change: Change, since: datetime) -> tuple[bool, Any]:
        """Read back whether ``change`` (whose answer never came; sent at or
        after ``since``) took effect: ``(True, resource as it now is)`` or
        ``(False, None)``. Raises :class:`reconciler.errors.ProviderError` when
        it cannot tell (e.g. the vendor is down)."""
        raise ProviderError(self.name, f"cannot read back whether the {change.action} of {change.key} happened")

    def write_eta(self, writes: int) -> float:
        """Seconds ``writes`` changes need at this vendor's pace (0: unpaced)."""
        return 0.0

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> "Provider":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


R = TypeVar("R")


def read_all(reading: Generator[Any, None, R]) -> R:
    """What a reading generator returns once every batch it hands over is taken."""
    while True:
        try:
            next(reading)
        except StopIteration as done:
            return done.value
