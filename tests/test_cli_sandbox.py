"""`reconciler sandbox serve` with fault options, as a real process."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(tmp_path: Path, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "reconciler.cli", "sandbox", "serve", "--port", str(port),
                                "--state", str(tmp_path / "s.sqlite3"), "--token", "tk", *options],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"{url}/_sandbox/health", timeout=1)
            return process, url
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)


def test_serve_injects_429s_with_retry_after(tmp_path: Path) -> None:
    process, url = serve(tmp_path, "--429-every", "2", "--retry-after", "3")
    try:
        headers = {"Authorization": "Bearer tk"}
        answers = [httpx.get(f"{url}/api/v2/orgs/1/products/", headers=headers) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 429, 200, 429]
        assert answers[1].headers["Retry-After"] == "3"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_serve_rate_limit_is_the_documented_sliding_window(tmp_path: Path) -> None:
    process, url = serve(tmp_path, "--rate-limit")
    try:
        headers = {"Authorization": "Bearer tk"}
        with httpx.Client(base_url=f"{url}/api/v2/orgs/1", headers=headers) as api:
            answers = [api.get("/products/").status_code for _ in range(31)]
            created = api.post("/products/", json={"code": "X", "kind": "goods"}).status_code
            faults = httpx.get(f"{url}/_sandbox/faults").json()
        assert answers == [200] * 30 + [429] and created == 201  # (writes are counted apart)
        assert sorted((f["method"], f["per_window"], f["window_s"]) for f in faults) == \
            [("GET", 30, 60.0), ("POST,PATCH,DELETE", 30, 60.0)]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_serve_simulates_lost_responses(tmp_path: Path) -> None:
    process, url = serve(tmp_path, "--lost-every", "1")
    try:
        headers = {"Authorization": "Bearer tk"}
        lost = httpx.post(f"{url}/api/v2/orgs/1/products/", headers=headers, json={"code": "X", "kind": "goods"})
        assert lost.status_code == 502
        listed = httpx.get(f"{url}/api/v2/orgs/1/products/", headers=headers).json()["results"]
        assert [p["code"] for p in listed] == ["X"]  # it acted before failing
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_invalid_fault_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "reconciler.cli", "sandbox", "serve", "--port", str(free_port()),
                             "--state", str(tmp_path / "s.sqlite3"), "--fault", '{"status": "soon"}'],
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: invalid fault:")
    assert "Traceback" not in result.stderr
