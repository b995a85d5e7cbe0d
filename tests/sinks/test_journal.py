"""Write-ahead records: intents recorded (batched) before a change is sent,
answers after, read-back of unanswered changes, and the outbox as untrusted input."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import apply_plan
from reconciler.errors import ConfigError, ProviderError
from reconciler.plan.model import Change, FieldChange, Plan
from reconciler.providers.base import Provider
from reconciler.http import RetryPolicy
from reconciler.vendors.readycloud.provider import ReadyCloudProvider
from reconciler.sandbox import Sandbox
from reconciler.sinks.journal import Intent, WriteAhead, pending, resolve
from reconciler.sinks.outbox import Outbox

TOKEN = "rc-journal-token"


def update(code: str, pk: str = "7", **after: Any) -> Change:
    fields = tuple(FieldChange(n, None, v, n == "net_cost_code") for n, v in after.items())
    return Change("readycloud", "update", code, pk, fields, dict(after))


class Recording(Provider):
    """Applies nothing; notes which intents the outbox held when each change was sent."""

    name = "readycloud"

    def __init__(self, outbox: Outbox, refuse: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.outbox, self.refuse = outbox, refuse
        self.seen: dict[str, set[str]] = {}
        self.lock = threading.Lock()

    def refresh(self, progress: Any = None) -> Any:
        return {}

    def execute(self, change: Change) -> Any:
        with self.lock:
            self.seen[change.key] = {i["code"] for i in self.outbox.intents()}
        if change.key in self.refuse:
            raise ProviderError("readycloud", "refused", 400 if change.key.startswith("BAD") else 504)
        return {"code": change.key, "url": f"u/{change.key}/", **change.body}


def test_every_intent_is_recorded_before_its_change_is_sent_in_few_writes(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.json")
    changes = [update(f"P{i:03}", quantity=i) for i in range(100)]
    journal = WriteAhead(outbox, changes, livemode=True, batch=32, coalesce=3600)
    provider = Recording(outbox)
    result = apply_plan(Plan(tuple(changes)), journal.wrap({"readycloud": provider}), parallelism=4,
                        on_result=journal.answered)
    assert all(code in provider.seen[code] for code in provider.seen) and len(provider.seen) == 100
    assert journal.writes <= 6  # batches of 32 intents (answers ride along), not one write per change
    events = journal.events(result.results)
    stored = {i["code"]: i for i in outbox.intents()}
    assert [e.code for e in events] == [c.key for c in changes]
    assert all(stored[e.code]["state"] == "ready" and stored[e.code]["id"] == e.id for e in events)
    journal.settle()
    assert not outbox.path.exists()  # all delivered: nothing left


def test_refused_changes_are_dropped_unanswered_ones_kept_and_no_secret_stored(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.json")
    changes = [update("BAD", quantity=1), update("LOST", quantity=2, net_cost_code="s3cret-cost"),
               update("OK", quantity=3)]
    journal = WriteAhead(outbox, changes, livemode=False, sensitive=lambda code: frozenset({"description"}) if code == "OK" else frozenset())
    provider = Recording(outbox, refuse={"BAD", "LOST"})
    result = apply_plan(Plan(tuple(changes)), journal.wrap({"readycloud": provider}), on_result=journal.answered)
    assert [e.code for e in journal.events(result.results)] == ["OK"]
    journal.settle()
    (left,) = pending(outbox)  # the 504: its answer is unknown, read back by the next run
    assert (left.code, left.ready, left.livemode, left.hidden) == ("LOST", None, False, ("net_cost_code",))
    assert "s3cret-cost" not in outbox.path.read_text()


@pytest.mark.parametrize("text", ['{"version": 2, "entries": [], "intents": [{"code": "X"}]}',
                                  '{"version": 2, "entries": [], "intents": [{"id": "1", "state": "odd"}]}',
                                  # numbers out of range (1e999 reads as infinity): a clear error, not a crash
                                  *(f'{{"version": 2, "entries": [], "intents": [{{"id": "1", "state": "intent", '
                                    f'"vendor": "readycloud", "action": "update", "code": "X", "recorded_at": {t}}}]}}'
                                    for t in ("1e300", "1e999", "-1", '"nan"')),
                                  '{"version": 2, "entries": [{"sink": "s", "attempts": "many", "event": '
                                  '{"id": "e", "event": "product.updated", "created": 1, "code": "X"}}]}',
                                  '{"version": 2, "entries": [{"sink": "s", "event": '
                                  '{"id": "e", "event": "product.updated", "created": 1e999, "code": "X"}}]}'])
def test_a_damaged_outbox_is_a_clear_error_naming_it(tmp_path: Path, text: str) -> None:
    path = tmp_path / "outbox.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"the outbox {path} is damaged"):
        pending(Outbox(path))


def test_writes_clean_up_temporary_files_a_killed_run_left(tmp_path: Path) -> None:
    leftover = tmp_path / ".outbox.json.abc123.tmp"
    leftover.write_text("{half")
    outbox = Outbox(tmp_path / "outbox.json")
    outbox.record(put=[{"id": "e1", "state": "intent"}])
    assert not leftover.exists() and outbox.intents() == [{"id": "e1", "state": "intent"}]


def test_version_1_outboxes_are_still_read(tmp_path: Path) -> None:
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps({"version": 1, "entries": []}))
    assert Outbox(path).load() == ([], [])


# -- reading back against the sandbox -------------------------------------------


@pytest.fixture
def readycloud(tmp_path: Path) -> Any:
    with Sandbox(tmp_path / "sb.sqlite3", token=TOKEN) as box:
        box.seed_readycloud(1, [{"code": "UPD", "kind": "goods", "quantity": 1, "net_cost_code": "c-1"},
                                {"code": "GONE", "kind": "goods"}])
        with ReadyCloudProvider(1, box.readycloud_base_url, TOKEN,
                                retry=RetryPolicy(attempts=2, backoff_initial=0.01)) as provider:
            yield box, provider


def _pk(box: Sandbox, code: str) -> str:
    product = next(p for p in box.readycloud_products(1) if p["code"] == code)
    return str(product["url"]).rstrip("/").rsplit("/", 1)[1]


def test_confirm_reads_back_creates_updates_and_deletes(readycloud: Any) -> None:
    box, provider = readycloud
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    upd, gone = _pk(box, "UPD"), _pk(box, "GONE")
    assert provider.confirm(update("UPD", upd, quantity=1), since)[0] is True
    assert provider.confirm(update("UPD", upd, quantity=9), since) == (False, None)
    assert provider.confirm(Change("readycloud", "create", "UPD", None), since)[1]["code"] == "UPD"
    assert provider.confirm(Change("readycloud", "create", "NOPE", None), since) == (False, None)
    assert provider.confirm(Change("readycloud", "delete", "GONE", gone), since) == (False, None)
    box.delete_readycloud_product_raw(1, int(gone))
    assert provider.confirm(Change("readycloud", "delete", "GONE", gone), since) == (True, None)


def test_resolve_announces_what_happened_with_its_id_and_drops_the_rest(readycloud: Any) -> None:
    box, provider = readycloud
    upd = _pk(box, "UPD")
    happened = Intent.of(update("UPD", upd, quantity=1), 0.0, True, frozenset({"net_cost_code"}))
    not_happened = Intent.of(update("UPD", upd, quantity=5), 0.0, True, frozenset())
    hidden_differs = Intent.of(update("UPD", upd, net_cost_code="c-2"), 0.0, True, frozenset())
    recovery = resolve([happened, not_happened, hidden_differs], {"readycloud": provider},
                       {"UPD": {"net_cost_code": "c-2"}})  # the catalog's (sensitive) value
    ((event, live),) = recovery.events
    assert (event.id, event.code, event.event, live) == (happened.id, "UPD", "product.updated", True)
    assert "net_cost_code" not in event.data and event.data["quantity"] == 1
    assert sorted(recovery.dropped) == sorted([not_happened.id, hidden_differs.id])
    box.inject({"status": 503, "count": None, "method": "GET"})
    kept = resolve([happened], {"readycloud": provider})
    assert kept.events == [] and kept.dropped == [] and "kept in the outbox" in kept.messages[0]


def test_a_change_it_was_not_told_about_is_recorded_before_it_is_sent_too(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.json")
    journal = WriteAhead(outbox, [], livemode=True)
    provider = Recording(outbox)
    stray = update("STRAY", quantity=1)
    result = apply_plan(Plan((stray,)), journal.wrap({"readycloud": provider}), on_result=journal.answered)
    assert provider.seen["STRAY"] == {"STRAY"}
    assert [e.code for e in journal.events(result.results)] == ["STRAY"]


def test_an_outbox_that_cannot_be_written_fails_the_change_before_it_is_sent(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    outbox = Outbox(blocker / "outbox.json")
    journal = WriteAhead(outbox, [update("A", quantity=1)], livemode=True)
    provider = Recording(Outbox(tmp_path / "other.json"))
    result = apply_plan(Plan((update("B", quantity=1),)), journal.wrap({"readycloud": provider}),
                        on_result=journal.answered)
    (failed,) = result.failed
    assert "cannot write the outbox" in str(failed.error) and provider.seen == {}


def test_a_read_back_answered_with_an_html_page_keeps_the_intent_with_a_message(readycloud: Any) -> None:
    box, provider = readycloud
    intent = Intent.of(update("UPD", _pk(box, "UPD"), quantity=1), 0.0, True, frozenset())
    box.inject({"status": 200, "body": "<html>maintenance</html>", "count": None, "method": "GET"})
    kept = resolve([intent], {"readycloud": provider})
    assert kept.events == [] and kept.dropped == []
    assert "not JSON" in kept.messages[0] and "kept in the outbox" in kept.messages[0]


def test_records_of_a_sandbox_run_are_not_read_back_by_a_real_run_nor_the_other_way(readycloud: Any) -> None:
    box, provider = readycloud
    gone = _pk(box, "GONE")
    box.delete_readycloud_product_raw(1, int(gone))  # (read back here, its delete would look done)
    sandboxed = Intent.of(Change("readycloud", "delete", "GONE", gone, live={"code": "GONE"}), 0.0, False,
                          frozenset(), "1")
    real = Intent.of(Change("readycloud", "delete", "GONE", gone, live={"code": "GONE"}), 0.0, True,
                     frozenset(), "1")
    for intent, livemode in ((sandboxed, True), (real, False)):
        box.clear_requests()
        recovery = resolve([intent], {"readycloud": provider}, org="1", livemode=livemode)
        assert (recovery.events, recovery.dropped, recovery.settled) == ([], [], [])
        assert "kept in the outbox for such a run" in recovery.elsewhere[0] and box.requests() == []
    assert resolve([real], {"readycloud": provider}, org="1", livemode=True).events[0][0].id == real.id
