"""Reading configuration: only from a nameko container's config, never at import time."""
import os
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DATABASE_URL = "sqlite:///var/{service}.db"


def service_database_url(url, service):
    """The database of one service, derived from the system-wide ``DATABASE_URL``.

    ``{service}`` in the URL is replaced by the service name; otherwise each
    service gets its own database beside the named one: ``…/khademyar`` becomes
    ``…/khademyar_membership`` on PostgreSQL, ``var/x.db`` becomes ``var/x_membership.db``
    on SQLite.
    """
    url = url or DEFAULT_DATABASE_URL
    if "{service}" in url:
        return url.replace("{service}", service)
    if url.startswith("sqlite"):
        root, ext = os.path.splitext(url)
        return f"{root}_{service}{ext or '.db'}"
    parts = urlsplit(url)
    path = parts.path.rstrip("/") or "/khademyar"
    return urlunsplit(parts._replace(path=f"{path}_{service}"))
