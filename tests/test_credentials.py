"""Credentials go only where the environment says: a catalog that points a
vendor at another host is an error before any request, and a loopback
listener standing in for the attacker receives nothing. Credential values are
checked and never appear in a message."""
from __future__ import annotations

import pytest

from reconciler.sandbox import Sandbox
from reconciler.vendors.readycloud.catalog import settings_of as rc_settings_of

TOKEN = "rc-test-token-7f3a9c"  # what the conftest sandbox accepts
SECRET = "cb-client-secret-0451"
VENDOR_URLS = ("READYCLOUD_BASE_URL", "COBUILDER_BASE_URL", "COBUILDER_TOKEN_URL", "USERCOM_BASE_URL",
               "VOUCHERIFY_BASE_URL", "RECONCILER_TRUSTED_HOSTS")
G = "ThicknessProperty00001"
U = "NoUnitGuid000000000001"


@pytest.fixture
def listener(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A loopback server that must receive nothing; credentials set, no URL in the environment."""
    for name in VENDOR_URLS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("READYCLOUD_TOKEN", TOKEN)
    monkeypatch.setenv("COBUILDER_CLIENT_ID", "client")
    monkeypatch.setenv("COBUILDER_CLIENT_SECRET", SECRET)
    monkeypatch.delenv("COBUILDER_TOKEN", raising=False)
    monkeypatch.setenv("RECONCILER_RETRY_ATTEMPTS", "1")
    return sandbox


def https(url: str) -> str:
    return url.replace("http://", "https://", 1)


CASES = [
    # (catalog, the key named, what is wrong)
    ("readycloud: {{org: 1, base_url: '{rc}'}}\nproducts:\n  - {{code: A, quantity: 1}}\n",
     "catalog.yaml:1: readycloud.base_url", "plain http:// never carries the ReadyCloud credentials"),
    ("readycloud: {{org: 1, base_url: '{rc_https}'}}\nproducts:\n  - {{code: A, quantity: 1}}\n",
     "catalog.yaml:1: readycloud.base_url", "host '127.0.0.1' is not one of ReadyCloud's hosts"),
    ("cobuilder:\n  token_url: '{token_https}'\nproducts:\n"
     f"  - {{{{code: A, cobuilder: {{{{id: 1, properties: [{{{{propertyGuid: {G}, unitGuid: {U}, values: []}}}}]}}}}}}}}\n",
     "catalog.yaml:2: cobuilder.token_url", "host '127.0.0.1' is not one of Cobuilder's hosts"),
    ("cobuilder:\n  base_url: '{cb}'\nproducts:\n"
     f"  - {{{{code: A, cobuilder: {{{{id: 1, properties: [{{{{propertyGuid: {G}, unitGuid: {U}, values: []}}}}]}}}}}}}}\n",
     "catalog.yaml:2: cobuilder.base_url", "plain http:// never carries the Cobuilder credentials"),
]


@pytest.mark.parametrize("text,key,problem", CASES)
def test_a_catalog_endpoint_off_the_vendor_hosts_is_refused_before_any_request(  # type: ignore[no-untyped-def]
        listener: Sandbox, run, write_catalog, text: str, key: str, problem: str) -> None:
    catalog = write_catalog(text.format(rc=listener.readycloud_base_url, rc_https=https(listener.readycloud_base_url),
                                        cb=listener.cobuilder_base_url,
                                        token_https=https(listener.cobuilder_token_url)))
    result = run("plan", "-c", catalog)
    assert result.code == 1
    assert key in result.err and problem in result.err, result.err
    assert "RECONCILER_TRUSTED_HOSTS" in result.err or "set READYCLOUD_BASE_URL" in result.err \
        or "set COBUILDER_BASE_URL" in result.err
    assert listener.requests() == []  # no request at all, so no credential
    assert TOKEN not in result.out + result.err and SECRET not in result.out + result.err


def test_a_large_catalog_starts_no_early_listing_at_an_untrusted_host(listener: Sandbox, run,  # type: ignore[no-untyped-def]
                                                                       write_catalog) -> None:
    from reconciler.engine import EARLY_LISTING_FROM
    lines = [f"readycloud:\n  org: 1\n  base_url: '{https(listener.readycloud_base_url)}'\nproducts:"]
    lines += [f"  - {{code: P{i:06d}, kind: goods, description: padding padding padding padding}}"
              for i in range(EARLY_LISTING_FROM // 60)]
    catalog = write_catalog("\n".join(lines) + "\n")
    result = run("plan", "-c", catalog)
    assert result.code == 1 and "catalog.yaml:3: readycloud.base_url" in result.err
    assert listener.requests() == []


def test_the_same_listener_is_used_when_the_environment_names_it(listener: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READYCLOUD_BASE_URL", listener.readycloud_base_url)
    catalog = write_catalog(f"readycloud: {{org: 1, base_url: '{https(listener.readycloud_base_url)}'}}\n"
                            "products:\n  - {code: A, kind: goods}\n")
    monkeypatch.setenv("RECONCILER_TRUSTED_HOSTS", "127.0.0.1")  # (the catalog's own value must pass too)
    result = run("plan", "-c", catalog)
    assert result.code == 0, result.err
    assert [r["auth_scheme"] for r in listener.requests()] == ["Bearer"]


def test_trusted_hosts_admit_a_catalog_host_over_https_only(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from reconciler.catalog.load import load_catalog
    from reconciler.errors import CatalogError
    path = tmp_path / "catalog.yaml"
    path.write_text("readycloud: {org: 1, base_url: 'https://rc.internal:8443/api/v2'}\n")
    for trusted in ("rc.internal", "rc.internal:8443", "*.internal"):
        assert rc_settings_of(load_catalog(path, {"RECONCILER_TRUSTED_HOSTS": f"other.example, {trusted}"}))
    for trusted in ("", "rc.internal:443", "internal", "evil-rc.internal.example"):
        with pytest.raises(CatalogError):
            load_catalog(path, {"RECONCILER_TRUSTED_HOSTS": trusted})
    path.write_text("readycloud: {org: 1, base_url: 'http://rc.internal/api/v2'}\n")
    with pytest.raises(CatalogError) as info:
        load_catalog(path, {"RECONCILER_TRUSTED_HOSTS": "rc.internal"})
    assert "plain http://" in str(info.value)


@pytest.mark.parametrize("url,ok", [
    ("https://www.readycloud.com/api/v2", True),
    ("https://readycloud.com/api/v2", True),
    ("https://www.readycloud.com.attacker.example/api/v2", False),
    ("https://www.readycloud.com@attacker.example/api/v2", False),
    ("http://www.readycloud.com/api/v2", False),
])
def test_readycloud_documented_hosts(tmp_path, url: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    from reconciler.catalog.load import load_catalog
    from reconciler.errors import CatalogError
    path = tmp_path / "catalog.yaml"
    path.write_text(f"readycloud: {{org: 1, base_url: '{url}'}}\n")
    if ok:
        assert rc_settings_of(load_catalog(path, {}))
    else:
        with pytest.raises(CatalogError):
            load_catalog(path, {})


def test_a_base_url_from_a_token_variable_is_not_echoed(run, write_catalog,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READYCLOUD_TOKEN", "tok-never-shown-8812")
    for text in ("readycloud: {org: 1, base_url: '${READYCLOUD_TOKEN}'}\n",
                 "readycloud: {org: 1, base_url: 'https://${READYCLOUD_TOKEN}.example/api/v2'}\n",
                 "cobuilder: {base_url: '${READYCLOUD_TOKEN}', token_url: 'http://x/${READYCLOUD_TOKEN}'}\n"):
        result = run("validate", "-c", write_catalog(text))
        assert result.code == 1 and "base_url" in result.err
        assert "tok-never-shown-8812" not in result.out + result.err


def test_a_token_with_a_trailing_newline_is_stripped(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READYCLOUD_TOKEN", TOKEN + "\n")
    result = run("plan", "-c", write_catalog("readycloud: {org: 1}\nproducts:\n  - {code: A, kind: goods}\n"))
    assert result.code == 0, result.err
    assert [r["status"] for r in env.requests()] == [200]


@pytest.mark.parametrize("name,value", [("READYCLOUD_TOKEN", "abc\ndef-inner-7"), ("READYCLOUD_TOKEN", "abc\x07def-7"),
                                        ("READYCLOUD_TOKEN", "abcdéf-7"), ("COBUILDER_TOKEN", "abc\r\ndef-7")])
def test_a_token_that_cannot_be_sent_is_refused_by_name(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                        monkeypatch: pytest.MonkeyPatch, name: str,
                                                        value: str) -> None:
    monkeypatch.setenv(name, value)
    result = run("plan", "-c", write_catalog(
        "readycloud: {org: 1}\nproducts:\n"
        f"  - {{code: A, kind: goods, cobuilder: {{id: 1, properties: [{{propertyGuid: {G}, unitGuid: {U}, "
        "values: []}]}}\n"))
    assert result.code == 1
    assert result.err.startswith(f"Error: {name} holds a character that cannot be sent"), result.err
    assert "internal error" not in result.err and "def-" not in result.out + result.err
    assert env.requests() == []


def test_notification_credentials_follow_the_same_rule(notify_env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    env = notify_env
    monkeypatch.delenv("USERCOM_BASE_URL")
    monkeypatch.setenv("HOOK_SECRET", "whsec-anywhere")
    text = (f"readycloud: {{org: 1}}\nproducts: []\nnotify:\n"
            f"  webhooks: [{{url: '{env.url}/hooks/x', secret: '${{HOOK_SECRET}}'}}]\n"   # a webhook may be anywhere
            f"  usercom: {{base_url: '{https(env.url)}/usercom/api/public', event_type: view, user_id: 1, "
            "attributes: [description]}\n")
    result = run("validate", "-c", write_catalog(text))
    assert result.code == 1
    assert "notify.usercom.base_url: base_url host '127.0.0.1' is not one of user.com's hosts (*.user.com)" \
        in result.err
    assert "webhooks" not in result.err


def test_a_refused_base_url_with_a_variable_reads_well_without_showing_the_host(  # type: ignore[no-untyped-def]
        run, write_catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_HOST", "attacker.example")
    result = run("validate", "-c", write_catalog("readycloud: {org: 1, base_url: 'https://${SHOP_HOST}/api/v2'}\n"))
    assert result.code == 1
    assert "readycloud.base_url: base_url host (not shown: the URL may hold a ${VAR} value) is not one of " \
           "ReadyCloud's hosts" in result.err
    assert "its host" not in result.err and "attacker.example" not in result.err


@pytest.mark.parametrize("section", ["cobuilder: {base_url: 'https://api.cobuilder.com/LONG'}",
                                     "readycloud: {org: 1, base_url: 'https://www.readycloud.com/LONG'}"])
def test_a_catalog_url_too_long_to_send_is_a_located_problem(run, write_catalog, section: str) -> None:  # type: ignore[no-untyped-def]
    """httpx refuses a URL over 65,536 characters when it sends: that was an
    internal error at plan time; validate now says so with the line."""
    text = section.replace("LONG", "a" * 70000) + "\nproducts:\n  - code: P\n" + (
        "    cobuilder: {id: 1, properties: []}\n" if section.startswith("cobuilder") else "")
    result = run("validate", "-c", write_catalog(text))
    assert result.code == 1, result.out + result.err
    assert "catalog.yaml:1:" in result.err and "base_url is 700" in result.err and "at most 2000" in result.err
