"""``--target`` / ``--exclude``: limit a plan to some product codes (globs)."""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase


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


ALL = Selection()
