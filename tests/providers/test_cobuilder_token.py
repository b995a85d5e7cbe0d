"""The Cobuilder client secret goes only to the token endpoint itself: a
redirect is not followed, and a token answered with stray whitespace is
cleaned, one with a line break inside refused (never a crash or an echo)."""
from __future__ import annotations

import httpx
import pytest

from reconciler.vendors.cobuilder.catalog import CobuilderSettings
from reconciler.errors import AuthError, ConfigError, Location
from reconciler.vendors.cobuilder.provider import CobuilderProvider
from reconciler.http import RetryPolicy

SECRET = "cb-secret-unit-6060"
ENV = {"COBUILDER_CLIENT_ID": "id", "COBUILDER_CLIENT_SECRET": SECRET, "COBUILDER_MAX_RPM": "0"}
SETTINGS = CobuilderSettings("https://api.cobuilder.com/pm/api/v3", "https://auth.cobuilder.com/token",
                             "https://api.cobuilder.com", Location("c"))


def read_with(token_answer: httpx.Response, seen: list[httpx.Request]) -> object:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/token":
            return token_answer
        return httpx.Response(200, json=[])
    with CobuilderProvider.from_settings(SETTINGS, [1], ENV, transport=httpx.MockTransport(handler),
                                         retry=RetryPolicy(attempts=1)) as provider:
        return provider.read_values(1)


def test_a_redirected_token_request_is_refused_not_followed() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(AuthError) as info:
        read_with(httpx.Response(307, headers={"Location": "https://elsewhere.example/token"}), seen)
    assert [r.url.host for r in seen] == ["auth.cobuilder.com"]
    assert "redirected to 'https://elsewhere.example/token'" in str(info.value) and SECRET not in str(info.value)


def test_a_token_with_a_trailing_newline_is_used_stripped() -> None:
    seen: list[httpx.Request] = []
    assert read_with(httpx.Response(200, json="tok-123\n"), seen) == []
    assert seen[1].headers["Authorization"] == "Bearer tok-123"


def test_a_token_with_a_line_break_inside_is_an_auth_error_without_the_token() -> None:
    with pytest.raises(AuthError) as info:
        read_with(httpx.Response(200, json="tok\nhidden-99"), [])
    assert "cannot be sent" in str(info.value) and "hidden-99" not in str(info.value)


def test_a_settings_token_url_off_cobuilder_is_refused_where_the_client_is_made() -> None:
    settings = CobuilderSettings(SETTINGS.base_url, "https://attacker.example/token", SETTINGS.audience_url,
                                 Location("c"))
    with pytest.raises(ConfigError, match="cobuilder.token_url: host \\(not shown: the URL may hold a \\$\\{VAR\\} value\\) is not one of Cobuilder's hosts"):
        CobuilderProvider.from_settings(settings, [1], ENV)
    assert CobuilderProvider.from_settings(settings, [1], {**ENV, "COBUILDER_TOKEN_URL": "http://127.0.0.1:9/t"})
