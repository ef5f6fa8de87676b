"""Every HTML answer is a template: no markup is written in code, and errors answer a
browser with a page (in its language, under the CSP, internals masked) and other
clients with coded JSON."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import httpx
import pytest

from cmdb.api.web.html import TEMPLATES, segment
from tests.api.conftest import LiveServer
from tests.api.signin import HTML

PACKAGE = TEMPLATES.parents[1]  # cmdb/ (templates live in cmdb/api/templates)
TAG = re.compile(r"<\s*/?\s*(html|head|body|form|input|p|div|span|a|script|style|meta|h[1-6]|"
                 r"table|tr|td|ul|li|br|img|iframe|button|select|option|textarea|label|title|"
                 r"link|article|section|main|footer|code|strong|em|b|i)\b[^<]*>", re.IGNORECASE)


def strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """The string constants of a module, docstrings left out."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value,
                                                                     ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings):
            yield node.lineno, node.value


def test_no_markup_is_written_in_code() -> None:
    """HTML comes from the templates only: no string in the package holds a tag, and only
    the renderer makes HTML answers."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        found += [f"{path.relative_to(PACKAGE)}:{line}: {value[:60]!r}"
                  for line, value in strings(tree) if TAG.search(value)]
        if path.name != "html.py":
            assert "HTMLResponse" not in text, f"{path}: render a template (cmdb.api.web.html)"
    assert not found, "markup built in code (use a template):\n" + "\n".join(found)


def test_the_check_sees_markup() -> None:
    tree = ast.parse('"""<p>doc</p>"""\nx = f"<p>{name}</p>"\ny = "<form method=post>"')
    assert sum(bool(TAG.search(value)) for _, value in strings(tree)) == 3


@pytest.mark.parametrize(("value", "expected"), [
    ("ZC-0001", "ZC-0001"), ("a/b", "a%2Fb"), ("..", "%2E%2E"), (".", "%2E"),
    ("a.b", "a.b"), ("资产 1?#%", "%E8%B5%84%E4%BA%A7%201%3F%23%25")])
def test_a_value_in_a_link_stays_one_path_segment(value: str, expected: str) -> None:
    assert segment(value) == expected


def test_errors_answer_browsers_with_a_page_and_clients_with_json(live: LiveServer) -> None:
    page = live.client.get("/no/such/page", headers={**HTML, "Accept-Language": "zh-CN"})
    assert page.status_code == 404
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "未找到" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    api = live.client.get("/no/such/page")
    assert api.status_code == 404
    assert api.json() == {"code": "NOT_FOUND", "message": "Not Found"}
    wrong = live.client.post("/healthz", headers=HTML)
    assert wrong.status_code == 405
    assert "Not allowed" in wrong.text
    assert wrong.headers["allow"]
    assert live.client.post("/healthz").json()["code"] == "METHOD_NOT_ALLOWED"


def test_an_internal_error_is_a_masked_page(live: LiveServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(tag: str) -> None:
        raise RuntimeError("secret internals: /srv/cmdb/db.sqlite3")

    monkeypatch.setattr(live.app.state.cmdb.store, "find_ci_by_asset_tag", broken)
    page = live.client.get("/a/ZC-1", headers=HTML)
    assert page.status_code == 500
    assert "Something went wrong" in page.text
    assert "secret internals" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    # the server closes a connection whose request failed: a new one, as a client would
    api = httpx.get(f"{live.url}/a/ZC-1", headers=live.auth_headers)
    assert api.status_code == 500
    assert api.json() == {"code": "INTERNAL", "message": "Internal server error"}
