"""The `reconciler sandbox` commands: the built-in simulation of the vendor
APIs served until interrupted, with faults to inject (registered on the main
group by :mod:`reconciler.cli`)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from reconciler.errors import ReconcilerError

#: where `--sandbox` runs and `sandbox serve` keep the sandbox's state (relative to the working directory)
SANDBOX_STATE = Path(".reconciler") / "sandbox.sqlite3"


@click.group()
def sandbox() -> None:
    """The built-in simulation of the vendor APIs."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--state", type=click.Path(dir_okay=False), default=str(SANDBOX_STATE), show_default=True,
              help="SQLite file holding the sandbox's state.")
@click.option("--token", envvar="SANDBOX_TOKEN", default=None, help="Bearer token the sandbox accepts.")
@click.option("--seed", type=click.Path(dir_okay=False, exists=True), default=None,
              help="JSON seed loaded when the state is empty.")
@click.option("--latency-ms", type=click.IntRange(0), default=0, help="Add this latency to every vendor request.")
@click.option("--429-every", "every_429", type=click.IntRange(1), default=None, metavar="N",
              help="Answer every Nth vendor request 429 with Retry-After.")
@click.option("--retry-after", type=click.FloatRange(0), default=1.0, show_default=True,
              help="Retry-After seconds of injected 429s.")
@click.option("--rate-limit", "rate_limit", is_flag=True,
              help="Enforce the vendors' documented rate limits over a sliding window (429 past them).")
@click.option("--5xx-every", "every_5xx", type=click.IntRange(1), default=None, metavar="N",
              help="Answer every Nth vendor request 503 without acting.")
@click.option("--lost-every", "every_lost", type=click.IntRange(1), default=None, metavar="N",
              help="Let every Nth write act, then answer 502 (a lost response).")
@click.option("--fault", "raw_faults", multiple=True, metavar="JSON",
              help='A fault as JSON, e.g. \'{"status": 500, "every_nth": 7, "method": "PATCH"}\' (repeatable).')
def sandbox_serve(host: str, port: int, state: str, token: str | None, seed: str | None, latency_ms: int,
                  every_429: int | None, retry_after: float, every_5xx: int | None, every_lost: int | None,
                  raw_faults: tuple[str, ...], rate_limit: bool = False) -> None:
    """Serve the sandbox until interrupted, optionally injecting faults. The
    control endpoints under /_sandbox/ (faults, requests, seed) stay available."""
    from reconciler.sandbox import DEFAULT_TOKEN, SeedError, serve

    faults: list[dict[str, Any]] = []
    if latency_ms:
        faults.append({"latency_ms": latency_ms, "count": None})
    if every_429:
        faults.append({"status": 429, "every_nth": every_429, "retry_after": retry_after})
    if rate_limit:
        from reconciler.sandbox import documented_rate_limits
        faults.extend(documented_rate_limits())
    if every_5xx:
        faults.append({"status": 503, "every_nth": every_5xx})
    if every_lost:
        for method in ("POST", "PATCH", "PUT", "DELETE"):
            faults.append({"status": 502, "every_nth": every_lost, "method": method, "mode": "after"})
    for raw in raw_faults:
        try:
            faults.append(json.loads(raw))
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--fault") from None
    Path(state).parent.mkdir(parents=True, exist_ok=True)
    from reconciler import vendors
    mounted = ", ".join(f"{v.label} at {v.sandbox_path}" for v in vendors.registered() if v.sandbox_path)
    click.echo(f"sandbox on http://{host}:{port} ({mounted}), state in {state}"
               + (f", {len(faults)} fault(s) active" if faults else ""), err=True)
    try:
        serve(host=host, port=port, state_path=state, token=token or DEFAULT_TOKEN, seed_path=seed, faults=faults)
    except SeedError as exc:
        raise ReconcilerError(f"sandbox seed {seed}: {exc}") from None
    except ValueError as exc:
        raise ReconcilerError(f"invalid fault: {exc}") from None
