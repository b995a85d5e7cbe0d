"""Running the sandbox: lifecycle, persistence across restarts, seeds and ``serve``."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.sandbox import DEFAULT_TOKEN, Sandbox

DEMO_SEED_PATH = Path(__file__).resolve().parents[2] / "reconciler" / "sandbox" / "seed.json"

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
GUID = "PropertyGuidA000000001"
UNIT = "UnitNone00000000000001"


def test_start_and_stop_without_a_context_manager() -> None:
    sb = Sandbox().start()
    try:
        assert sb.url.startswith("http://127.0.0.1:")
        assert sb.readycloud_base_url == f"{sb.url}/api/v2"
        assert sb.cobuilder_base_url == f"{sb.url}/products-management/api/v3"
        assert sb.cobuilder_token_url == f"{sb.url}/cobuilder-auth/token"
        assert httpx.get(f"{sb.url}/_sandbox/health").json() == {"status": "ok"}
        state_file = sb.state_path
        assert state_file is not None and state_file.exists()
    finally:
        sb.stop()
    assert not state_file.exists()  # a temporary state file goes away
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{sb.url}/_sandbox/health", timeout=1)


def test_state_survives_a_restart_with_the_same_file(tmp_path: Path) -> None:
    state = tmp_path / "state" / "sandbox.sqlite3"
    with Sandbox(state) as sb:
        created = httpx.post(f"{sb.readycloud_base_url}/orgs/1/products/", headers=AUTH,
                             json={"kind": "goods", "code": "KEEP", "unit_price": "2 USD"}).json()
        sb.seed_cobuilder(10, [{"propertyGuid": GUID, "unitGuid": UNIT, "values": [{"value": "v"}]}])
        sb.inject({"status": 500, "count": 5})
    with Sandbox(state) as sb:
        assert sb.readycloud_products(1) == [created]
        assert sb.cobuilder_values(10)[0]["values"][0]["value"] == "v"
        assert sb.requests() == []  # the log and faults are per run
        second = httpx.post(f"{sb.readycloud_base_url}/orgs/1/products/", headers=AUTH,
                            json={"kind": "goods"}).json()
        assert int(second["url"].split("/")[-2]) > int(created["url"].split("/")[-2])
        assert second["updated_at"] > created["updated_at"]
    assert state.exists()


def test_load_seed_only_seeds_an_empty_store(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({
        "readycloud": {"orgs": {"1": [{"kind": "goods", "code": "A"}, {"code": "A", "url": "/x/"}]}},
        "cobuilder": {"products": {
            "100": {"parentId": 0, "properties": [{"propertyGuid": GUID, "unitGuid": UNIT,
                                                   "values": [{"value": "p"}]}]},
            "101": {"parentId": 100, "properties": []},
        }},
    }))
    state = tmp_path / "state.sqlite3"
    with Sandbox(state) as sb:
        assert sb.load_seed(seed) is True
        assert [p["code"] for p in sb.readycloud_products(1)] == ["A", "A"]
        assert [p["parentId"] for p in sb.cobuilder_values(101)] == ["100"]
        sb.readycloud_products(1)
    with Sandbox(state) as sb:
        assert sb.seed_from_file(seed) is False  # state persists instead
        assert len(sb.readycloud_products(1)) == 2


def test_demo_seed_loads() -> None:
    with Sandbox() as sb:
        assert sb.load_seed()  # the demo seed shipped with the package
        assert not sb.load_seed(DEMO_SEED_PATH)  # the same file; only into an empty store
        assert len(sb.readycloud_products(1)) == 5
        inherited = sb.cobuilder_values(1000001)
        assert inherited and all(p["parentId"] == "1000000" for p in inherited)


def test_invalid_seed_file_is_rejected_without_writing(tmp_path: Path) -> None:
    seed = tmp_path / "bad.json"
    seed.write_text(json.dumps({"readycloud": {"orgs": {"1": [{"kind": "goods"}, {"kind": "x"}]}}}))
    with Sandbox() as sb:
        with pytest.raises(ValueError, match="product #1"):
            sb.load_seed(seed)
        assert sb.readycloud_products(1) == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_blocks_serving_the_state_file_until_interrupted(tmp_path: Path) -> None:
    port, state = _free_port(), tmp_path / "served.sqlite3"
    code = ("import sys; from reconciler.sandbox import serve; "
            f"serve('127.0.0.1', {port}, sys.argv[1], 'cli-token', seed_path=sys.argv[2], "
            "log_level='warning')")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen([sys.executable, "-c", code, str(state), str(DEMO_SEED_PATH)], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"{base}/_sandbox/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
        response = httpx.get(f"{base}/api/v2/orgs/1/products/", headers={"Authorization": "Bearer cli-token"})
        assert response.json()["count"] == 5
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    assert state.exists()
