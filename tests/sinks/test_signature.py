"""The webhook signature, and the verification snippet in README.md."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

from reconciler.sinks.webhook import sign, verify_signature

SECRET = "whsec-unit-3b9d"
BODY = b'{"id":"e1","attemptId":"a1","created":1,"event":"product.created","livemode":false,"data":{}}'


def test_header_format() -> None:
    header = sign(SECRET, BODY, 1700000000)
    assert re.fullmatch(r"t=1700000000,v1=[0-9a-f]{64}", header)


def test_library_and_doc_snippet_agree(doc_verify: Callable[..., bool]) -> None:
    now = int(time.time())
    good = sign(SECRET, BODY, now)
    for verify in (verify_signature, doc_verify):
        assert verify(SECRET, good, BODY)
        assert not verify("other-secret", good, BODY)
        assert not verify(SECRET, good, BODY + b" ")  # the raw body, byte for byte
        assert not verify(SECRET, sign(SECRET, BODY, now - 301), BODY)  # too old
        assert verify(SECRET, sign(SECRET, BODY, now - 301), BODY, tolerance=0)  # age check off
        assert not verify(SECRET, "garbage", BODY)
        assert not verify(SECRET, f"t={now}", BODY)
        rotated = f"{good},v1={'0' * 64}"
        assert verify(SECRET, rotated, BODY)  # several v1 entries: any may match


def test_doc_example_header_is_a_real_signature() -> None:
    doc = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"Reconciler-Signature: {sign('example-secret', b'{}', 1700000000)}" in doc
