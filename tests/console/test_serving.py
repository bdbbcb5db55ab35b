"""How the console is served: public files, client routes, caching, security headers on every answer,
a single vendored graphql-ws with its licence, no inline script or style, no HTML parsing of text."""

from __future__ import annotations

import re

import httpx
import pytest

from app.console.assets import STATIC_ROOT, load_assets

CLIENT_ROUTES = ["/console", "/console/", "/console/approve/act_0000000000000000000000",
                 "/console/activity", "/console/webhooks", "/console/executions", "/console/no/such/view"]
FILES = sorted(f"/console/{path}" for path in load_assets())
EXPECTED_CSP = {
    "default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self'",
    "connect-src": "'self'", "frame-ancestors": "'none'", "form-action": "'none'", "base-uri": "'none'",
}


def assert_secure(response: httpx.Response) -> None:
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy == EXPECTED_CSP, policy
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", CLIENT_ROUTES + FILES + ["/console/missing.js", "/console/js/nope.js"])
async def test_every_console_answer_carries_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)  # no API key: the files are public, the data is not
    assert_secure(response)
    if path.endswith(".js") and path.removeprefix("/console/") not in load_assets():
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert response.headers["etag"] and response.headers["cache-control"]
    revalidated = await client.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert_secure(revalidated)


async def test_client_routes_answer_the_page_and_files_their_type(client: httpx.AsyncClient) -> None:
    index = (STATIC_ROOT / "index.html").read_bytes()
    for path in CLIENT_ROUTES:
        response = await client.get(path)
        assert response.content == index and response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
    script = await client.get("/console/js/app.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    vendored = await client.get("/console/vendor/graphql-ws-6.4.2.js")
    assert vendored.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (await client.get("/console/console.css")).headers["content-type"] == "text/css; charset=utf-8"


def test_graphql_ws_is_vendored_as_one_file_with_its_licence() -> None:
    vendor = sorted(path.name for path in (STATIC_ROOT / "vendor").iterdir())
    assert vendor == ["graphql-ws-6.4.2.LICENSE.md", "graphql-ws-6.4.2.js"]
    source = (STATIC_ROOT / "vendor" / "graphql-ws-6.4.2.js").read_text()
    assert "import " not in source.split("\n", 3)[-1][:2000] and re.search(r"^export \{.*createClient", source, re.M)
    assert "MIT License" in (STATIC_ROOT / "vendor" / "graphql-ws-6.4.2.LICENSE.md").read_text()


def test_no_inline_script_or_style_and_no_html_parsing_of_text() -> None:
    html = (STATIC_ROOT / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [] and " style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)
    for module in (STATIC_ROOT / "js").glob("*.js"):
        source = module.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                     ".style", "localStorage", "document.cookie"):
            assert sink not in source, f"{module.name} uses {sink}"
    assert {path.name for path in (STATIC_ROOT / "js").glob("*.js")} >= {
        "app.js", "graphql.js", "render.js", "pending.js", "action.js", "activity.js", "deliveries.js", "executions.js"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["/console", "/console/", "/console/approve/act_0000000000000000000000",
                                  "/console/js/app.js"])
async def test_other_methods_are_refused_with_the_security_headers(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    """A 405 on a console path is a console response too: same headers, the error contract's JSON."""
    response = await client.request(method, path)
    assert response.status_code == 405
    assert_secure(response)
    assert response.json() == {"error": "METHOD_NOT_ALLOWED", "message": "Method Not Allowed"}
