"""The gateway serves the web client: the page, its files with their content types and caching, nothing else.

These speak HTTP only (no browser), so they run wherever the system runs.
"""
import http.client
import re
from urllib.parse import urlsplit

import pytest

from gateway.routes.web import Files

pytestmark = pytest.mark.timeout(60)


def raw_get(system, path, headers=None):
    """A GET with the path sent exactly as written (no client-side clean-up of '..' or '%2e')."""
    host = urlsplit(system.url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_the_page_is_persian_right_to_left_and_names_versioned_files(system):
    status, headers, body = raw_get(system, "/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert '<html lang="fa" dir="rtl">' in page
    assert headers["cache-control"] == "no-cache" and headers["etag"]
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    # nothing comes from another site: every src/href is our own
    assert not re.search(r'(src|href)="(https?:)?//', page)
    version = re.search(r'/static/(v-[0-9a-f]{12})/js/main\.js', page).group(1)
    status, headers, _ = raw_get(system, f"/static/{version}/js/main.js")
    assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"
    # revalidation of the page answers 304
    etag = raw_get(system, "/")[1]["etag"]
    assert raw_get(system, "/", {"If-None-Match": etag})[0] == 304


@pytest.mark.parametrize("path, content_type", [
    ("/static/js/main.js", "text/javascript; charset=utf-8"),
    ("/static/js/core/jalali.js", "text/javascript; charset=utf-8"),
    ("/static/app.css", "text/css; charset=utf-8"),
    ("/static/fonts/vazirmatn-33.0.3.woff2", "font/woff2"),
    ("/static/fonts/OFL.txt", "text/plain; charset=utf-8"),
    ("/static/icon.svg", "image/svg+xml"),
])
def test_files_have_their_content_type_and_are_revalidated(system, path, content_type):
    status, headers, body = raw_get(system, path)
    assert status == 200 and headers["content-type"] == content_type and body
    assert headers["cache-control"] == "no-cache"  # without the version segment: always asked again
    assert raw_get(system, path, {"If-None-Match": headers["etag"]})[0] == 304


def test_an_old_version_is_not_cached_for_a_year(system):
    status, headers, _ = raw_get(system, "/static/v-000000000000/app.css")
    assert status == 200 and headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", [
    "/static/../gateway/service.py",
    "/static/..%2fgateway%2fservice.py",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/js/../../index.html",
    "/static/js/..%2F..%2F..%2Fpyproject.toml",
    "/static//etc/passwd",
    "/static/%2Fetc%2Fpasswd",
    "/static/v-000000000000/../../config.yml",
    "/static/js",
    "/static/missing.js",
    "/static/.hidden.js",
    "/static/js/main.js%00.css",
    "/static/..\\..\\config.yml",
])
def test_nothing_outside_the_static_folder_is_served(system, path):
    status, headers, body = raw_get(system, path)
    if status == 308:
        # werkzeug answers a double slash with a redirect, which the gateway's WSGI app turns into a problem
        # (without a Location): nothing is served either way
        assert headers["content-type"] == "application/problem+json", (path, body[:200])
        return
    assert status == 404, (path, status, body[:200])
    assert b"JWT_SECRET" not in body and b"import" not in body


def test_resolve_refuses_traversal_symlinks_and_hidden_files(tmp_path):
    root = tmp_path / "web"
    (root / "static").mkdir(parents=True)
    (root / "static" / "ok.js").write_text("export {};")
    (root / "static" / ".env").write_text("secret")
    (tmp_path / "outside.js").write_text("secret")
    (root / "static" / "link.js").symlink_to(tmp_path / "outside.js")
    files = Files(str(root))
    assert files.resolve("static/ok.js") == str(root / "static" / "ok.js")
    for bad in ["static/../../outside.js", "../outside.js", "static/link.js", "static/.env", "/etc/passwd", "",
                "static/", "static\\ok.js", "static/ok.js\x00"]:
        assert files.resolve(bad) is None, bad


def test_web_routes_are_not_api_routes(system):
    from gateway.openapi import document
    paths = document()["paths"]
    assert "/" not in paths and not any(p.startswith("/static") for p in paths)
    # the API's own unknown paths still answer as problems, not as the page
    status, headers, _ = raw_get(system, "/api/v1/nothing-here")
    assert status == 404 and headers["content-type"] == "application/problem+json"
