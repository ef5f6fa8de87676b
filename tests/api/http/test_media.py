"""Media types read as RFC 9110 writes them: any letter case, parameters, quoted values."""

from __future__ import annotations

import pytest

from cmdb.api.web.media import parse_media_type


@pytest.mark.parametrize(("value", "essence", "params"), [
    ("multipart/form-data; boundary=x", "multipart/form-data", {"boundary": "x"}),
    ("Multipart/Form-Data; Boundary=AbC", "multipart/form-data", {"boundary": "AbC"}),
    ("MULTIPART/FORM-DATA;boundary=\"a b\\\"c\"", "multipart/form-data",
     {"boundary": 'a b"c'}),
    ("application/json", "application/json", {}),
    ("Application/JSON ; Charset=\"UTF-8\"", "application/json", {"charset": "utf-8"}),
    ("application/x-www-form-urlencoded;;charset=utf-8;", "application/x-www-form-urlencoded",
     {"charset": "utf-8"}),
    ("text/html \t; q=1", "text/html", {"q": "1"}),
    ("a/b; x=1; X=1", "a/b", {"x": "1"}),
])
def test_media_types_parse(value: str, essence: str, params: dict[str, str]) -> None:
    media = parse_media_type(value)
    assert media is not None
    assert media.essence == essence
    assert dict(media.params) == params


@pytest.mark.parametrize("value", [
    None, "", "json", "multipart", "multipart/", "/form-data", "multipart/form data",
    "multipart/form-data; boundary", "multipart/form-data; boundary=\"open",
    "a/b; x=1; x=2", "text/plain; =x", "multipart/form-data, text/plain", "x" * 2000 + "/y",
])
def test_what_is_not_a_media_type(value: str | None) -> None:
    assert parse_media_type(value) is None
