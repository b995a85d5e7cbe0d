"""SQLite state of the sandbox: ReadyCloud products and Cobuilder property values.

One connection (``check_same_thread=False``) guarded by a lock, so the server
thread and the test thread can both use it. Everything a vendor would keep
survives a restart with the same file; request logs and faults do not live here.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

#: Server timestamps always carry microseconds, so they sort as strings.
STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rc_products (
    pk INTEGER PRIMARY KEY AUTOINCREMENT,
    org INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rc_products_org_pk ON rc_products (org, pk);
CREATE INDEX IF NOT EXISTS rc_products_org_updated ON rc_products (org, updated_at);
CREATE INDEX IF NOT EXISTS rc_products_updated ON rc_products (updated_at);
CREATE TABLE IF NOT EXISTS cb_products (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS cb_properties (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL,
    property_guid TEXT NOT NULL,
    unit_guid TEXT NOT NULL,
    vals TEXT NOT NULL,
    UNIQUE (product_id, property_guid)
);
CREATE TABLE IF NOT EXISTS cb_tokens (
    token TEXT PRIMARY KEY,
    issued_at TEXT NOT NULL
);
"""


def format_stamp(moment: datetime) -> str:
    """A UTC timestamp with microseconds and a ``Z``, as the server writes them."""
    return moment.astimezone(timezone.utc).strftime(STAMP_FORMAT)


@dataclass(frozen=True)
class ProductRow:
    """One stored ReadyCloud product: server-owned columns plus its writable fields."""

    org: int
    pk: int
    created_at: str
    updated_at: str
    data: dict[str, Any]


@dataclass(frozen=True)
class PropertyRow:
    """One property's own values on one Cobuilder product."""

    property_guid: str
    unit_guid: str
    values: list[dict[str, Any]]


#: (propertyGuid, unitGuid, values) as written by the Cobuilder routes.
PropertyWrite = tuple[str, str, list[dict[str, Any]]]


class UnitConflict(Exception):
    """An append named another unit than the property's stored values use."""

    def __init__(self, property_guid: str, unit_guid: str) -> None:
        super().__init__(property_guid, unit_guid)
        self.property_guid = property_guid
        self.unit_guid = unit_guid


