"""user.com and Voucherify credentials go only to their documented hosts, a
base URL from the environment, or RECONCILER_TRUSTED_HOSTS; webhooks may be
anywhere (they receive only the signed payload)."""
from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from reconciler.catalog.model import frozen
from reconciler.catalog.notify import NotifySettings, UserComSettings, VoucherifySettings
from reconciler.http import RetryPolicy
from reconciler.sinks import Event, deliver

USERCOM = UserComSettings(event_type="view", attribution=("user_id", 1), attributes=("description",),
                          base_url="https://usercom.attacker.example/api/public")
VOUCHERIFY = VoucherifySettings(event="changed", customer=frozen({"source_id": "bot"}),
                                base_url="http://api.voucherify.io")
ENV = {"USERCOM_TOKEN": "uc-token-endpoints-1", "VOUCHERIFY_APP_ID": "id", "VOUCHERIFY_APP_TOKEN": "vf-token-2"}


def event() -> Event:
    return Event(str(uuid.uuid4()), "product.updated", 1700000000, "A", {"code": "A", "description": "d"},
                 ("description",))


def test_catalog_base_urls_off_the_documented_hosts_get_no_credentials(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    report = deliver([event()], NotifySettings(usercom=USERCOM, voucherify=VOUCHERIFY), environ=ENV,
                     outbox_path=tmp_path / "o.json", livemode=True, retry=RetryPolicy(attempts=1),
                     transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={})))
    assert seen == []
    messages = {s.kind: " ".join(s.messages) for s in report.sinks}
    assert "notify.usercom.base_url: host (not shown: the URL may hold a ${VAR} value) is not one of user.com's hosts" in messages["usercom"]
    assert "notify.voucherify.base_url: plain http:// never carries the Voucherify credentials" \
        in messages["voucherify"]
    assert report.pending == 2


def test_the_environment_or_trusted_hosts_admit_them(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    env = {**ENV, "RECONCILER_TRUSTED_HOSTS": "*.attacker.example", "VOUCHERIFY_BASE_URL": "http://127.0.0.1:9"}
    report = deliver([event()], NotifySettings(usercom=USERCOM, voucherify=VOUCHERIFY), environ=env,
                     outbox_path=tmp_path / "o.json", livemode=True, retry=RetryPolicy(attempts=1),
                     transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={})))
    assert report.ok
    assert sorted(str(r.url.copy_with(path="/")) for r in seen) == ["http://127.0.0.1:9/",
                                                                   "https://usercom.attacker.example/"]
