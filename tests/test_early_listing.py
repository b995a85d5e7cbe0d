"""A large catalog's products are validated while ReadyCloud's listing is
already being read: same plan, same requests, and an invalid catalog still
stops before any write, with the listing stopped."""
from __future__ import annotations

import json
import time
from contextlib import ExitStack

import pytest

from reconciler import engine
from reconciler.sandbox import Sandbox


def catalog_text(n: int, extra: str = "") -> str:
    return ("readycloud: {org: 1}\nproducts:\n"
            + "".join(f"  - {{code: P{i:03}, kind: goods, quantity: {i + (i % 7 == 0)}}}\n" for i in range(n)) + extra)


@pytest.fixture
def seeded(env: Sandbox) -> Sandbox:
    env.seed_readycloud(1, [{"code": f"P{i:03}", "kind": "goods", "quantity": i} for i in range(350)])
    return env


def test_the_overlapped_plan_is_the_plan(seeded: Sandbox, run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(catalog_text(360))
    sequential = run("plan", "-c", catalog, "--format", "json")
    monkeypatch.setattr(engine, "EARLY_LISTING_FROM", 0)  # every catalog counts as large
    seeded.clear_requests()
    overlapped = run("plan", "-c", catalog, "--format", "json")
    assert sequential.code == overlapped.code == 0, overlapped.err
    strip = lambda doc: {k: v for k, v in json.loads(doc).items() if k != "created_at"}  # noqa: E731
    assert strip(overlapped.out) == strip(sequential.out)
    assert json.loads(overlapped.out)["counts"]["update"] == 50
    assert [r["query"].get("offset") for r in seeded.requests()] == [None, "100", "200", "300"]  # each page once


def test_an_invalid_large_catalog_stops_the_listing_and_writes_nothing(seeded: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                       monkeypatch) -> None:
    monkeypatch.setattr(engine, "EARLY_LISTING_FROM", 0)
    catalog = write_catalog(catalog_text(360, "  - code: Z\n    origin_countr_code: CN\n"))
    for command in (["plan"], ["apply", "--auto-approve"]):
        result = run(*command, "-c", catalog)
        assert result.code == 1 and "unknown key 'origin_countr_code'" in result.err
        assert "Traceback" not in result.err
    assert all(r["method"] == "GET" for r in seeded.requests())
    time.sleep(0.3)
    seeded.clear_requests()
    time.sleep(0.3)
    assert seeded.requests() == []  # nothing still listing in the background


def test_the_listing_begins_before_the_refresh(seeded: Sandbox, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(engine, "EARLY_LISTING_FROM", 0)
    catalog_path = write_catalog(catalog_text(360))
    with ExitStack() as stack:
        catalog, providers = engine.load_and_open(catalog_path, stack)
        deadline = time.monotonic() + 5
        while len(seeded.requests()) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(seeded.requests()) == 4  # every page read, and no refresh asked for yet
        plan = engine.refresh_and_plan(catalog, providers)
    assert plan.counts["update"] == 50 and len(seeded.requests()) == 4


def test_a_small_catalog_is_validated_before_any_request(seeded: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(catalog_text(3, "  - code: Z\n    origin_countr_code: CN\n"))
    assert run("plan", "-c", catalog).code == 1
    assert seeded.requests() == []


def test_missing_credentials_are_reported_after_the_catalog_problems(seeded: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                     monkeypatch) -> None:
    monkeypatch.setattr(engine, "EARLY_LISTING_FROM", 0)
    monkeypatch.delenv("READYCLOUD_TOKEN")
    bad = write_catalog(catalog_text(5, "  - code: Z\n    origin_countr_code: CN\n"), name="bad.yaml")
    result = run("plan", "-c", bad)
    assert result.code == 1 and "unknown key 'origin_countr_code'" in result.err and "READYCLOUD_TOKEN" not in result.err
    result = run("plan", "-c", write_catalog(catalog_text(5)))
    assert result.code != 0 and "READYCLOUD_TOKEN is not set" in result.err
    assert seeded.requests() == []


def test_a_large_catalogs_vendors_start_before_its_whole_text_is_prescanned(seeded: Sandbox, write_catalog,  # type: ignore[no-untyped-def]
                                                                            monkeypatch) -> None:
    """Only the settings are parsed before the listing begins; the prescan of
    the whole text (a tenth of a second at 10,000 products) overlaps it."""
    from reconciler.catalog import fastyaml

    monkeypatch.setattr(engine, "EARLY_LISTING_FROM", 0)
    monkeypatch.setattr(fastyaml, "STREAM_FROM", 0)
    monkeypatch.setattr(fastyaml, "CHUNK_ITEMS", 100)
    text = catalog_text(360)
    catalog_path = write_catalog(text)
    events: list[str] = []
    scan, start = fastyaml._scan, engine._start
    monkeypatch.setattr(fastyaml, "_scan", lambda part: events.append("whole" if part == text else "part") or scan(part))
    monkeypatch.setattr(engine, "_start", lambda *a: events.append("start") or start(*a))
    with ExitStack() as stack:
        catalog, providers = engine.load_and_open(catalog_path, stack)
        plan = engine.refresh_and_plan(catalog, providers)
    assert events == ["part", "start", "whole"]
    assert plan.counts["update"] == 50


def test_settings_after_a_document_marker_start_nothing(seeded: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                        monkeypatch) -> None:
    """A '---' line among the product list's lines ends the document there: the
    settings after it belong to a second document (which load_yaml refuses),
    so no vendor may start from them, not even to list."""
    from reconciler.catalog import fastyaml

    monkeypatch.setattr(engine, "EARLY_LISTING_FROM", 0)
    monkeypatch.setattr(fastyaml, "STREAM_FROM", 0)
    monkeypatch.setattr(fastyaml, "CHUNK_ITEMS", 100)
    products = "".join(f"- {{code: P{i:03}, kind: goods}}\n" for i in range(360))
    catalog = write_catalog("products:\n" + products + "---\nreadycloud: {org: 2}\n")
    result = run("plan", "-c", catalog)
    assert result.code == 1 and "catalog.yaml:362" in result.err and "Traceback" not in result.err
    assert not [r for r in seeded.requests() if "/orgs/2/" in r["path"]]
