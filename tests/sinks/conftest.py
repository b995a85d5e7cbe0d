"""Fixtures for the notification sink tests: a sandbox over real HTTP with
helpers to read back what its capture endpoints received."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from reconciler.sandbox import Sandbox

RC_TOKEN = "rc-sinks-token-41d2"
WEBHOOK_SECRET = "whsec-sinks-test-5e1f0b7a9c"


class Box:
    """A running sandbox plus capture helpers."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.url = sandbox.url

    def captures(self, sink: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/_sandbox/captures/{sink}")
        answer.raise_for_status()
        return list(answer.json()["captures"])

    def fail(self, sink: str, count: int | None = 1, status: int = 503, **extra: Any) -> None:
        answer = httpx.post(f"{self.url}/_sandbox/capture/fail",
                            json={"sink": sink, "count": count, "status": status, **extra})
        assert answer.status_code == 201, answer.text

    def recover(self) -> None:
        httpx.delete(f"{self.url}/_sandbox/capture/fail").raise_for_status()

    def clear(self) -> None:
        httpx.delete(f"{self.url}/_sandbox/captures").raise_for_status()


@pytest.fixture(scope="module")
def _sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    state = tmp_path_factory.mktemp("sinks-sandbox") / "sandbox.sqlite3"
    with Sandbox(state, token=RC_TOKEN) as sandbox:
        yield sandbox


@pytest.fixture
def box(_sandbox: Sandbox) -> Iterator[Box]:
    """The module's sandbox with no products, captures or injected failures."""
    _sandbox.reset()
    helper = Box(_sandbox)
    helper.clear()
    yield helper
    helper.clear()


@pytest.fixture
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SINKS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    return WEBHOOK_SECRET


@pytest.fixture
def catalog_file(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(text: str) -> Path:
        path = tmp_path / "catalog.yaml"
        path.write_text(text)
        return path
    return write


@pytest.fixture(scope="session")
def doc_verify():  # type: ignore[no-untyped-def]
    """``verify_signature`` from README.md, executed as written."""
    import re

    doc = Path(__file__).resolve().parents[2] / "README.md"
    match = re.search(r"<!-- verify-snippet -->\s*```python\n(.*?)```", doc.read_text(), re.S)
    assert match, "README.md lost its verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(doc), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace["verify_signature"]
