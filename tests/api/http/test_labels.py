"""Labels over real HTTP: QR codes read back by a real decoder, PDF batches, ZPL, errors."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from tests.api.conftest import LiveServer
from tests.api.label_estate import (
    BASE,
    CHINESE_TAG,
    LATIN_TAG,
    ORG,
    Estate,
    label_server,
    legacy,
    page_url,
    seed,
)

CI_ATTRS = """query($tag: String!) { ci(assetTag: $tag) { version attributes
  history(first: 1) { nodes { action actor reason changes { field } } } } }"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """A server whose labels point to BASE (see label_estate)."""
    yield from label_server(tmp_path)


@pytest.fixture
def estate(live: LiveServer) -> Estate:
    return seed(live)


def decode(image: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(image)]


def pdf_payloads(pdf: bytes) -> list[str]:
    """Every QR payload on every page of a PDF, rasterised at 300 dpi."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return [text for page in doc for text in decode(page.render(scale=300 / 72).to_pil())]
    finally:
        doc.close()


def attributes(live: LiveServer, tag: str) -> dict[str, Any]:
    found: dict[str, Any] = live.ok(CI_ATTRS, {"tag": tag})["ci"]
    return found


@pytest.mark.parametrize("tag", [LATIN_TAG, CHINESE_TAG])
def test_png_label_decodes_to_the_asset_page(live: LiveServer, estate: Estate,
                                             tag: str) -> None:
    r = live.client.get(f"/labels/{tag}.png", params={"dpi": 300})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(r.content))
    assert decode(image) == [page_url(tag)]
    assert round(image.info["dpi"][0]) == 300
    # The scanned address is served by this app: the asset page of the same CI.
    page = live.client.get(urlsplit(page_url(tag)).path)
    assert page.status_code == 200
    assert tag in page.text
    assert "label_printed_at" not in attributes(live, tag)["attributes"], "a GET records nothing"


