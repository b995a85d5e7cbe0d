"""ReadyCloud answers an import cannot write back as they are (JSON a sandbox
cannot serve, so over httpx.MockTransport): a lone surrogate (``"\\ud800"``)
and NaN are left out and told, never written wrong or crashing the writer."""
from __future__ import annotations

import io
import json

import httpx

from reconciler import importer
from reconciler.catalog.yamlload import load_yaml

BASE = "https://www.readycloud.com/api/v2"
ENVIRON = {"READYCLOUD_TOKEN": "t-secret", "READYCLOUD_BASE_URL": BASE, "READYCLOUD_MAX_RPM": "0"}


def _answer(results: str) -> httpx.MockTransport:
    body = '{"count": 3, "next": null, "previous": null, "results": [' + results + "]}"
    return httpx.MockTransport(lambda request: httpx.Response(200, content=body.encode(),
                                                              headers={"Content-Type": "application/json"}))


def test_lone_surrogates_and_nan_are_left_out_and_told() -> None:
    url = BASE + "/orgs/1/products/{}/"
    results = ",".join([
        json.dumps({"url": url.format(1), "code": "A", "kind": "goods", "quantity": 2})[:-1]
        + ', "description": "x\\ud800y", "custom_fields": {"w": {"value": NaN}}}',
        json.dumps({"url": url.format(2), "code": "B", "kind": "goods"})[:-1]
        + ', "custom_fields": {"\\udfff": {"value": 1}}, "part_number": "ok"}',
        json.dumps({"url": url.format(3), "kind": "tax"})[:-1] + ', "code": "C\\ud800"}'])
    out = io.StringIO()
    report = importer.import_org(1, out, environ=ENVIRON, transport=_answer(results))
    text = out.getvalue()
    text.encode("utf-8")  # (the writer got nothing a UTF-8 file cannot hold)
    assert ".nan" not in text
    assert load_yaml(text, "c.yaml")["products"] == [{"code": "A", "kind": "goods", "quantity": 2},
                                                     {"code": "B", "kind": "goods", "part_number": "ok"}]
    assert report.products == 2
    assert report.notes == [
        "A: description left out (not managed): it holds a lone UTF-16 surrogate, which a UTF-8 file cannot hold",
        "A: custom_fields left out (not managed): it is NaN, which never equals itself (a plan would always "
        "show a change)",
        "B: custom_fields left out (not managed): it holds a lone UTF-16 surrogate, which a UTF-8 file cannot hold",
        "'C\\ud800': the code cannot be written (it holds a lone UTF-16 surrogate, which a UTF-8 file cannot "
        "hold); not imported"]
