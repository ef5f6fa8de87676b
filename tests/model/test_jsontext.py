"""JSON text and response bodies: orjson where it can, the standard library where it cannot."""

from __future__ import annotations

import json

from cmdb.model import jsontext


def test_response_bytes_keep_chinese_and_fall_back_for_huge_integers() -> None:
    body = {"data": {"name": "核心交换机", "n": 1, "ok": True, "none": None}}
    assert jsontext.dumps_bytes(body) == json.dumps(
        body, ensure_ascii=False, separators=(",", ":")).encode()
    huge = {"serial": 2**70}
    assert json.loads(jsontext.dumps_bytes(huge)) == huge