def test_svg_label_names_the_asset(live: LiveServer, estate: Estate) -> None:
    r = live.client.get(f"/labels/{CHINESE_TAG}.svg", params={"template": "dymo-89x36"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert 'width="89' in r.text
    for text in ("财务部笔记本 张伟", "ThinkPad X1 Carbon / PF3ABC12", "财务部", ORG):
        assert text in r.text, text
    assert "filename*=UTF-8''%E8%B5%84" in r.headers["content-disposition"]


def test_pdf_batch_decodes_every_label_and_records_printing(
    live: LiveServer, estate: Estate
) -> None:
    before = attributes(live, LATIN_TAG)["version"]
    r = live.client.post("/labels", json={"assetTags": [LATIN_TAG, CHINESE_TAG],
                                          "template": "avery-l7651", "startOffset": 3})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert (r.headers["x-label-count"], r.headers["x-labels-recorded"]) == ("2", "2")
    assert sorted(pdf_payloads(r.content)) == sorted([page_url(LATIN_TAG),
                                                       page_url(CHINESE_TAG)])
    after = attributes(live, LATIN_TAG)
    assert after["version"] == before + 1
    assert after["attributes"]["label_printed_by"] == "tests-admin"
    entry = after["history"]["nodes"][0]
    assert (entry["action"], entry["reason"]) == ("updated", "label printed")
    assert {c["field"] for c in entry["changes"]} == {"attributes.label_printed_at",
                                                      "attributes.label_printed_by"}
    assert "Label printed" in live.client.get(f"/a/{LATIN_TAG}", params={"lang": "en"}).text


@pytest.mark.parametrize("how", ["body", "query"])
def test_a_batch_can_leave_printing_unrecorded(live: LiveServer, estate: Estate,
                                               how: str) -> None:
    body: dict[str, Any] = {"ids": [estate.server]}
    params = {"record": "false"} if how == "query" else {}
    if how == "body":
        body["record"] = False
    r = live.client.post("/labels", json=body, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["x-labels-recorded"] == "0"
    assert "label_printed_at" not in attributes(live, LATIN_TAG)["attributes"]


def test_filter_never_printed_as_zpl_then_nothing_is_left(live: LiveServer,
                                                          estate: Estate) -> None:
    query = {"filter": {"class": "Hardware"}, "neverPrinted": True, "format": "zpl",
             "dpi": 300}
    r = live.client.post("/labels", json=query)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert (r.headers["x-label-count"], r.headers["x-labels-untagged"]) == ("3", "1")
    assert r.text.count("^XA") == 3
    assert page_url(CHINESE_TAG) in r.text
    again = live.client.post("/labels", json=query)
    assert again.status_code == 404
    assert again.json()["code"] == "NOT_FOUND"


def test_zpl_for_one_label(live: LiveServer, estate: Estate) -> None:
    r = live.client.get(f"/labels/{LATIN_TAG}.zpl", params={"dpi": 300})
    assert r.status_code == 200, r.text
    assert r.text.startswith("^XA")
    assert r.text.rstrip().endswith("^XZ")
    assert f"^FDQA,{page_url(LATIN_TAG)}^FS" in r.text
    assert "^PW610" in r.text, "50.8 mm at 300 dpi (12 dots/mm)"


@pytest.mark.parametrize(("method", "url", "body", "status", "code"), [
    ("GET", "/labels/NOPE-1.png", None, 404, "NOT_FOUND"),
    ("GET", f"/labels/{LATIN_TAG}.jpg", None, 404, "NOT_FOUND"),
    ("GET", f"/labels/{LATIN_TAG}.png?template=no-such-stock", None, 400,
     "TEMPLATE_NOT_FOUND"),
    ("GET", f"/labels/{LATIN_TAG}.zpl?dpi=600", None, 400, "LABEL_OPTION_INVALID"),
    ("GET", f"/labels/{LATIN_TAG}.png?dpi=high", None, 400, "VALIDATION_ERROR"),
    ("POST", "/labels", {"assetTags": [LATIN_TAG, "NOPE-2"]}, 404, "NOT_FOUND"),
    ("POST", "/labels", {"assetTags": [LATIN_TAG], "filter": {}}, 400, "VALIDATION_ERROR"),
    ("POST", "/labels", {}, 400, "VALIDATION_ERROR"),
    ("POST", "/labels", {"assetTags": [LATIN_TAG], "colour": "red"}, 400, "VALIDATION_ERROR"),
    ("POST", "/labels", {"filter": {"class": "Nope"}}, 400, "UNKNOWN_CLASS"),
    ("POST", "/labels", {"ids": [], "format": "docx"}, 400, "VALIDATION_ERROR"),
    ("POST", "/labels", {"assetTags": [LATIN_TAG], "startOffset": 21}, 400,
     "LABEL_OPTION_INVALID"),
])
def test_errors_are_coded_json(live: LiveServer, estate: Estate, method: str, url: str,
                               body: Any, status: int, code: str) -> None:
    r = live.client.request(method, url, json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["code"] == code
    if url == "/labels" and status == 404:
        assert r.json()["details"]["missing"] == ["NOPE-2"]
    assert "label_printed_at" not in attributes(live, LATIN_TAG)["attributes"]


def test_a_body_that_is_not_json_is_refused(live: LiveServer, estate: Estate) -> None:
    r = live.client.post("/labels", content=b"\xff{not json",
                         headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "VALIDATION_ERROR"
    big = live.client.post("/labels", content=b"[" + b" " * 1_100_000 + b"]")
    assert big.status_code == 400
    assert big.json()["code"] == "LIMIT_EXCEEDED"


def test_a_tag_with_a_slash_is_refused_but_an_old_one_still_round_trips(
        live: LiveServer, estate: Estate) -> None:
    """Asset tags may no longer hold '/' (they are URL path segments); a CI registered
    with one before keeps a working label and page."""
    error = live.error("""mutation($id: ID!) { updateCI(id: $id, expectedVersion: 1,
               input: {assetTag: "BJ/IT/0007"}) { assetTag } }""", {"id": estate.vm})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "asset_tag"}
    assert "not '/'" in error["message"]
    tag = "BJ/IT/0007"
    legacy(live, estate.vm, tag)
    r = live.client.get(f"/labels/{tag}.png")
    assert r.status_code == 200, r.text
    (payload,) = decode(Image.open(io.BytesIO(r.content)))
    assert payload == f"{BASE}/a/BJ%2FIT%2F0007"
    page = live.client.get(urlsplit(payload).path)
    assert page.status_code == 200
    assert unquote(urlsplit(payload).path) == f"/a/{tag}"
