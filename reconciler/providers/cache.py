"""The local cache of the last ReadyCloud listing, for incremental refresh.

Only an optimisation: anything unexpected about it (missing, corrupt, another
org or base URL, another version) means a full refresh. It holds products as
the API answered them, never credentials.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.contracts import readycloud as rc

VERSION = 1


@dataclass(frozen=True)
class Snapshot:
    watermark: str
    products: list[dict[str, Any]]


def cache_path(directory: str | os.PathLike[str], base_url: str, org: int) -> Path:
    key = hashlib.sha256(f"{base_url.rstrip('/')}|{org}".encode()).hexdigest()[:16]
    return Path(directory) / f"readycloud-{key}.json"


def load(path: Path, base_url: str, org: int) -> Snapshot | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if (data["version"] != VERSION or data["base_url"] != base_url.rstrip("/") or data["org"] != org
                or not isinstance(data["watermark"], str) or not isinstance(data["products"], list)
                or data["count"] != len(data["products"])):
            return None
        return Snapshot(data["watermark"], data["products"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(path: Path, base_url: str, org: int, pks: set[str]) -> None:
    """Drop deleted products from a cached listing, if there is one: apply
    deleted them, and a deletion is what an ``updated_at__gte`` listing cannot
    show (the next incremental refresh would otherwise list everything)."""
    snapshot = load(path, base_url, org)
    if snapshot is not None:
        kept = [p for p in snapshot.products if rc.product_pk_from_url(str(p.get("url", ""))) not in pks]
        save(path, base_url, org, snapshot.watermark, kept)


def save(path: Path, base_url: str, org: int, watermark: str, products: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cache-", dir=path.parent)
    # json.dumps, not json.dump: the whole document at once goes through the C encoder (10× faster)
    text = json.dumps({"version": VERSION, "base_url": base_url.rstrip("/"), "org": org, "watermark": watermark,
                       "count": len(products), "products": products}, separators=(",", ":"))
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)
