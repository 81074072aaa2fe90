"""Routes of the catalog service (filled in by its issue)."""
from nameko.rpc import RpcProxy


class CatalogRoutes:
    catalog = RpcProxy("catalog")
