"""The real CLI on a (pseudo-)terminal: what the screen shows afterwards,
read through the ``pyte`` terminal emulator."""
from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

pyte = pytest.importorskip("pyte")

from reconciler.sandbox import Sandbox  # noqa: E402

COLUMNS, ROWS = 140, 200
CATALOG = """readycloud: {org: 1}
products:
""" + "".join(f"""  - code: P{i}
    kind: goods
    quantity: {i + 10}
""" for i in range(4))


def run_on_terminal(args: list[str], cwd: Path, extra_env: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Run the CLI with stdin, stdout and stderr on one pseudo-terminal; its exit code and everything it wrote."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": str(COLUMNS), "LINES": str(ROWS), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    env.update(extra_env or {})
    proc = subprocess.Popen([sys.executable, "-m", "reconciler.cli", *args], cwd=cwd, env=env,
                            stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks)


def screen_of(output: bytes) -> list[str]:
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    stream.feed(output.replace(b"\n", b"\r\n"))  # (the pty's own ONLCR is off in the emulator)
    return [line.rstrip() for line in screen.display if line.strip()]


@pytest.fixture
def four_updates(env: Sandbox, tmp_path: Path) -> Path:
    env.seed_readycloud(1, [{"code": f"P{i}", "kind": "goods", "quantity": i} for i in range(4)])
    env.inject({"latency_ms": 150, "method": "PATCH"})  # the bar is redrawn between results
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    return tmp_path


def test_apply_prints_each_change_above_one_bar_that_is_gone_at_the_end(four_updates: Path) -> None:
    code, output = run_on_terminal(["apply", "--auto-approve", "--parallelism", "1"], four_updates)
    lines = screen_of(output)
    assert code == 0, lines
    assert b"Applying changes" in output  # a bar was shown ...
    assert not [line for line in lines if "Applying changes" in line], lines  # ... and left nothing behind
    results = [line for line in lines if "updated product" in line]
    assert results == [f"  ~ updated product P{i} (readycloud, id {i + 1})" for i in range(4)], lines
    assert lines[-1] == "Apply complete: 4 succeeded, 0 failed, 0 skipped."


@pytest.mark.parametrize("how", ["NO_COLOR", "--no-color"])
def test_no_color_on_a_terminal(four_updates: Path, how: str) -> None:
    coloured = run_on_terminal(["plan"], four_updates)[1]
    assert b"\x1b[33m" in coloured or b"\x1b[33;1m" in coloured or b"\x1b[1;33m" in coloured  # yellow ~ lines
    args, extra = (["plan"], {"NO_COLOR": "1"}) if how == "NO_COLOR" else (["--no-color", "plan"], {})
    code, plain = run_on_terminal(args, four_updates, extra)
    assert code == 0 and b"~ product P0" in plain
    assert b"\x1b[3" not in plain and b"\x1b[1m" not in plain, plain  # no colour, no bold
