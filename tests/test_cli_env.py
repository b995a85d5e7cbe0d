"""Plain-configuration variables are shown in plans; others stay hidden (issue 14)."""
from __future__ import annotations

import pytest

from reconciler.sandbox import Sandbox

CATALOG = ("readycloud: {org: '${RC_ORG}'}\nproducts:\n"
           "  - {code: A, description: 'shirt for ${REGION}', part_number: '${PN}'}\n")


def test_plain_env_values_show_in_the_plan_others_stay_sensitive(
        env: Sandbox, run, write_catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods", "description": "old", "part_number": "old-pn"}])
    monkeypatch.setenv("RC_ORG", "1")
    monkeypatch.setenv("REGION", "norway-region")
    monkeypatch.setenv("PN", "secret-pn-42")
    hidden = run("plan", "-c", write_catalog(CATALOG))
    assert hidden.code == 0, hidden.err
    assert "norway-region" not in hidden.out and "secret-pn-42" not in hidden.out
    shown = run("plan", "-c", write_catalog("plain_env: [REGION, RC_ORG]\n" + CATALOG))
    assert shown.code == 0, shown.err
    assert '"shirt for norway-region"' in shown.out and "secret-pn-42" not in shown.out
    assert 'part_number: "(sensitive)"' in shown.out and '"(sensitive)" → "shirt' not in shown.out


def test_a_catalog_cannot_make_a_credential_plain_to_show_it_in_a_pr_comment(
        env: Sandbox, run, write_catalog, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods", "description": "old"}])
    monkeypatch.setenv("GITHUB_TOKEN", "ghs-secret-91c2")
    for name in ("READYCLOUD_TOKEN", "GITHUB_TOKEN"):
        path = write_catalog(f"plain_env: [REGION, {name}]\nreadycloud: {{org: 1}}\nproducts:\n"
                             f"  - {{code: A, description: '${{{name}}}'}}\n")
        for fmt in ("text", "markdown", "json"):
            done = run("plan", "-c", path, "--format", fmt)
            assert done.code == 1 and f"plain_env[1]: plain_env names {name!r}, which by its name may hold a " \
                "secret" in done.err
            assert "ghs-secret-91c2" not in done.out + done.err and "rc-test-token" not in done.out + done.err
    assert env.requests() == []
