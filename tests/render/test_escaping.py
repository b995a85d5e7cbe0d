"""Codes and values from the vendor cannot forge a line of the plan or send
terminal sequences: control and bidi characters are shown escaped."""
from __future__ import annotations

import json

from reconciler.plan.model import Plan
from reconciler.render.common import clean
from reconciler.render.text import render_plan
from reconciler.sandbox import Sandbox

EVIL_CODE = "EVIL-1\n  + product FORGED (readycloud)\x1b[2K"
EVIL_TEXT = "old\r\n  - product OTHER\x1b]0;title\x07 \u202etxt.exe"

CATALOG = """readycloud: {org: 1}
policy: {prune: true, scope: ["EVIL-*"], max_delete_percent: 100}
products:
  - code: KEEP
    kind: goods
    description: new
"""


def test_clean_escapes_controls_and_bidi_and_keeps_the_rest() -> None:
    assert clean("a\nb\r\t\x1b[31m\x7f\x85\u202e\u2066ü €|") == "a\\nb\\r\\t\\x1b[31m\\x7f\\x85\\u202e\\u2066ü €|"
    assert clean("one\ntwo\x1b", lines=True) == "one\ntwo\\x1b"


def test_lone_surrogates_from_a_vendor_s_json_are_escaped_so_output_can_be_encoded() -> None:
    shown = clean(json.loads('"C\\ud800-\\udfff"'))
    assert shown == "C\\ud800-\\udfff"
    shown.encode("utf-8")
    assert render_plan(Plan(changes=(), unmanaged_codes=("A\ud800",)), show_unmanaged=True).encode("utf-8")


def test_live_codes_and_values_are_escaped_in_text_and_markdown(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": EVIL_CODE, "kind": "goods", "description": EVIL_TEXT},
                            {"code": "KEEP", "kind": "goods", "description": EVIL_TEXT}])
    path = write_catalog(CATALOG)
    text = run("plan", "-c", path)
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert not any("FORGED" in line and "EVIL-1" not in line for line in lines)  # no forged line
    assert not any(line.lstrip().startswith("- product OTHER") for line in lines)
    assert "\x1b" not in text.out and "\r" not in text.out and "\u202e" not in text.out
    assert "- product EVIL-1\\n  + product FORGED (readycloud)\\x1b[2K (readycloud, id 1)" in text.out
    assert "\\u202etxt.exe" in text.out

    markdown = run("plan", "-c", path, "--format", "markdown").out
    assert "\x1b" not in markdown and "\r" not in markdown and "\u202e" not in markdown
    sections = [line for line in markdown.splitlines() if line.startswith("<details>")]
    assert len(sections) == 2 and all(line.endswith("</summary>") for line in sections)
    assert "EVIL-1&#92;n  + product FORGED" in markdown  # (the escape's backslash as a reference too)
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "description" in line]
    assert rows and all(row.count(" | ") == 3 for row in rows)  # each row still four cells


def test_delivery_messages_are_escaped(run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from reconciler import notifications
    from reconciler.sinks.deliver import DeliveryReport, SinkReport

    report = DeliveryReport(sinks=(SinkReport("webhooks[0]", "webhook", 0, 1,
                                              ("HTTP 500: oops\nuser.com: 5 delivered\x1b[2J",)),))
    monkeypatch.setattr(notifications, "retry_notifications", lambda *args, **kwargs: report)
    result = run("notify", "--retry", "-c", write_catalog("products: []\n"))
    assert result.code == 1
    assert "  HTTP 500: oops\\nuser.com: 5 delivered\\x1b[2J" in result.out
    assert "\x1b" not in result.out and not any(line.startswith("user.com") for line in result.out.splitlines())


def test_live_codes_cannot_make_links_images_or_emphasis_in_a_pr_comment(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    from markdown_it import MarkdownIt

    hostile = ["![x](https://tracker.example/p.png)", "[login](https://phish.example)", "**urgent** _now_ ~~x~~",
               "`code` \\[y](https://phish.example)"]
    env.seed_readycloud(1, [{"code": "KEEP", "kind": "goods"},
                            *({"code": code, "kind": "goods", "description": code} for code in hostile)])
    path = write_catalog("readycloud: {org: 1}\nproducts:\n  - {code: KEEP, kind: tax}\n"
                         + "".join(f"  - {{code: {json.dumps(c)}, kind: tax, description: {json.dumps(c + '!')}}}\n"
                                   for c in hostile[:2]))
    markdown = run("plan", "-c", path, "--format", "markdown", "--show-unmanaged")
    assert markdown.code == 0, markdown.err
    rendered = MarkdownIt("commonmark").render(markdown.out)  # (as a PR comment shows it)
    for made in ("<img", "<a ", "<strong>urgent", "<em>now"):
        assert made not in rendered
    assert "<b>!&#91;x&#93;(https://tracker.example/p.png)</b>" in rendered  # (an HTML block: the browser shows [ ])
    assert "<li><code>**urgent** _now_ ~~x~~</code></li>" in rendered  # (an unmanaged code)
    assert "<code>`code` \\[y](https://phish.example)</code>" in rendered
