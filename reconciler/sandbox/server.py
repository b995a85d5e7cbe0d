"""Running the sandbox: :class:`Sandbox` in a background thread, :func:`serve` in the foreground."""
from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Iterable, Mapping

import httpx
import uvicorn

from reconciler.vendors.readycloud.contract import WRITABLE_FIELDS

from .app import DEFAULT_TOKEN, SandboxState, build_app
from reconciler.vendors.cobuilder.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, PREFIX as COBUILDER_PREFIX, TOKEN_PATH
from reconciler.vendors.cobuilder.sandbox_model import values_view
from reconciler.vendors.readycloud.sandbox import PREFIX as READYCLOUD_PREFIX
from reconciler.vendors.readycloud.sandbox_model import represent
from .seed import load_seed_file, seed_cobuilder, seed_readycloud
from .store import Store

#: Where ``serve`` keeps its state unless told otherwise (``.reconciler/`` is git-ignored).
DEFAULT_STATE_PATH = Path(".reconciler") / "sandbox.sqlite3"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
STARTUP_TIMEOUT = 10.0

logger = logging.getLogger(__name__)


class Sandbox:
    """The vendor APIs on a free port of 127.0.0.1, served from a background thread.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. With no
    ``state_path`` the state lives in a temporary file removed on :meth:`stop`.
    """

    def __init__(self, state_path: str | Path | None = None, *, token: str = DEFAULT_TOKEN,
                 cobuilder_client_id: str = DEFAULT_CLIENT_ID,
                 cobuilder_client_secret: str = DEFAULT_CLIENT_SECRET,
                 host: str = DEFAULT_HOST, port: int = 0,
                 cobuilder_endpoints: Mapping[str, str] | None = None) -> None:
        self.state_path = Path(state_path) if state_path is not None else None
        #: where Cobuilder's update and delete are served (default: the assumed contract's paths)
        self.cobuilder_endpoints = cobuilder_endpoints
        self.token = token
        self.cobuilder_client_id = cobuilder_client_id
        self.cobuilder_client_secret = cobuilder_client_secret
        self.host = host
        self.port = port
        self._temp_dir: str | None = None
        self._state: SandboxState | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> "Sandbox":
        if self._thread is not None:
            raise RuntimeError("the sandbox is already running")
        if self.state_path is None:
            self._temp_dir = tempfile.mkdtemp(prefix="reconciler-sandbox-")
            self.state_path = Path(self._temp_dir) / "sandbox.sqlite3"
        self._state = SandboxState(Store(self.state_path))
        app = build_app(self._state, token=self.token, cobuilder_client_id=self.cobuilder_client_id,
                        cobuilder_client_secret=self.cobuilder_client_secret,
                        cobuilder_endpoints=self.cobuilder_endpoints)
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets
        # whose proto says TCP, and without it every response stalls ~40 ms (Nagle).
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1, timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        if self._state is not None:
            self._state.store.close()
        self._server = self._thread = self._socket = self._state = None
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None
            self.state_path = None

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def state(self) -> SandboxState:
        if self._state is None:
            raise RuntimeError("the sandbox is not running (use start() or a with block)")
        return self._state

    # -- addresses ----------------------------------------------------------------
    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def readycloud_base_url(self) -> str:
        return f"{self.url}{READYCLOUD_PREFIX}"

    @property
    def cobuilder_base_url(self) -> str:
        return f"{self.url}{COBUILDER_PREFIX}"

    @property
    def cobuilder_token_url(self) -> str:
        return f"{self.url}{TOKEN_PATH}"

    # -- ReadyCloud state ---------------------------------------------------------
    def seed_readycloud(self, org: int = 1, products: list[dict[str, Any]] | None = None,
                        as_of: datetime | None = None) -> list[dict[str, Any]]:
        """Insert products as a POST would store them (kind optional); their
        representations. ``as_of`` backdates their stamps (default now)."""
        return seed_readycloud(self.state.store, org, products or [], as_of)

    def readycloud_products(self, org: int = 1) -> list[dict[str, Any]]:
        """Every product of the org as the API represents it, ordered by pk."""
        return [represent(row) for row in self.state.store.rc_all(org)]

    def set_readycloud_product_raw(self, org: int, pk: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Change writable fields behind the API's back, stored exactly as given (no
        normalisation), bumping ``updated_at``. KeyError for an unknown product."""
        unknown = sorted(set(fields) - set(WRITABLE_FIELDS))
        if unknown:
            raise ValueError(f"not writable ReadyCloud fields: {', '.join(unknown)}")
        row = self.state.store.rc_update(org, pk, fields)
        if row is None:
            raise KeyError(f"no ReadyCloud product {pk} in org {org}")
        return represent(row)

    def delete_readycloud_product_raw(self, org: int, pk: int) -> None:
        """Delete a product behind the API's back. KeyError for an unknown product."""
        if not self.state.store.rc_delete(org, pk):
            raise KeyError(f"no ReadyCloud product {pk} in org {org}")

    # -- Cobuilder state ------------------------------------------------------------
    def seed_cobuilder(self, product_id: int, properties: list[dict[str, Any]] | None = None,
                       parent_id: int | None = None) -> None:
        """Create (or overwrite) a product with these own values (create-body shape)."""
        seed_cobuilder(self.state.store, product_id, properties, parent_id)

    def cobuilder_values(self, product_id: int) -> list[dict[str, Any]]:
        """What ``GET /products/{id}/properties/values`` answers. KeyError for an unknown product."""
        answer = values_view(self.state.store, product_id)
        if answer is None:
            raise KeyError(f"no Cobuilder product {product_id}")
        return answer

    def expire_cobuilder_tokens(self) -> None:
        """Every token issued so far is rejected from now on (the static token still works)."""
        self.state.store.cb_expire_tokens()

    # -- seeds, log, faults ---------------------------------------------------------
    def load_seed(self, path: str | Path | None = None) -> bool:
        """Load a seed file (None: the demo seed shipped with the package) if
        the store is empty; whether it was loaded."""
        return bool(load_seed_file(self.state.store, path)["seeded"])

    seed_from_file = load_seed

    def reset(self) -> None:
        """Forget every product, value and token."""
        self.state.store.reset()

    def requests(self) -> list[dict[str, Any]]:
        return self.state.log.entries()

    def clear_requests(self) -> None:
        self.state.log.clear()

    def inject(self, fault: dict[str, Any]) -> None:
        """Add a fault (see :func:`reconciler.sandbox.faults.parse_fault`); ValueError if invalid."""
        self.state.faults.add(fault)

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def captures(self, sink: str) -> list[dict[str, Any]]:
        """What the notification capture endpoints received (``webhook``,
        ``usercom`` or ``voucherify``), oldest first."""
        response = httpx.get(f"{self.url}/_sandbox/captures/{sink}", timeout=10)
        response.raise_for_status()
        return list(response.json()["captures"])

    def fail_sink(self, sink: str, status: int = 503, count: int | None = None) -> None:
        """Make a capture endpoint answer ``status`` (``count`` times; None: until cleared)."""
        httpx.post(f"{self.url}/_sandbox/capture/fail", json={"sink": sink, "status": status, "count": count},
                   timeout=10).raise_for_status()

    def clear_captures(self) -> None:
        httpx.delete(f"{self.url}/_sandbox/captures", timeout=10).raise_for_status()


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          state_path: str | Path = DEFAULT_STATE_PATH, token: str = DEFAULT_TOKEN, *,
          cobuilder_client_id: str = DEFAULT_CLIENT_ID,
          cobuilder_client_secret: str = DEFAULT_CLIENT_SECRET,
          seed_path: str | Path | None = None, log_level: str = "info",
          faults: Iterable[Mapping[str, Any]] = ()) -> None:
    """Serve the sandbox until interrupted (Ctrl-C). Blocking.

    ``seed_path`` is loaded only when the state file holds nothing yet, so a
    restarted sandbox keeps what earlier runs changed. Raises SeedError for an
    invalid seed file, ValueError for an invalid fault. ``faults`` are active
    from the start (see :func:`reconciler.sandbox.faults.parse_fault`); more can
    be added at ``POST /_sandbox/faults``. The access log is off: it would show
    query strings, and a client may put a token there.
    """
    store = Store(state_path)
    try:
        if seed_path is not None:
            summary = load_seed_file(store, seed_path)
            if summary["seeded"]:
                logger.info("seeded %s from %s", summary, seed_path)
        app = build_app(store, token=token, cobuilder_client_id=cobuilder_client_id,
                        cobuilder_client_secret=cobuilder_client_secret)
        for fault in faults:
            app.state.sandbox.faults.add(fault)
        uvicorn.run(app, host=host, port=port, log_level=log_level, lifespan="off", access_log=False)
    finally:
        store.close()


__all__ = ["DEFAULT_STATE_PATH", "Sandbox", "serve"]
