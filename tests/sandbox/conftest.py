"""Fixtures of the sandbox's own tests: one sandbox per test module over real
HTTP on loopback (it accepts the module's ``TOKEN``, and the Cobuilder client
``cid``/``csecret``), emptied before each test, and clients for its two APIs."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reconciler.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with Sandbox(token=request.module.TOKEN, cobuilder_client_id="cid", cobuilder_client_secret="csecret") as sb:
        yield sb


@pytest.fixture
def sb(sandbox: Sandbox) -> Sandbox:
    """The module's sandbox with no state, faults or logged requests."""
    sandbox.reset()
    sandbox.clear_faults()
    sandbox.clear_requests()
    return sandbox


@pytest.fixture
def api(sb: Sandbox) -> Iterator[httpx.Client]:
    """A client of the ReadyCloud API with the token (the Cobuilder tests use ``cobuilder_api``)."""
    with httpx.Client(base_url=sb.readycloud_base_url, headers={"Authorization": f"Bearer {sb.token}"}) as client:
        yield client


@pytest.fixture
def cobuilder_api(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.cobuilder_base_url, headers={"Authorization": f"Bearer {sb.token}"}) as client:
        yield client
