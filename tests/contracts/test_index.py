"""reconciler.contracts lists every behaviour relied on about each vendor and
notification target, each documented (with its source) or marked assumed
(with why), pointing at where its values live; README's "Vendor notes" says
the same per vendor."""
from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.contracts import Behaviour, Contract, index, resolve
from reconciler.vendors import registered

ALL = [(c.subject, b) for c in index() for b in c.behaviours]
README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_vendor_and_target_lists_its_contract() -> None:
    subjects = [c.subject for c in index()]
    assert [v.label for v in registered() if v.contract() is not None] == subjects[:len(registered())]
    assert all(v.contract() is not None for v in registered())
    assert {"user.com", "Voucherify"} <= set(subjects) and any(s.startswith("Webhooks") for s in subjects)


@pytest.mark.parametrize("subject, behaviour", ALL, ids=[f"{s}: {b.what[:40]}" for s, b in ALL])
def test_each_behaviour_has_a_source_or_is_marked_assumed(subject: str, behaviour: Behaviour) -> None:
    assert behaviour.status in ("documented", "assumed")
    assert behaviour.what.strip() and behaviour.source.strip(), "documented needs its source, assumed its why"
    for name in behaviour.where:  # (the values live there, once: nothing is copied into the index)
        resolve(name)


def test_both_kinds_are_listed_for_each_vendor() -> None:
    for contract in index():
        statuses = {b.status for b in contract.behaviours}
        assert statuses == {"documented", "assumed"}, contract.subject


def test_the_assumed_cobuilder_endpoints_are_listed_where_they_live() -> None:
    (cobuilder,) = [c for c in index() if c.subject == "Cobuilder"]
    endpoints = [b for b in cobuilder.behaviours if "reconciler.vendors.cobuilder.contract.ENDPOINTS" in b.where]
    assert len(endpoints) == 2 and all(b.status == "assumed" for b in endpoints)
    assert any("parentId" in b.what and b.status == "documented" for b in cobuilder.behaviours)


def test_a_missing_name_is_caught() -> None:
    with pytest.raises((ImportError, AttributeError)):
        resolve("reconciler.vendors.cobuilder.contract.NO_SUCH_NAME")
    assert isinstance(Contract("x", ()), Contract)


def test_readme_has_vendor_notes_for_each() -> None:
    text = README.read_text()
    assert "\n## Vendor notes\n" in text
    section = text.split("\n## Vendor notes\n", 1)[1].split("\n## ", 1)[0]
    for contract in index():
        assert contract.subject.split(" (")[0] in section, contract.subject
    assert section.count("Documented:") == section.count("Assumed:") == len(index())
