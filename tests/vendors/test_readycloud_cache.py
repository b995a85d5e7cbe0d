"""The listing cache is untrusted input (a CI cache can be restored from
elsewhere): anything unexpected means a full listing, never a crash."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.vendors.readycloud import cache

BASE = "https://rc.example/api/v2"


@pytest.mark.parametrize("product", [1, "GIFT-WRAP", ["x"], {"code": ["x"], "url": "/p/1/"}, {"code": {"a": 1}}])
def test_a_cached_product_of_the_wrong_shape_means_a_full_listing(tmp_path: Path, product: Any) -> None:
    path = cache.cache_path(tmp_path, BASE, 1)
    cache.save(path, BASE, 1, "2026-12-01T00:00:00Z", [{"code": "A", "url": "/p/2/"}, {"code": "B", "url": "/p/3/"}])
    assert cache.load(path, BASE, 1) is not None
    data = json.loads(path.read_text())
    data["products"][1] = product
    path.write_text(json.dumps(data))
    assert cache.load(path, BASE, 1) is None


def test_a_cache_that_does_not_verify_is_ignored(tmp_path: Path) -> None:
    """With a key, the cache is sealed: an edit (codes swapped, count unchanged),
    another token's key, or an unsealed file means a full listing."""
    key = cache.cache_key("token-1")
    path = cache.cache_path(tmp_path, BASE, 1)
    products = [{"code": "A", "url": "/p/2/"}, {"code": "B", "url": "/p/3/"}]
    cache.save(path, BASE, 1, "2026-12-01T00:00:00Z", products, key=key)
    assert cache.load(path, BASE, 1, key=key) is not None
    assert "token-1" not in path.read_text()
    assert cache.load(path, BASE, 1, key=cache.cache_key("token-2")) is None
    data = json.loads(path.read_text())
    data["products"][0]["code"], data["products"][1]["code"] = "B", "A"
    path.write_text(json.dumps(data))
    assert cache.load(path, BASE, 1, key=key) is None
    cache.save(path, BASE, 1, "2026-12-01T00:00:00Z", products)  # unsealed
    assert cache.load(path, BASE, 1, key=key) is None


def test_a_killed_writers_temporary_cache_is_removed_by_the_next_save(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f".cache-{int(dead.stdout)}-x1y2z3"
    leftover.write_text("{")
    path = cache.cache_path(tmp_path, BASE, 1)
    cache.save(path, BASE, 1, "2026-12-01T00:00:00Z", [{"code": "A", "url": "/p/2/"}])
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
