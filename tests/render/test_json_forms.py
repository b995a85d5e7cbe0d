"""A plan shows values and fingerprints live products in exactly the JSON that
``json.dumps`` makes with the same settings (the encoders are made once, not
per value): checked over a seeded sweep of values of every JSON shape, and
of the non-JSON values ``default=str`` covers."""
from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from reconciler.plan.model import fingerprint
from reconciler.render.common import clean, show


def _value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(11 if depth < 3 else 7)
    if pick == 0:
        return None
    if pick == 1:
        return rng.choice([True, False])
    if pick == 2:
        return rng.randint(-10**12, 10**12)
    if pick == 3:
        return rng.choice([0.5, -1e-9, 1e300, float("inf"), float("nan")])
    if pick == 4:
        return "".join(rng.choice("aZ09 \"\\/\n\té€😀\u2028") for _ in range(rng.randrange(8)))
    if pick == 5:
        return rng.choice([Decimal("88.00"), datetime(2026, 12, 3, 9, 20, tzinfo=timezone.utc)])
    if pick == 6:
        return f"{rng.randint(0, 999)}.{rng.randint(0, 99):02} USD"
    if pick in (7, 8):
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{rng.randrange(6)}{rng.choice('aé')}": _value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_shown_values_and_fingerprints_are_json_dumps_with_the_same_settings() -> None:
    rng = random.Random(20261203)
    for _ in range(2000):
        value = _value(rng)
        assert show(value) == clean(
            json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)), value
        assert fingerprint(value) == hashlib.sha256(
            json.dumps(value, sort_keys=True, default=str).encode()).hexdigest(), value
