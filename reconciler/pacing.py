"""Pacing: space a vendor's requests so a run stays under its rate limit
instead of hitting it (ReadyCloud documents 30 reads and 30 writes a minute)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

from reconciler.errors import ConfigError


class Pacer:
    """Lets at most ``per_minute`` calls start in any minute, evenly spaced
    (``None`` or 0: unpaced). Thread-safe: concurrent callers queue for slots."""

    def __init__(self, per_minute: float | None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    @property
    def paced(self) -> bool:
        return self.interval > 0

    def wait(self) -> float:
        """Block until this caller's slot; returns how long it waited."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay

    def eta(self, calls: int) -> float:
        """Seconds that ``calls`` more calls need at this pace."""
        return max(0.0, calls * self.interval)


@dataclass(frozen=True)
class Limits:
    """Requests per minute for reads (GET) and writes; None: unpaced."""

    reads: float | None = None
    writes: float | None = None

    def resolve(self, environ: Mapping[str, str], variable: str) -> "Limits":
        """``variable`` (e.g. READYCLOUD_MAX_RPM) overrides both; 0 means unpaced."""
        raw = environ.get(variable, "").strip()
        if not raw:
            return self
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{variable} must be a number of requests per minute (0: unpaced)") from None
        if value < 0:
            raise ConfigError(f"{variable} must not be negative")
        return Limits(value or None, value or None)

    def pacers(self) -> dict[str, Pacer]:
        return {"read": Pacer(self.reads), "write": Pacer(self.writes)}
