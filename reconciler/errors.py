"""The one exception tree of reconciler.

Every error the library raises on purpose derives from :class:`ReconcilerError`;
the CLI maps these (and only these) to one-line messages and exit codes.
Messages never contain credentials.
"""
from __future__ import annotations

from dataclasses import dataclass


class ReconcilerError(Exception):
    """Base class of every error reconciler raises on purpose."""


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}" if self.path else where


@dataclass(frozen=True)
class Problem:
    """One problem found in the catalog, with where it is."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class CatalogError(ReconcilerError):
    """The catalog file cannot be read or is invalid. Holds every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(ReconcilerError):
    """Missing or invalid configuration from the environment or command line."""


class ProviderError(ReconcilerError):
    """A vendor call failed. ``status`` is the HTTP status, if there was an answer."""

    def __init__(self, vendor: str, message: str, status: int | None = None) -> None:
        self.vendor = vendor
        self.status = status
        self.detail = message
        prefix = f"{vendor}: HTTP {status}" if status is not None else f"{vendor}"
        super().__init__(f"{prefix}: {message}")


class AuthError(ProviderError):
    """401/403 from a vendor: the credentials are wrong, expired or lack access."""


class EndpointMissing(ProviderError):
    """The vendor has no endpoint where one was assumed (a 404 or 405 that no
    single resource explains): every change of kind ``action`` to this vendor
    would fail the same way, so apply stops sending them, saying so once.
    ``sent``: this change's own request got that answer (False: it was held
    back, not sent, because another one's did)."""

    def __init__(self, vendor: str, message: str, status: int | None, action: str, sent: bool = True) -> None:
        super().__init__(vendor, message, status)
        self.action = action
        self.sent = sent


class TransientError(ProviderError):
    """A failure that may succeed when retried (429, 5xx, network)."""

    def __init__(self, vendor: str, message: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(vendor, message, status)
        self.retry_after = retry_after


class SafetyError(ReconcilerError):
    """A plan crossed a safety rule and may not be applied."""

