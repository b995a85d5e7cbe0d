"""Shared fixtures: a sandbox over real HTTP on loopback, and an in-process CLI runner."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from reconciler.sandbox.capture import sandbox_notify_environ

TOKEN = "rc-test-token-7f3a9c"


#: Vendor pacing switched off: the sandbox has no rate limit, and ReadyCloud's
#: default (30 requests a minute) would make every test wait.
UNPACED = {"READYCLOUD_MAX_RPM": "0", "COBUILDER_MAX_RPM": "0", "VOUCHERIFY_MAX_RPM": "0"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "paced: keep the vendors' default pacing (no READYCLOUD_MAX_RPM / "
                                       "COBUILDER_MAX_RPM set) for a test of pacing itself")


@pytest.fixture(autouse=True)
def unpaced(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs unpaced (``UNPACED`` in the environment), except one
    marked ``@pytest.mark.paced``, which gets neither variable."""
    for name, value in UNPACED.items():
        if request.node.get_closest_marker("paced"):
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.fixture(autouse=True)
def lock_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Apply locks in a directory of each test's own, not the user's."""
    path = tmp_path_factory.mktemp("locks")
    monkeypatch.setenv("RECONCILER_LOCK_DIR", str(path))
    return path


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sandbox.sqlite3", token=TOKEN) as box:
        yield box


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """Point the ReadyCloud (and Cobuilder) provider at the sandbox."""
    monkeypatch.setenv("READYCLOUD_BASE_URL", sandbox.readycloud_base_url)
    monkeypatch.setenv("READYCLOUD_TOKEN", TOKEN)
    monkeypatch.setenv("COBUILDER_BASE_URL", sandbox.cobuilder_base_url)
    monkeypatch.setenv("COBUILDER_TOKEN", TOKEN)
    monkeypatch.setenv("RECONCILER_RETRY_BACKOFF", "0.01")
    return sandbox  # (unpaced: see the autouse fixture ``unpaced``)


@pytest.fixture
def notify_env(env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """:func:`env`, with the notification targets' credentials and base URLs
    pointing at the sandbox too (:func:`sandbox_notify_environ`)."""
    for name, value in sandbox_notify_environ(env.url).items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run the CLI in-process; returns exit code, stdout and stderr."""
    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)
    return invoke


@pytest.fixture
def write_catalog(tmp_path: Path):  # type: ignore[no-untyped-def]
    def write(text: str, name: str = "catalog.yaml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write
