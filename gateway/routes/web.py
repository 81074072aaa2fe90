"""The web client's files: ``GET /`` (the page) and ``GET /static/<path>`` (modules, styles, the font).

The client is plain ES modules with no build step (see docs/web.md). Its files live in ``web/`` at the project
root (``WEB_ROOT`` in the config to serve another folder). These are not API routes: they use their own small
entrypoint, so they stay out of the OpenAPI document, and share the gateway's web server.

Caching: the page is always revalidated (``no-cache`` with an ETag), and it names its files under a version
segment, ``/static/v-<digest of web/>/js/main.js``; relative imports inside the modules inherit the segment, so
every file of one release has a URL of its own and is cached for a year. A file asked for without the segment,
or under a version that is no longer current, is served with ``no-cache`` instead.
"""
import hashlib
import logging
import os
import re
import time

from nameko.dependency_providers import Config
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Response

from gateway.errors import language, problem
from gateway.http import ProblemWebServer
from kit import metrics

log = logging.getLogger("gateway.web")

DEFAULT_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "web")
YEAR = 365 * 24 * 3600
VERSIONED = re.compile(r"^v-([0-9a-f]{12})/(.*)$")
VERSION_MARK = "{{version}}"

# Only these kinds of file are served; anything else under web/ is a 404.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}

# The page may load only its own files and talk only to its own origin.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class WebRoute(HttpRequestHandler):
    """A GET of the web client; served by the same server as the API (its problems for unknown paths)."""

    server = ProblemWebServer()

    def handle_request(self, request):
        started = time.perf_counter()
        response = super().handle_request(request)
        for name, value in COMMON_HEADERS.items():
            response.headers.setdefault(name, value)
        metrics.HTTP_REQUESTS.labels(self.method, self.url, str(response.status_code)).inc()
        metrics.HTTP_DURATION.labels(self.method, self.url).observe(time.perf_counter() - started)
        return response

    def response_from_exception(self, exc):
        log.error("web file failed: %r", exc, exc_info=exc)
        return problem(500, "internal_error")


web = WebRoute.decorator


class Files:
    """The files of one root, with their digests; re-read when a file's size or mtime changes."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self._digests = {}  # path -> ((mtime, size), etag)
        self._version = (None, None, 0.0)  # (listing, version, when computed)

    def resolve(self, relative):
        """The real path of ``relative`` inside the root, or None (traversal, hidden, missing, not a file)."""
        if not relative or "\\" in relative or "\x00" in relative:
            return None
        parts = relative.split("/")  # as asked: a '..', '.', empty or hidden segment anywhere is refused
        if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            return None
        path = os.path.realpath(os.path.join(self.root, *parts))
        if os.path.commonpath([path, self.root]) != self.root or not os.path.isfile(path):
            return None
        return path

    def etag(self, path):
        stat = os.stat(path)
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._digests.get(path)
        if cached is None or cached[0] != key:
            with open(path, "rb") as f:
                cached = (key, hashlib.sha256(f.read()).hexdigest()[:32])
            self._digests[path] = cached
        return cached[1]

    def version(self):
        """A digest of every servable file: it changes whenever any of them does (looked at once a second)."""
        if time.monotonic() - self._version[2] < 1.0:
            return self._version[1]
        listing = []
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if not name.startswith(".") and os.path.splitext(name)[1] in CONTENT_TYPES:
                    path = os.path.join(folder, name)
                    listing.append((os.path.relpath(path, self.root), self.etag(path)))
        key = tuple(listing)
        version = self._version[1] if self._version[0] == key else hashlib.sha256(repr(key).encode()).hexdigest()[:12]
        self._version = (key, version, time.monotonic())
        return version


_files = {}


def files_of(root):
    if root not in _files:
        _files[root] = Files(root)
    return _files[root]


def _file_response(request, path, cache_control, etag, body=None):
    headers = {"Cache-Control": cache_control, "ETag": f'"{etag}"'}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    if body is None:
        with open(path, "rb") as f:
            body = f.read()
    ctype = CONTENT_TYPES[os.path.splitext(path)[1]]
    return Response(body, status=200, headers=dict(headers, **{"Content-Type": ctype}))


def _not_found(request):
    return problem(404, "file_not_found", language(request), instance=request.path)


class WebRoutes:
    """``GET /`` and ``GET /static/<path>``: the web client (کلاینت وب)."""

    config = Config()

    def _web_files(self):
        return files_of(self.config.get("WEB_ROOT") or DEFAULT_ROOT)

    @web("GET", "/")
    def web_index(self, request):
        files = self._web_files()
        path = files.resolve("index.html")
        if path is None:
            return _not_found(request)
        version = files.version()
        with open(path, "rb") as f:
            body = f.read().replace(VERSION_MARK.encode(), f"v-{version}".encode())
        # the page's ETag covers every file it names, so a new release is never answered with 304
        response = _file_response(request, path, "no-cache", f"{version}-{files.etag(path)[:8]}", body)
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @web("GET", "/static/<path:path>")
    def web_static(self, request, path):
        files = self._web_files()
        cache = "no-cache"
        versioned = VERSIONED.match(path)
        if versioned:
            path = versioned.group(2)
            if versioned.group(1) == files.version():
                cache = f"public, max-age={YEAR}, immutable"
        found = files.resolve("static/" + path)
        if found is None or os.path.splitext(found)[1] not in CONTENT_TYPES:
            return _not_found(request)
        return _file_response(request, found, cache, files.etag(found))
