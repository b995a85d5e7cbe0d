"""Message authentication for files reconciler writes and reads back (the
outbox, the listing cache): they travel as CI artifacts and caches, so they
are untrusted input unless their MAC verifies with a key only the
environment holds.

A key is derived from credentials the run already has (HMAC-SHA256, keyed by
the credentials in a fixed order, over a label that separates the uses), so
no new secret is needed and the files themselves hold none: the MAC is not a
secret. The MAC covers the whole JSON document (canonical form: sorted keys,
no spaces) except its own ``mac`` field.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Mapping

MAC_FIELD = "mac"


def derive_key(label: str, *secrets: str) -> bytes:
    """A key for ``label`` from ``secrets`` (in this order; each length-prefixed,
    so ("ab", "c") and ("a", "bc") differ)."""
    material = b"".join(len(s.encode()).to_bytes(4, "big") + s.encode() for s in secrets)
    return hmac.new(material, label.encode(), hashlib.sha256).digest()


def mac(document: Mapping[str, Any], key: bytes) -> str:
    """The hex MAC of ``document`` without its ``mac`` field."""
    body = {k: v for k, v in document.items() if k != MAC_FIELD}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def seal(document: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """``document`` with its ``mac`` field set."""
    return {**{k: v for k, v in document.items() if k != MAC_FIELD}, MAC_FIELD: mac(document, key)}


def verifies(document: Any, key: bytes) -> bool:
    """Whether ``document`` is a mapping whose ``mac`` field matches (constant time)."""
    if not isinstance(document, dict) or not isinstance(document.get(MAC_FIELD), str):
        return False
    return hmac.compare_digest(document[MAC_FIELD], mac(document, key))
