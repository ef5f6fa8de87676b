"""The asset tag syntax: what real registers use is accepted, what breaks a URL is not."""

from __future__ import annotations

import pytest

from cmdb.errors import ValidationError
from cmdb.model.identifiers import check_asset_tag, tag_problem


@pytest.mark.parametrize("tag", [
    "ZC-00002", "资产-2019-0012", "IT#4711", "PC 12.3", "ＺＣ－０１", "BJ_SRV.01", "A:1+2",
    "备(1)-07", "#0012", "ZC—01", "Ⅻ-7", "x" * 64,
])
def test_real_register_tags_are_accepted(tag: str) -> None:
    assert tag_problem(tag) is None
    assert check_asset_tag(tag) == tag


@pytest.mark.parametrize(("tag", "why"), [
    ("../../graphql", "'..'"),
    ("a/b", "not '/'"),
    ("a\\b", "not '\\\\'"),
    (".hidden", "starts with a letter, a digit or '#'"),
    ("-1", "starts with a letter, a digit or '#'"),
    ("tab\there", "U+0009"),
    ("line\nbreak", "U+000A"),
    ("nul\x00", "U+0000"),
    ("lone\ud800", "U+D800"),
    (" padded", "start or end with a space"),
    ("two  spaces", "two spaces"),
    ("a?b", "not '?'"),
    ("a%2Fb", "not '%'"),
    ("<b>", "not '<'"),
    ("x" * 65, "at most 64 characters"),
    ("", "must not be empty"),
])
def test_tags_that_break_urls_are_refused_with_the_reason(tag: str, why: str) -> None:
    problem = tag_problem(tag)
    assert problem is not None
    assert why in problem
    with pytest.raises(ValidationError) as info:
        check_asset_tag(tag)
    assert info.value.details["field"] == "asset_tag"
