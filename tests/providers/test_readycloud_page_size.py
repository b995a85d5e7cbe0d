"""ReadyCloud's page size: v2 documents none, so ``limit=100`` is an assumed
default, a setting (``readycloud.page_size``, ``READYCLOUD_PAGE_SIZE``); a
server that serves other page lengths than asked is detected and the progress
estimate follows the pages it really serves."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reconciler.catalog.load import load_catalog
from reconciler.errors import CatalogError, ConfigError
from reconciler.http import RetryPolicy
from reconciler.sandbox import Sandbox
from reconciler.vendors.readycloud.catalog import ReadyCloudSettings, settings_of
from reconciler.vendors.readycloud.provider import ReadyCloudProvider

TOKEN = "rc-page-token-2500"


class Recorder:
    """A progress that keeps each task's totals and steps."""

    def __init__(self) -> None:
        self.totals: list[int | None] = []
        self.steps = 0

    def task(self, label: str, total: int | None = None, eta_hint: float | None = None) -> "Recorder":
        self.totals.append(total)
        return self

    def advance(self, n: int = 1) -> None:
        self.steps += n

    def set_total(self, total: int) -> None:
        self.totals.append(total)

    def close(self) -> None:
        pass


def test_a_server_capping_the_page_is_detected_and_the_estimate_follows(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "s.sqlite3", token=TOKEN) as box:  # (serves at most 100 a page)
        box.seed_readycloud(1, [{"code": f"P{i}", "kind": "goods"} for i in range(300)])
        box.clear_requests()
        provider = ReadyCloudProvider(1, box.readycloud_base_url, TOKEN, page_size=250)
        progress = Recorder()
        try:
            assert len(provider.refresh(progress)) == 300  # type: ignore[arg-type]
        finally:
            provider.close()
        asked = [entry["query"] for entry in box.requests()]
    assert asked[0] == {"limit": "250"}
    assert progress.totals == [2, 3] and progress.steps == 3  # 300 / 250 first, then 300 / 100 as served
    assert provider.served_page_size == 100


def test_a_server_ignoring_limit_with_longer_pages_is_detected() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params.get("offset", 0))
        results = [{"url": f"/api/v2/orgs/1/products/{i + 1}/", "code": f"P{i}"} for i in range(offset, offset + 5)]
        following = f"/api/v2/orgs/1/products/?offset={offset + 5}" if offset + 5 < 20 else None
        return httpx.Response(200, json={"count": 20, "next": following, "results": results})

    provider = ReadyCloudProvider(1, "https://www.readycloud.com/api/v2", TOKEN, page_size=2,
                                  transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1))
    progress = Recorder()
    assert len(provider.refresh(progress)) == 20  # type: ignore[arg-type]
    assert progress.totals == [10, 4] and progress.steps == 4
    provider.close()


def test_page_size_setting_and_variable(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("readycloud:\n  org: 1\n  page_size: 500\nproducts: []\n")
    settings = settings_of(load_catalog(path, environ={}))
    assert settings is not None and settings.page_size == 500
    default = ReadyCloudSettings(org=1, base_url="https://www.readycloud.com/api/v2", location=settings.location)
    env = {"READYCLOUD_TOKEN": TOKEN}
    assert ReadyCloudProvider.from_settings(default, env).page_size == 100
    assert ReadyCloudProvider.from_settings(settings, env).page_size == 500
    assert ReadyCloudProvider.from_settings(settings, {**env, "READYCLOUD_PAGE_SIZE": "50"}).page_size == 50
    with pytest.raises(ConfigError, match="READYCLOUD_PAGE_SIZE must be an integer from 1 to 1000"):
        ReadyCloudProvider.from_settings(settings, {**env, "READYCLOUD_PAGE_SIZE": "0"})


@pytest.mark.parametrize("value, message", [
    ("0", "page_size must be from 1 to 1000"), ("1001", "page_size must be from 1 to 1000"),
    ("ten", "expected an integer from 1 to 1000, got"),
])
def test_page_size_out_of_range_names_file_and_line(tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(f"readycloud:\n  org: 1\n  page_size: {value}\nproducts: []\n")
    with pytest.raises(CatalogError) as info:
        load_catalog(path, environ={})
    problems = [str(p) for p in info.value.problems]
    assert any("catalog.yaml:3" in p and "readycloud.page_size" in p and message in p for p in problems), problems
