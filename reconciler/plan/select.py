"""``--target`` / ``--exclude``: limit a plan to some product codes (globs)."""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Iterable

from reconciler.errors import ReconcilerError


@dataclass(frozen=True)
class Selection:
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()

    def __call__(self, code: str) -> bool:
        if self.targets and not any(fnmatchcase(code, p) for p in self.targets):
            return False
        return not self.excludes or not any(fnmatchcase(code, p) for p in self.excludes)

    @property
    def everything(self) -> bool:
        return not self.targets and not self.excludes

    def unmatched(self, codes: Iterable[str]) -> list[str]:
        """Each ``--target``/``--exclude`` pattern that matches none of ``codes``."""
        patterns = [("--target", p) for p in self.targets] + [("--exclude", p) for p in self.excludes]
        if not patterns:
            return []
        left = dict.fromkeys(patterns)
        for code in codes:
            for option, pattern in list(left):
                if fnmatchcase(code, pattern):
                    del left[(option, pattern)]
            if not left:
                return []
        return [f"{option} {pattern!r}" for option, pattern in left]

    def require_matches(self, codes: Iterable[str]) -> None:
        """Refuse a pattern that matches no product of the catalog (a typo
        would otherwise plan nothing, or everything, and say "No changes")."""
        missing = self.unmatched(codes)
        if missing:
            raise ReconcilerError(f"{', '.join(missing)} match{'es' * (len(missing) == 1)} no product code "
                                  "in the catalog; nothing was planned")

    def describe(self) -> str:
        """One line saying what a partial plan leaves out ('' for the whole catalog)."""
        if self.everything:
            return ""
        parts = ([f"only products matching {', '.join(self.targets)}"] if self.targets else []) + \
            ([f"leaving out products matching {', '.join(self.excludes)}"] if self.excludes else [])
        return "Partial plan (--target/--exclude): " + "; ".join(parts) + ". Other products were not compared."


ALL = Selection()
