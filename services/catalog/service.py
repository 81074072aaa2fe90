"""The catalog service: a placeholder that answers health checks until its issue is built."""
from kit.service import ServiceBase


class CatalogService(ServiceBase):
    name = "catalog"
