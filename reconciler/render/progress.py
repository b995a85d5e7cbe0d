"""How progress is shown: a rich progress bar with ETA on a terminal, and a
line every few seconds (with rate and ETA) in CI logs. Both on stderr."""
from __future__ import annotations

import threading
import time
from typing import Callable, TextIO

import click

from reconciler.progress import Task


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class BarProgress:
    """A rich progress bar per task (terminal).

    Lines printed while a bar is shown must go through :meth:`echo`, which
    prints them above the bar; anything else written to the terminal meanwhile
    leaves a stale copy of the bar in the scrollback.
    """

    def __init__(self, stream: TextIO, *, color: bool = True, shares_terminal: bool = True) -> None:
        """``shares_terminal``: standard output is the terminal the bar is on
        (its lines then go through the bar's console, above the bar). rich is
        imported here, when a bar is shown, not when the module is."""
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(file=stream, no_color=not color, highlight=False),
                                 transient=True, redirect_stdout=False, redirect_stderr=False)
        self._color = color
        self._shares_terminal = shares_terminal
        self._open = 0
        self._lock = threading.Lock()

    def echo(self, line: str) -> None:
        """Print a line of output (it may hold click's colours): above the
        bar while one is shown, else as usual on standard output."""
        with self._lock:
            if self._open and self._shares_terminal:
                from rich.text import Text

                text = Text.from_ansi(line) if self._color else Text(click.unstyle(line))
                self._bar.console.print(text, soft_wrap=True)
                return
        click.echo(line)

    def task(self, label: str, total: int | None = None, eta_hint: float | None = None) -> Task:
        with self._lock:
            if self._open == 0:
                self._bar.start()
            self._open += 1
        return _BarTask(self, self._bar.add_task(label, total=total))

    def _closed(self, task_id: int) -> None:
        self._bar.remove_task(task_id)  # type: ignore[arg-type]
        with self._lock:
            self._open -= 1
            if self._open == 0:
                self._bar.stop()


class _BarTask:
    def __init__(self, owner: BarProgress, task_id: int) -> None:
        self.owner, self.task_id = owner, task_id

    def advance(self, n: int = 1) -> None:
        self.owner._bar.advance(self.task_id, n)  # type: ignore[arg-type]

    def set_total(self, total: int) -> None:
        self.owner._bar.update(self.task_id, total=total)  # type: ignore[arg-type]

    def close(self) -> None:
        self.owner._closed(self.task_id)


class LineProgress:
    """Periodic progress lines for logs: at most one every ``every`` seconds per task."""

    def __init__(self, write: Callable[[str], None], every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.write, self.every, self.clock = write, every, clock

    def echo(self, line: str) -> None:
        """Print a line of output on standard output (no bar to keep clear of)."""
        click.echo(line)

    def task(self, label: str, total: int | None = None, eta_hint: float | None = None) -> Task:
        if eta_hint and eta_hint >= self.every:
            self.write(f"{label}: paced to the vendor's rate limit, about {duration(eta_hint)}")
        return _LineTask(self, label, total)


class _LineTask:
    def __init__(self, owner: LineProgress, label: str, total: int | None) -> None:
        self.owner, self.label, self.total = owner, label, total
        self.done = 0
        self.started = owner.clock()
        self.last = self.started
        self.lock = threading.Lock()

    def advance(self, n: int = 1) -> None:
        with self.lock:
            self.done += n
            now = self.owner.clock()
            if now - self.last < self.owner.every:
                return
            self.last = now
            line = self._line(now)
        self.owner.write(line)

    def _line(self, now: float) -> str:
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total:
            left = (self.total - self.done) / rate if rate else 0.0
            return (f"{self.label}: {self.done}/{self.total} ({100 * self.done / self.total:.0f}%), "
                    f"{rate:.1f}/s, ETA {duration(left)}")
        return f"{self.label}: {self.done} done, {rate:.1f}/s"

    def set_total(self, total: int) -> None:
        self.total = total

    def close(self) -> None:
        with self.lock:
            if self.done and self.owner.clock() - self.started >= self.owner.every:
                self.owner.write(f"{self.label}: {self.done} done in {duration(self.owner.clock() - self.started)}")