class Store:
    """The sandbox's persistent state in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute(
            "SELECT MAX(updated_at), MAX(created_at) FROM rc_products").fetchone()
        stamps = [datetime.strptime(s, STAMP_FORMAT).replace(tzinfo=timezone.utc)
                  for s in row if s is not None]
        self._last_stamp = max(stamps, default=datetime.min.replace(tzinfo=timezone.utc))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction; nested uses join the outermost one."""
        with self._lock:
            if self._db.in_transaction:
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _stamp(self) -> str:
        """Now, but strictly later than any stamp handed out before (lock held)."""
        now = datetime.now(timezone.utc)
        if now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return format_stamp(now)

    def is_empty(self) -> bool:
        with self._lock:
            return not any(self._db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
                           for table in ("rc_products", "cb_products"))

    def reset(self) -> None:
        """Forget every product, value and token (the clock keeps running forward)."""
        with self._transaction() as db:
            for table in ("rc_products", "cb_products", "cb_properties", "cb_tokens"):
                db.execute(f"DELETE FROM {table}")

    # -- ReadyCloud ------------------------------------------------------------
    def rc_insert(self, org: int, items: Iterable[Mapping[str, Any]],
                  as_of: datetime | None = None) -> list[ProductRow]:
        """Create products from already normalised writable fields, in order;
        stamped now, or (seeding) a microsecond apart from ``as_of`` on."""
        rows: list[ProductRow] = []
        with self._transaction() as db:
            for offset, data in enumerate(items):
                stamp = self._stamp() if as_of is None else format_stamp(as_of + timedelta(microseconds=offset))
                cursor = db.execute(
                    "INSERT INTO rc_products (org, created_at, updated_at, data) VALUES (?, ?, ?, ?)",
                    (org, stamp, stamp, json.dumps(data)))
                assert cursor.lastrowid is not None
                rows.append(ProductRow(org, cursor.lastrowid, stamp, stamp, dict(data)))
        return rows

    def rc_get(self, org: int, pk: int) -> ProductRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT org, pk, created_at, updated_at, data FROM rc_products WHERE org = ? AND pk = ?",
                (org, pk)).fetchone()
        return _product_row(row) if row else None

    def rc_update(self, org: int, pk: int, changes: Mapping[str, Any]) -> ProductRow | None:
        """Merge ``changes`` into a product's fields and bump ``updated_at``."""
        with self._transaction() as db:
            row = db.execute("SELECT data, created_at FROM rc_products WHERE org = ? AND pk = ?",
                             (org, pk)).fetchone()
            if row is None:
                return None
            data = {**json.loads(row[0]), **changes}
            stamp = self._stamp()
            db.execute("UPDATE rc_products SET data = ?, updated_at = ? WHERE pk = ?",
                       (json.dumps(data), stamp, pk))
        return ProductRow(org, pk, row[1], stamp, data)

    def rc_delete(self, org: int, pk: int) -> bool:
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM rc_products WHERE org = ? AND pk = ?", (org, pk))
            return cursor.rowcount > 0

    def rc_page(self, org: int, since: str | None, limit: int,
                offset: int) -> tuple[int, list[ProductRow]]:
        """(filtered count, one page ordered by pk); ``since`` is a formatted stamp."""
        where = "org = ?"
        args: list[object] = [org]
        if since is not None:
            where += " AND updated_at >= ?"
            args.append(since)
        with self._lock:
            count = self._db.execute(f"SELECT COUNT(*) FROM rc_products WHERE {where}",
                                     args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT org, pk, created_at, updated_at, data FROM rc_products WHERE {where} "
                "ORDER BY pk LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return count, [_product_row(row) for row in rows]

    def rc_all(self, org: int) -> list[ProductRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT org, pk, created_at, updated_at, data FROM rc_products WHERE org = ? "
                "ORDER BY pk", (org,)).fetchall()
        return [_product_row(row) for row in rows]

    # -- Cobuilder -------------------------------------------------------------
    def cb_put_product(self, product_id: int, parent_id: int = 0) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO cb_products (id, parent_id) VALUES (?, ?) "
                       "ON CONFLICT (id) DO UPDATE SET parent_id = excluded.parent_id",
                       (product_id, parent_id))

    def cb_parent(self, product_id: int) -> int | None:
        """The product's parent id (0 for none), or None when the product does not exist."""
        with self._lock:
            row = self._db.execute("SELECT parent_id FROM cb_products WHERE id = ?",
                                   (product_id,)).fetchone()
        return None if row is None else int(row[0])

    def cb_properties(self, product_id: int) -> list[PropertyRow]:
        """The product's own property values, in the order properties were first set."""
        with self._lock:
            rows = self._db.execute(
                "SELECT property_guid, unit_guid, vals FROM cb_properties WHERE product_id = ? "
                "ORDER BY seq", (product_id,)).fetchall()
        return [PropertyRow(guid, unit, json.loads(vals)) for guid, unit, vals in rows]

    def cb_write(self, product_id: int, writes: Sequence[PropertyWrite],
                 mode: Literal["append", "replace"]) -> None:
        """Append to or replace the values of each listed property, all or nothing.

        A property left without values is removed. An append in another unit than
        the stored one raises :class:`UnitConflict` and writes nothing.
        """
        with self._transaction() as db:
            for guid, unit, values in writes:
                row = db.execute("SELECT unit_guid, vals FROM cb_properties "
                                 "WHERE product_id = ? AND property_guid = ?",
                                 (product_id, guid)).fetchone()
                if mode == "append" and row is not None:
                    if row[0] != unit:
                        raise UnitConflict(guid, row[0])
                    values = [*json.loads(row[1]), *values]
                if not values:
                    db.execute("DELETE FROM cb_properties WHERE product_id = ? AND property_guid = ?",
                               (product_id, guid))
                elif row is None:
                    db.execute("INSERT INTO cb_properties (product_id, property_guid, unit_guid, vals) "
                               "VALUES (?, ?, ?, ?)", (product_id, guid, unit, json.dumps(values)))
                else:
                    db.execute("UPDATE cb_properties SET unit_guid = ?, vals = ? "
                               "WHERE product_id = ? AND property_guid = ?",
                               (unit, json.dumps(values), product_id, guid))

    def cb_replace_all(self, product_id: int, parent_id: int, writes: Sequence[PropertyWrite]) -> None:
        """Create or overwrite a product with exactly these own values (seeding)."""
        with self._transaction() as db:
            self.cb_put_product(product_id, parent_id)
            db.execute("DELETE FROM cb_properties WHERE product_id = ?", (product_id,))
            self.cb_write(product_id, writes, "replace")

    def cb_delete_property(self, product_id: int, property_guid: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM cb_properties WHERE product_id = ? AND property_guid = ?",
                                (product_id, property_guid))
            return cursor.rowcount > 0

    def cb_add_token(self, token: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO cb_tokens (token, issued_at) VALUES (?, ?)",
                       (token, format_stamp(datetime.now(timezone.utc))))

    def cb_token_valid(self, token: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM cb_tokens WHERE token = ?",
                                    (token,)).fetchone() is not None

    def cb_expire_tokens(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM cb_tokens")


def _product_row(row: Sequence[Any]) -> ProductRow:
    return ProductRow(int(row[0]), int(row[1]), row[2], row[3], json.loads(row[4]))
