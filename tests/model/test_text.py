"""Free-text bounds: length, NUL and control characters, lone surrogates."""

from __future__ import annotations

import pytest

from cmdb.errors import ValidationError
from cmdb.model.text import REASON, check_text


def test_text_within_bounds_passes_unchanged() -> None:
    assert check_text("核对后保留\n第二行", "reason", REASON) == "核对后保留\n第二行"
    assert check_text(None, "reason", REASON) is None
    assert check_text("x" * REASON, "reason", REASON) == "x" * REASON


@pytest.mark.parametrize(("value", "single_line", "message"), [
    ("x" * (REASON + 1), False, f"reason: at most {REASON} characters (2001 given)"),
    ("a\x00b", False, "control character (U+0000) at position 2"),
    ("a\ud800b", False, "a lone UTF-16 surrogate (not valid Unicode) at position 2"),
    ("two\nlines", True, "control character (U+000A) at position 4"),
])
def test_bad_text_is_refused_naming_the_field(value: str, single_line: bool,
                                               message: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_text(value, "reason", REASON, single_line=single_line)
    assert message in info.value.message
    assert info.value.details["field"] == "reason"
